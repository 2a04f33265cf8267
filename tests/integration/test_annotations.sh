#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# annotations: the task/region/log API of ltprof/ltprof.h records its events, with the right
# nesting, messages and caller stacks (annotations_check.py, with babeltrace2's Python
# bindings), ltprof_trace_is_enabled() tells whether a session records them, and the Go
# execution trace shows them as Go's user tasks, regions and logs.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/annotate

require_built
ensure_sessiond
step "untraced: the API works and says tracing is off"
"$prog" >"$IT_TMP/plain.out" || fail "annotate failed without a session"
grep -q 'trace enabled: 0' "$IT_TMP/plain.out" || soft_fail "ltprof_trace_is_enabled() is not 0"

ltprof_record "$IT_TMP/rec" "$prog" >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
grep -q 'trace enabled: 1' "$IT_TMP/record.out" || soft_fail "ltprof_trace_is_enabled() is not 1"
"$PYTHON" "$IT_DIR/annotations_check.py" "$IT_TMP/rec/ctf" "$prog" || soft_fail "annotation events"
step "tasks, regions and logs in the Go execution trace"
run_limited 120 go tool trace -d "$IT_TMP/rec/trace.out" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
"${GTCHECK[@]}" events "$IT_TMP/events.txt" UserTaskCreate=3 UserTaskEnd=3 UserRegion=8 UserLog=4 ||
    soft_fail "annotation events in the Go trace"
grep -q 'UserLog .* category=result message=item 0 done' "$IT_TMP/events.txt" ||
    soft_fail "the log message of item 0 is not in the Go trace"
gt_http_check go "$IT_TMP/rec/trace.out" "$IT_TMP" /usertasks /userregions '/usertask?type=item' \
    '/userregion?type=compute' || soft_fail "Go 1.19 task and region pages"
it_finish
