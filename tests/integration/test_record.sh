#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# record_c_nofp / record_c_fp / record_cpp: `ltprof record -- PROGRAM`, then real `go tool pprof`
# (-raw, -top, -traces) must read the profile: header, labels, names, files, lines, inline frames,
# build id, and >= 95% complete stacks. Usage: test_record.sh PROGRAM (stacks_fp|stacks_nofp|
# stacks_cpp) KIND (c|cpp).
source "$(dirname "$0")/lib.sh"
prog=$1 kind=$2

require_built
ensure_sessiond
ltprof_record "$IT_TMP/out" "$LTPROF_PROGRAMS/$prog"

step "events in the CTF trace"
trace_event_counts "$IT_TMP/out/ctf" | tee "$IT_TMP/events.txt"
grep -q ' ltprof:cpu_sample$' "$IT_TMP/events.txt" || soft_fail "no ltprof:cpu_sample events"
grep -q ' lttng_ust_statedump:bin_info$' "$IT_TMP/events.txt" || soft_fail "no statedump bin_info"
npids=$(run_limited 60 babeltrace2 "$IT_TMP/out/ctf" 2>/dev/null | grep ' ltprof:' |
        sed -n 's/.*vpid = \([0-9]*\).*/\1/p' | sort -u | wc -l)
echo "distinct vpids among ltprof events: $npids"
[ "$npids" -eq 1 ] ||
    soft_fail "ltprof events of $npids processes (the vpid tracker should keep one)"

check_stacks_profile "$GO" "$IT_TMP/out/cpu.pb.gz" "$prog" "$kind"

step "ltprof top"
rc=0
run_limited 60 "$LTPROF_BIN" top "$IT_TMP/out/cpu.pb.gz" -n 10 >"$IT_TMP/top.txt" || rc=$?
cat "$IT_TMP/top.txt"
[ "$rc" -eq 0 ] || soft_fail "ltprof top exited with $rc"
if [ "$kind" = c ]; then want=cmp_burn; else want=ltprof_test::; fi
grep -q "$want" "$IT_TMP/top.txt" || soft_fail "ltprof top shows no $want function"
it_finish
