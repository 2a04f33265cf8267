#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# linked_mode: a program linked with -lltprof profiles itself: (1) under `ltprof record` (which
# preloads the library anyway) and (2) by hand, in a session made with the lttng CLI, run
# WITHOUT LD_PRELOAD, then `ltprof convert`. Both profiles must show the linked_* chain.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/linked

require_built
ensure_sessiond
ldd "$prog" | grep 'libltprof\.so' >/dev/null || fail "$prog is not linked with libltprof.so"

check_linked() {
    pprof_text "$GO" "$1/raw.txt" -symbolize=none -raw "$1/cpu.pb.gz"
    "${CHECK[@]}" check-raw "$1/raw.txt" --program linked --file linked.c --min-samples 60 \
        --func linked_burn --func linked_middle --func linked_outer --func main ||
        soft_fail "profile checks ($2)"
}

ltprof_record "$IT_TMP/rec" "$prog"
check_linked "$IT_TMP/rec" "ltprof record"

step "by hand: lttng CLI session, no LD_PRELOAD"
new_session linked "$IT_TMP/trace"
s=$SESSION
lttng enable-event -u -s "$s" 'ltprof:*' >/dev/null || fail "enable-event ltprof:*"
lttng enable-event -u -s "$s" 'lttng_ust_statedump:*' >/dev/null || fail "enable-event statedump"
lttng add-context -u -s "$s" -t vpid -t vtid >/dev/null || fail "add-context"
rc=0
run_tracked "$s" env -u LD_PRELOAD "$prog" >"$IT_TMP/linked.out" || rc=$?
cat "$IT_TMP/linked.out"
[ "$rc" -eq 0 ] || fail "linked exited with $rc"
grep -q 'cpu engine none' "$IT_TMP/linked.out" && soft_fail "ltprof_cpu_engine() says none"
lttng stop "$s" >/dev/null
lttng destroy "$s" >/dev/null
trace_event_counts "$IT_TMP/trace"
rc=0
run_limited 60 "$LTPROF_BIN" convert "$IT_TMP/trace" -o "$IT_TMP/conv" || rc=$?
[ "$rc" -eq 0 ] || fail "ltprof convert exited with $rc"
check_linked "$IT_TMP/conv" "lttng CLI + ltprof convert"
it_finish
