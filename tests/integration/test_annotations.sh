#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# annotations: the task/region/log API of ltprof/ltprof.h records its events, with the right
# nesting, messages and caller stacks (annotations_check.py, with babeltrace2's Python
# bindings), and ltprof_trace_is_enabled() tells whether a session records them.
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
it_finish
