#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_attach: a session started while a preloaded program already runs (the lttng workflow)
# shows the threads that existed before it, named, waiting since the trace began, and woken by
# the thread that wakes them (tests/programs/trace_attach.c); both Go 1.19 and a newer Go read
# the trace.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/trace_attach

require_built
ensure_sessiond
new_session attach "$IT_TMP/ctf"
lttng enable-event -u -s "$SESSION" 'ltprof:*' >/dev/null
lttng enable-event -u -s "$SESSION" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$SESSION" -t vpid -t vtid >/dev/null
lttng untrack -u -s "$SESSION" --all --vpid >/dev/null
step "start the program, then the session 0.5 s later"
LD_PRELOAD=$LTPROF_LIB "$prog" >"$IT_TMP/prog.out" &
pid=$!
sleep 0.5
lttng track -u -s "$SESSION" --vpid="$pid" >/dev/null || fail "lttng track"
lttng start "$SESSION" >/dev/null || fail "lttng start"
wait "$pid" || fail "the program failed"
lttng stop "$SESSION" >/dev/null
lttng destroy "$SESSION" >/dev/null

run_limited 120 "$LTPROF_BIN" convert "$IT_TMP/ctf" -o "$IT_TMP/out" >"$IT_TMP/convert.out" 2>&1 ||
    { cat "$IT_TMP/convert.out"; fail "ltprof convert"; }
cat "$IT_TMP/convert.out"
trace=$IT_TMP/out/trace.out
run_limited 120 go tool trace -d "$trace" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
step "threads that existed before the session"
pre=$(grep -c ' GoCreate p=-1 ' "$IT_TMP/events.txt" || true)
[ "$pre" -ge 3 ] || soft_fail "$pre goroutines in the start-up block, want 3 (main and 2 threads)"
[ "$(grep -c ' GoWaiting p=-1 ' "$IT_TMP/events.txt" || true)" -ge 3 ] ||
    soft_fail "the threads are not waiting when the trace begins"
for name in cond-sleeper pipe-reader; do
    grep -q "label=$name\$" "$IT_TMP/events.txt" || soft_fail "no goroutine runs as $name"
done
# cond-sleeper's unblock comes from main's pthread_cond_signal (a goroutine, not g=0).
g=$(sed -n 's/.* GoStartLabel .* g=\([0-9]*\) seq=.* label=cond-sleeper$/\1/p' "$IT_TMP/events.txt" |
    sed -n 1p)
grep -E " GoUnblock p=[0-9]+ g=[1-9][0-9]* .* g=$g seq=" "$IT_TMP/events.txt" >/dev/null ||
    soft_fail "cond-sleeper is not woken by another goroutine"
gt_http_check go "$trace" "$IT_TMP" / /goroutines /jsontrace || soft_fail "Go 1.19 trace viewer"
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
