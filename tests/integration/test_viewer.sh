#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# viewer: the browser viewer in Debian's headless Chromium, driven by playwright-core
# (tests/viewer/*.mjs), over real sockets:
#   - `ltprof view DIR` of an `ltprof record` of tests/programs/trace_mix: rows, states and
#     stacks checked against `go tool trace -d` and `-pprof=sync` of the same trace.out; click,
#     zoom, pan, range selection, thread statistics; the CPU profile's flame graph, search and
#     top table; a series of three thread dumps; a truncated trace, a text file, an empty file
#     and a profile without samples each give a message; screenshots not blank; no console
#     errors; `ltprof view`'s own errors and statuses (bad option, missing path, 404s, no
#     path out of the folder);
#   - a trace of two processes (one LTTng session around two runs of trace_mix): the rows in
#     one group per process, each with its 18 threads;
#   - /debug/pprof/ui/ of examples' ltprof-demo-http: live profiles, a thread dump, a 2 s trace
#     and a 2 s CPU profile recorded from the page's buttons.
# The screenshots are kept in $LTPROF_BUILD_DIR/viewer-screenshots (docs/viewer.md shows them).
source "$(dirname "$0")/lib.sh"
nodedir=$LTPROF_SOURCE_DIR/tests/viewer
demo_http=$LTPROF_BUILD_DIR/bin/ltprof-demo-http
shots=$LTPROF_BUILD_DIR/viewer-screenshots

require_built
[ -d "$nodedir/node_modules/playwright-core" ] ||
    fail "playwright-core is not installed: run scripts/viewer_test_deps.sh"
[ -x /usr/bin/chromium ] || fail "Debian's chromium is not installed: run scripts/deps.sh"
ensure_sessiond
mkdir -p "$shots"

# ---- a recording to look at ----
prog=$LTPROF_PROGRAMS/trace_mix
ltprof_record "$IT_TMP/rec" "$prog" >"$IT_TMP/record.out"
trace=$IT_TMP/rec/trace.out
require_file "$trace" "ltprof record's execution trace"

step "what go tool trace reads in it"
run_limited 120 "$GO" tool trace -d "$trace" >"$IT_TMP/listing" 2>"$IT_TMP/listing.err" ||
    fail "go tool trace -d failed: $(head -3 "$IT_TMP/listing.err")"
goroutines=$(grep -c ' GoCreate ' "$IT_TMP/listing")
run_limited 120 "$GO" tool trace -pprof=sync "$trace" >"$IT_TMP/sync.pb" 2>"$IT_TMP/sync.err" ||
    fail "go tool trace -pprof=sync failed"
pprof_text "$GO" "$IT_TMP/sync.raw" -raw "$IT_TMP/sync.pb"
sync_ns=$("$PYTHON" - "$IT_TMP/sync.raw" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = next(k for k, l in enumerate(lines) if l.startswith("Samples:"))
total = 0
for l in lines[i + 2:]:
    if not l.strip() or not l.lstrip()[0].isdigit():
        break
    total += int(l.split(":")[0].split()[1])
print(total)
PY
)
echo "go tool trace: $goroutines goroutines, $sync_ns ns blocked on sync"
[ "$goroutines" -ge 10 ] && [ "$sync_ns" -gt 0 ] || fail "the recording is too small to test with"

step "bad files beside it"
head -c $(($(stat -c %s "$trace") / 2)) "$trace" >"$IT_TMP/rec/truncated.out"
echo "hello, this is not a trace" >"$IT_TMP/rec/notes.txt"
: >"$IT_TMP/rec/empty.bin"
pprof_text "$GO" "$IT_TMP/heap.raw" -raw "$IT_TMP/rec/heap.pb.gz"
if sed -n '/^Samples:/,/^Locations/p' "$IT_TMP/heap.raw" | grep '^ *[0-9]' >/dev/null; then
    fail "trace_mix's heap profile has samples: the empty-profile case needs one without"
fi

# ---- a series of thread dumps, as people collect them ----
port=$(free_port)
"$demo_http" "$port" >"$IT_TMP/demo.out" 2>"$IT_TMP/demo.err" &
IT_PIDS+=($!)
IT_LOGS+=("$IT_TMP/demo.err")
wait_http "http://127.0.0.1:$port/"
B=http://127.0.0.1:$port/debug/pprof
for i in 1 2 3; do
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$IT_TMP/rec/dumps.log"
    curl -sf "$B/goroutine?debug=1" >>"$IT_TMP/rec/dumps.log" || fail "goroutine?debug=1"
    [ "$i" -eq 3 ] || { curl -s "http://127.0.0.1:$port/sleep?ms=1500" >/dev/null & sleep 0.5; }
done
wait_http "http://127.0.0.1:$port/" # the sleepers' replies came or are coming

cat >"$IT_TMP/expect.json" <<JSON
{"goroutines": $goroutines, "syncNs": $sync_ns,
 "threads": ["lock-1", "consumer", "producer", "piper", "napper", "sem-waiter"],
 "lockThread": "lock-1", "lockCaller": "contend_mutex", "cpuFunction": "spin_us",
 "dumpFile": "dumps.log", "dumps": 3,
 "bad": [["truncated.out", "cut short|incomplete"], ["notes.txt", "not a Go execution trace, a pprof profile or a thread dump"],
         ["empty.bin", "is empty"], ["heap.pb.gz", "no samples"]]}
JSON

step "ltprof view: usage and errors"
"$LTPROF_BIN" view --help | grep 'FILE_OR_DIR' >/dev/null || soft_fail "ltprof view --help"
rc=0; "$LTPROF_BIN" view 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'name a trace' "$IT_TMP/err" || soft_fail "ltprof view without a path: rc $rc"
rc=0; "$LTPROF_BIN" view "$IT_TMP/nowhere" 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'No such file' "$IT_TMP/err" || soft_fail "ltprof view of a missing path: rc $rc"
rc=0; "$LTPROF_BIN" view "$IT_TMP/rec" --port 99999 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 2 ] || soft_fail "ltprof view --port 99999: rc $rc"
rc=0; "$LTPROF_BIN" view "$IT_TMP/rec" --bogus 2>"$IT_TMP/err" || rc=$?
[ "$rc" -eq 2 ] || soft_fail "ltprof view --bogus: rc $rc"

step "ltprof view runs \$BROWSER with the URL"
printf '#!/bin/sh\necho "$@" >"%s"\n' "$IT_TMP/browser.got" >"$IT_TMP/fake-browser"
chmod +x "$IT_TMP/fake-browser"
BROWSER="$IT_TMP/fake-browser --new-window" "$LTPROF_BIN" view "$trace" --port 0 >"$IT_TMP/view0.out" 2>&1 &
b_pid=$!
for _ in $(seq 50); do [ -s "$IT_TMP/browser.got" ] && break; sleep 0.1; done
kill "$b_pid"; wait "$b_pid" 2>/dev/null || true
got=$(cat "$IT_TMP/browser.got" 2>/dev/null || true)
printed=$(grep -o 'http://[^ ]*' "$IT_TMP/view0.out" | head -1)
[ -n "$printed" ] && [ "$got" = "--new-window $printed" ] ||
    soft_fail "\$BROWSER got \"$got\", the printed URL is \"$printed\""
case $printed in *'?open=trace.out') echo "ok: one file given: the URL opens it ($printed)" ;;
*) soft_fail "ltprof view of one file: the URL does not open it ($printed)" ;; esac

step "ltprof view $IT_TMP/rec"
"$LTPROF_BIN" view "$IT_TMP/rec" --port 0 >"$IT_TMP/view.out" 2>&1 &
view_pid=$!
IT_PIDS+=($view_pid)
IT_LOGS+=("$IT_TMP/view.out")
for _ in $(seq 50); do grep -q 'http://' "$IT_TMP/view.out" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$IT_TMP/view.out" | head -1)
[ -n "$url" ] || fail "ltprof view printed no URL"
echo "serving at $url"
check_status "${url}" 200
check_status "${url}app.js" 200
check_status "${url}api/sources" 200
check_status "${url}files/trace.out" 200
check_status "${url}files/nothing-here" 404
check_status "${url}files/..%2F..%2Fetc%2Fpasswd" 404
check_status "${url}files/ctf" 404
check_status "${url}no-such-page" 404
check_status "${url}api/sources" 405 "" -X POST
curl -sI "${url}app.js" | grep -i "^Content-Security-Policy: default-src 'self'" >/dev/null ||
    soft_fail "the viewer's files come without their Content-Security-Policy"
cmp -s <(curl -s "${url}files/trace.out") "$trace" || soft_fail "files/trace.out differs from the file"

step "the viewer in headless Chromium"
(cd "$nodedir" && run_limited 300 node viewer_files.mjs "$url" "$shots" "$IT_TMP/expect.json") ||
    soft_fail "browser checks of ltprof view"
kill "$view_pid"
wait "$view_pid" 2>/dev/null || true
IT_PIDS=("${IT_PIDS[@]:0:${#IT_PIDS[@]}-1}") # stopped on purpose
grep -q 'ltprof view: stopped' "$IT_TMP/view.out" || soft_fail "ltprof view did not stop cleanly on SIGTERM"

# ---- several processes in one trace ----
step "one LTTng session around two programs: rows grouped by process"
new_session mp "$IT_TMP/mp/ctf"
lttng enable-event -u -s "$SESSION" 'ltprof:*' >/dev/null
lttng enable-event -u -s "$SESSION" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$SESSION" -t vpid -t vtid >/dev/null
lttng start "$SESSION" >/dev/null
LD_PRELOAD=$LTPROF_LIB "$prog" >/dev/null &
pid1=$!
LD_PRELOAD=$LTPROF_LIB "$prog" >/dev/null &
pid2=$!
wait "$pid1" "$pid2" || fail "trace_mix failed under LD_PRELOAD"
lttng stop "$SESSION" >/dev/null
run_limited 120 "$LTPROF_BIN" convert "$IT_TMP/mp/ctf" -o "$IT_TMP/mp" >/dev/null ||
    fail "ltprof convert of the two-process trace"
"$LTPROF_BIN" view "$IT_TMP/mp/trace.out" --port 0 >"$IT_TMP/view2.out" 2>&1 &
view_pid=$!
IT_PIDS+=($view_pid)
for _ in $(seq 50); do grep -q 'http://' "$IT_TMP/view2.out" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$IT_TMP/view2.out" | head -1)
(cd "$nodedir" && run_limited 120 node viewer_processes.mjs "$url" \
    "process $pid1 · $goroutines threads" "process $pid2 · $goroutines threads") ||
    soft_fail "browser checks of the two-process trace"
kill "$view_pid"
wait "$view_pid" 2>/dev/null || true
IT_PIDS=("${IT_PIDS[@]:0:${#IT_PIDS[@]}-1}")

# ---- the same viewer, served by the program ----
step "/debug/pprof/ui/ of ltprof-demo-http"
check_status "$B/ui" 301
check_status "$B/ui/" 200
check_status "$B/ui/api/sources" 200
check_status "$B/ui/missing.js" 404
# CPU work for the recordings the page asks for
( for _ in $(seq 30); do curl -s "http://127.0.0.1:$port/cpu?ms=1000" >/dev/null; done ) &
IT_PIDS+=($!)
(cd "$nodedir" && run_limited 300 node viewer_live.mjs "$B/ui/" "$shots" "ltprof-demo-htt" "spin_hash") ||
    soft_fail "browser checks of /debug/pprof/ui/"
echo "screenshots in $shots: $(ls "$shots" | tr '\n' ' ')"
it_finish
