#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# manual_lttng_workflow: the README's plain LTTng workflow (lttng create/enable-event/
# add-context/start, LD_PRELOAD=libltprof.so, stop/destroy), then both converters, `ltprof
# convert` and babeltrace2 with sink.ltprof.pprof, must give valid profiles with the same functions.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/stacks_nofp

require_built
ensure_sessiond
step "lttng create / enable-event / add-context / start"
new_session manual "$IT_TMP/trace"
s=$SESSION
lttng enable-event -u -s "$s" 'ltprof:*' >/dev/null || fail "enable-event ltprof:*"
lttng enable-event -u -s "$s" 'lttng_ust_statedump:*' >/dev/null || fail "enable-event statedump"
lttng add-context -u -s "$s" -t vpid -t vtid >/dev/null || fail "add-context"
lttng start "$s" >/dev/null || fail "lttng start"
step "LD_PRELOAD=$LTPROF_LIB $prog"
run_limited 60 env LD_PRELOAD="$LTPROF_LIB" "$prog" || fail "stacks_nofp failed under LD_PRELOAD"
lttng stop "$s" >/dev/null || fail "lttng stop"
lttng destroy "$s" >/dev/null || fail "lttng destroy"
trace_event_counts "$IT_TMP/trace"

step "ltprof convert"
rc=0
run_limited 60 "$LTPROF_BIN" convert "$IT_TMP/trace" -o "$IT_TMP/out" || rc=$?
[ "$rc" -eq 0 ] || fail "ltprof convert exited with $rc"
require_file "$IT_TMP/out/cpu.pb.gz"

step "babeltrace2 convert -c sink.ltprof.pprof"
mkdir -p "$IT_TMP/out2"
rc=0
run_limited 60 babeltrace2 --plugin-path="$LTPROF_PLUGIN_DIR" convert "$IT_TMP/trace" \
    -c sink.ltprof.pprof -p "path=\"$IT_TMP/out2\"" || rc=$?
[ "$rc" -eq 0 ] || fail "babeltrace2 convert exited with $rc"
require_file "$IT_TMP/out2/cpu.pb.gz" "written by sink.ltprof.pprof"
for f in mutex block threadcreate heap allocs; do
    require_file "$IT_TMP/out2/$f.pb.gz" "written by sink.ltprof.pprof"
    cmp "$IT_TMP/out/$f.pb.gz" "$IT_TMP/out2/$f.pb.gz" ||
        soft_fail "$f.pb.gz differs between ltprof convert and sink.ltprof.pprof"
done

for d in out out2; do
    step "go tool pprof on $d/cpu.pb.gz"
    pprof_text "$GO" "$IT_TMP/$d/raw.txt" -symbolize=none -raw "$IT_TMP/$d/cpu.pb.gz"
    pprof_text "$GO" "$IT_TMP/$d/top.txt" -top "$IT_TMP/$d/cpu.pb.gz"
    "${CHECK[@]}" check-raw "$IT_TMP/$d/raw.txt" --program stacks_nofp --file stacks.c \
        --min-samples 100 --thread worker-1 --thread worker-2 --thread worker-3 \
        --func stage_1 --func stage_6 --func leaf_spin --func cmp_burn --func worker_main ||
        soft_fail "profile checks on $d"
    "${CHECK[@]}" funcs "$IT_TMP/$d/raw.txt" >"$IT_TMP/$d/funcs.txt"
done
step "same functions and sample totals from both converters"
head -1 "$IT_TMP/out/funcs.txt" "$IT_TMP/out2/funcs.txt"
echo "functions: $(grep -c '^func' "$IT_TMP/out/funcs.txt") (ltprof convert)" \
     "vs $(grep -c '^func' "$IT_TMP/out2/funcs.txt") (babeltrace2)"
diff "$IT_TMP/out/funcs.txt" "$IT_TMP/out2/funcs.txt" || soft_fail "the two converters disagree"
it_finish
