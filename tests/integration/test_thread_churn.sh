#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# thread_churn: 1,000 short-lived threads (tests/programs/thread_churn.c), whose tids Linux
# reuses, each become a goroutine of their own with a fresh id that starts and ends; P ids are
# reused so the viewer keeps a few rows; Go 1.19 and a newer Go accept the trace and their
# goroutine pages work. Then 300 threads that end in turn by returning, by pthread_exit and by
# cancellation, under CPU sampling at 1 kHz: each has its exit in the trace and its goroutine
# ends; the trace still converts and Go 1.19 accepts it.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/thread_churn

require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" "$prog" 1000 >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
trace=$IT_TMP/rec/trace.out
grep -q 'execution trace: 1001 threads' "$IT_TMP/record.out" ||
    soft_fail "the summary does not count 1001 threads"
run_limited 120 go tool trace -d "$trace" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
"${GTCHECK[@]}" churn "$IT_TMP/events.txt" 1000 40 || soft_fail "goroutines and Ps"
gt_http_check go "$trace" "$IT_TMP" / /goroutines /jsontrace '/sched?raw=1' ||
    soft_fail "Go 1.19 trace viewer"
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    run_limited 120 "$newgo" tool trace -d=parsed "$trace" >/dev/null 2>"$IT_TMP/p.err" ||
        { cat "$IT_TMP/p.err"; soft_fail "the newer go tool trace rejects the trace"; }
    gt_http_check "$newgo" "$trace" "$IT_TMP" / /goroutines '/jsontrace?view=thread' ||
        soft_fail "newer trace viewer"
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi

# ASan's runtime fails an internal CHECK when a cancelled thread unwinds into the trampoline's
# cleanup handler (as in thread_exit_by_cancel, tests/tracer/CMakeLists.txt): there the threads
# end by pthread_exit only.
ways=mixed
[ "$LTPROF_SANITIZER" != address ] || ways=exit
step "300 threads ending by $ways (mixed: return, pthread_exit and cancellation), sampled at 1 kHz"
LTPROF_CPU_HZ=1000 ltprof_record "$IT_TMP/mixed" "$prog" 300 "$ways" >"$IT_TMP/mixed.out"
grep -q 'execution trace: 301 threads' "$IT_TMP/mixed.out" ||
    soft_fail "the summary does not count 301 threads: $(grep 'execution trace' "$IT_TMP/mixed.out")"
exits=$(trace_event_counts "$IT_TMP/mixed/ctf" | awk '$2 == "ltprof:thread_exit" {print $1}')
echo "thread_exit events: ${exits:-0}"
[ "${exits:-0}" = 300 ] || soft_fail "$exits thread exits written for 300 threads"
run_limited 120 go tool trace -d "$IT_TMP/mixed/trace.out" >"$IT_TMP/mixed.txt" 2>"$IT_TMP/m.err" ||
    { cat "$IT_TMP/m.err"; soft_fail "go tool trace -d rejects the mixed-exit trace"; }
"${GTCHECK[@]}" churn "$IT_TMP/mixed.txt" 300 40 || soft_fail "mixed exits: goroutines and Ps"
it_finish
