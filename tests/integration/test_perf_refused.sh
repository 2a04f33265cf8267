#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# perf_refused: where perf_event_open is refused (seccomp, as in containers), the default
# engine falls back to timer_create by itself: samples still arrive from every thread, the
# trace and `ltprof record` name the timer engine, and stacks stay complete. The execution trace
# still works from the user-level events alone, and says so (summary and a log in the trace).
source "$(dirname "$0")/lib.sh"

require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" "$LTPROF_PROGRAMS/no_perf" "$LTPROF_PROGRAMS/stacks_nofp" \
    >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
grep -q 'engine timer_create' "$IT_TMP/record.out" ||
    soft_fail "ltprof record does not report the timer_create engine"

step "the trace names the engine"
babeltrace2 "$IT_TMP/rec/ctf" | grep 'ltprof:process_info' >"$IT_TMP/info.txt" ||
    fail "no ltprof:process_info in the trace"
if grep -v 'cpu_engine = "timer_create"' "$IT_TMP/info.txt" | grep 'stacks_nofp' >/dev/null; then
    soft_fail "a process_info of stacks_nofp names another engine"
fi
grep -q 'cpu_engine = "timer_create"' "$IT_TMP/info.txt" || soft_fail "no timer_create in the trace"

step "samples from every thread, complete stacks"
pprof_text "$GO" "$IT_TMP/raw.txt" -symbolize=none -raw "$IT_TMP/rec/cpu.pb.gz"
"${CHECK[@]}" check-raw "$IT_TMP/raw.txt" --program stacks_nofp --file stacks.c \
    --min-samples 100 --func leaf_spin --func main || soft_fail "profile checks"
for t in worker-1 worker-2 worker-3; do
    grep -q "thread:\[$t\]" "$IT_TMP/raw.txt" || soft_fail "no samples from thread $t"
done
grep -q '100.0% of stacks complete' "$IT_TMP/record.out" || soft_fail "stacks not all complete"

step "the execution trace without context switches"
grep -q 'no context switches (perf_event_open refused context-switch records' "$IT_TMP/record.out" ||
    soft_fail "ltprof record does not say that context switches were refused"
run_limited 120 go tool trace -d "$IT_TMP/rec/trace.out" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
grep -q 'UserLog .* category=ltprof message=process [0-9]*: no context switches' "$IT_TMP/events.txt" ||
    soft_fail "the trace does not say that it has no context switches"
"${GTCHECK[@]}" events "$IT_TMP/events.txt" GoCreate=4 GoEnd=3 CPUSample=50 ||
    soft_fail "threads and samples in the trace"
for t in worker-1 worker-2 worker-3; do
    grep -q "label=$t\$" "$IT_TMP/events.txt" || soft_fail "no goroutine runs as $t"
done
it_finish
