#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# record_idle: a program that exits before its first CPU sample (sleep) still leaves a trace
# with ltprof:process_info (the schema version) from the library's constructor and exit
# announcement, so `ltprof record` writes a valid, empty profile instead of failing.
# Regression test: the constructor once ran before the provider registered its probes.
source "$(dirname "$0")/lib.sh"

skip_under address "/bin/sleep, not built with ASan, hangs at exit with the ASan libltprof.so (lib.sh, \"Sanitized builds\")"
require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" /bin/sleep 0.2 >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
grep -q 'no CPU samples' "$IT_TMP/record.out" || soft_fail "no note about the empty profile"

step "the trace holds the process announcement from the constructor and from exit"
babeltrace2 "$IT_TMP/rec/ctf" >"$IT_TMP/events.txt" || fail "babeltrace2 cannot read the trace"
n_info=$(grep -c 'ltprof:process_info' "$IT_TMP/events.txt" || true)
n_thread=$(grep -c 'ltprof:thread_info' "$IT_TMP/events.txt" || true)
echo "process_info events: $n_info, thread_info events: $n_thread"
[ "$n_info" -ge 2 ] || soft_fail "expected process_info at start and at exit, got $n_info"
[ "$n_thread" -ge 1 ] || soft_fail "expected a thread_info for the main thread"
grep 'ltprof:thread_info' "$IT_TMP/events.txt" | grep 'name = "sleep"' >/dev/null ||
    soft_fail "the main thread is not named sleep"

step "the empty profile opens in go tool pprof"
pprof_text "$GO" "$IT_TMP/raw.txt" -raw "$IT_TMP/rec/cpu.pb.gz"
grep -q 'PeriodType: cpu nanoseconds' "$IT_TMP/raw.txt" || soft_fail "not a CPU profile"
it_finish
