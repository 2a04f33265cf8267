#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# thread_churn: 1,000 short-lived threads (tests/programs/thread_churn.c), whose tids Linux
# reuses, each become a goroutine of their own with a fresh id that starts and ends; P ids are
# reused so the viewer keeps a few rows; Go 1.19 and a newer Go accept the trace and their
# goroutine pages work.
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
it_finish
