#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_intervals: a thread that sleeps 50 ms, waits about 30 ms for a mutex and blocks about
# 20 ms in read() (tests/programs/trace_intervals.c measures each itself) shows those intervals
# in the Go execution trace, as Go 1.19's `go tool trace -d` lists them, within 1 ms each, with
# the mutex wait ended by the main thread's unlock.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/trace_intervals

require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" "$prog" >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
truth=$(grep -o 'sleep_ms=.*' "$IT_TMP/record.out") || fail "the program printed no measurements"
run_limited 120 go tool trace -d "$IT_TMP/rec/trace.out" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
"${GTCHECK[@]}" intervals "$IT_TMP/events.txt" timed "$truth" 1.0 || soft_fail "intervals"
it_finish
