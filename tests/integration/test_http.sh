#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http: /debug/pprof served from inside real programs over real sockets, checked with curl and
# `go tool pprof` (Go 1.19, and the newer Go when there is one):
#   - examples' ltprof-demo-http (its own libmicrohttpd daemon with ltprof's routes mounted):
#     the index page byte for byte as Go 1.19 writes it; heap at rate 1 shows grow_heap's
#     64 MiB in use exactly; mutex and block show contend_lock; goroutine?debug=2 shows the
#     thread in take_a_nap's nanosleep; debug=1 texts in Go's layouts; heap?seconds=2 a delta
#     with the 16 MiB allocated meanwhile only; delta_heap/_mutex/_block what happened since
#     the previous one (in-use bytes whole); profile?seconds=2 shows spin_hash; symbol over
#     GET and POST; cmdline; HEAD; a POSTed form; every error status and body of Go's table;
#     a second concurrent CPU profile refused; a client that hangs up mid-profile frees it;
#   - ltprof-demo-cpu preloaded with LTPROF_HTTP: the server's own threads appear in no profile
#     (threadcreate counts the 2 workers exactly, goroutine lists 3 threads, heap and CPU
#     profiles hold no libmicrohttpd frame); 1,000 malformed requests get 4xx (or a closed
#     connection) and leave it serving; LTPROF_HTTP_PREFIX, LTPROF_HTTP_TOKEN, a Unix
#     socket (%p: the pid); a forked child has no server and does not hold the port; a bad
#     LTPROF_HTTP or a port in use gives one warning and the program runs on;
#   - tests/programs/http_api (linked): the API's statuses; ltprof_http_stop() returns while a
#     request waits out seconds= (that one gets 503) and closes the port; a new start serves.
source "$(dirname "$0")/lib.sh"
demo_http=$LTPROF_BUILD_DIR/bin/ltprof-demo-http
demo_cpu=$LTPROF_BUILD_DIR/bin/ltprof-demo-cpu

require_built
require_file "$demo_http" "examples/http_service.c"

# ---- the demo service, routes mounted on its own daemon ----
port=$(free_port)
B=http://127.0.0.1:$port/debug/pprof
step "ltprof-demo-http on port $port (rate 1, every contended wait)"
LTPROF_MEMPROFILE_RATE=1 LTPROF_MUTEX_FRACTION=1 LTPROF_BLOCK_RATE=1 \
    "$demo_http" "$port" >"$IT_TMP/demo.out" 2>"$IT_TMP/demo.err" &
IT_LOGS+=("$IT_TMP/demo.err")
IT_PIDS+=($!)
demo_pid=$!
wait_http "http://127.0.0.1:$port/"

# The first line of a reply, and a reply's headers: read whole, as a pipe into `head -1` or
# `grep -q` may close early and fail the curl before it (pipefail; seen in CI on the large
# heap text).
first_line() {
    curl -s "$@" -o "$IT_TMP/first.out" || true
    sed -n 1p "$IT_TMP/first.out"
}
headers_of() { curl -s -D - -o /dev/null "$@" || true; }

step "index page"
curl -s "$B/" -o "$IT_TMP/index.html" -D "$IT_TMP/index.h"
grep -qi '^Content-Type: text/html; charset=utf-8' "$IT_TMP/index.h" || soft_fail "index type"
grep -qi '^X-Content-Type-Options: nosniff' "$IT_TMP/index.h" || soft_fail "index: no nosniff"
"$PYTHON" "$IT_DIR/index_check.py" "$IT_TMP/index.html" /debug/pprof allocs block cmdline \
    goroutine heap mutex profile threadcreate trace || soft_fail "index page is not Go's"
check_status "http://127.0.0.1:$port/debug/pprof" 301
grep -qi '^Location: /debug/pprof/' <<<"$(headers_of "http://127.0.0.1:$port/debug/pprof")" ||
    soft_fail "the redirect does not lead to /debug/pprof/"

step "heap: 64 MiB kept by grow_heap, at rate 1"
curl -s "http://127.0.0.1:$port/heap?size_mb=64" >/dev/null
curl -s -D "$IT_TMP/heap.h" "$B/heap" -o "$IT_TMP/heap.pb.gz"
grep -qi '^Content-Type: application/octet-stream' "$IT_TMP/heap.h" || soft_fail "heap type"
grep -qi '^Content-Disposition: attachment; filename="heap"' "$IT_TMP/heap.h" ||
    soft_fail "heap: no attachment header"
pprof_text "$GO" "$IT_TMP/heap.raw" -raw "$IT_TMP/heap.pb.gz"
if have_heap_sampler; then
    read -r _ _ n bytes <<<"$(heap_site_values "$IT_TMP/heap.raw" grow_heap)"
    echo "grow_heap: $bytes bytes in $n objects in use"
    [ "$bytes" = $((64 << 20)) ] && [ "$n" = 64 ] ||
        soft_fail "grow_heap holds $bytes bytes in $n objects, want 67108864 in 64"
    pprof_text "$GO" "$IT_TMP/heap.top" -top "http://127.0.0.1:$port/debug/pprof/heap"
    grep -q 'grow_heap$' "$IT_TMP/heap.top" || soft_fail "go tool pprof over HTTP: no grow_heap"
fi

step "mutex and block: 4 threads fight for 500 ms in contend_lock"
curl -s "http://127.0.0.1:$port/mutex?ms=500" >/dev/null
for p in mutex block; do
    pprof_text "$GO" "$IT_TMP/$p.top" -top "$B/$p"
    grep -q 'contend_lock$' "$IT_TMP/$p.top" || soft_fail "$p profile: no contend_lock"
    grep -q '^Type: delay' "$IT_TMP/$p.top" || soft_fail "$p profile: not delay by default"
done

step "goroutine?debug=2 during /sleep?ms=3000"
curl -s "http://127.0.0.1:$port/sleep?ms=3000" >/dev/null &
bg=$!
sleep 0.7
curl -s "$B/goroutine?debug=2" >"$IT_TMP/dump.txt"
grep -A3 '\[nanosleep' "$IT_TMP/dump.txt" | grep '^take_a_nap(' >/dev/null ||
    { cat "$IT_TMP/dump.txt"; soft_fail "the dump does not show take_a_nap in nanosleep"; }
head -1 "$IT_TMP/dump.txt" | grep -q '^thread [0-9]* ".*" \[' || soft_fail "dump layout"
wait "$bg" || true

step "debug=1 texts"
curl -s -D "$IT_TMP/t.h" "$B/heap?debug=1" -o "$IT_TMP/heap.txt"
grep -qi '^Content-Type: text/plain; charset=utf-8' "$IT_TMP/t.h" || soft_fail "text type"
grep -qi 'Content-Disposition' "$IT_TMP/t.h" && soft_fail "a text reply is an attachment"
head -1 "$IT_TMP/heap.txt" | grep -q '^heap profile: [0-9]*: [0-9]* \[[0-9]*: [0-9]*\] @ heap/2$' ||
    soft_fail "heap?debug=1 header: $(head -1 "$IT_TMP/heap.txt")"
grep -q '^# runtime.MemStats' "$IT_TMP/heap.txt" || soft_fail "heap?debug=1: no MemStats block"
grep -q '^--- mutex:' <<<"$(first_line "$B/mutex?debug=1")" || soft_fail "mutex?debug=1 header"
grep -q '^--- contention:' <<<"$(first_line "$B/block?debug=1")" || soft_fail "block?debug=1 header"
grep -q '^threadcreate profile: total [0-9]*$' <<<"$(first_line "$B/threadcreate?debug=1")" ||
    soft_fail "threadcreate?debug=1 header"
grep -q '^goroutine profile: total [0-9]*$' <<<"$(first_line "$B/goroutine?debug=1")" ||
    soft_fail "goroutine?debug=1 header"
grep -q '^heap profile:' <<<"$(first_line -X POST -d debug=1 "$B/heap")" ||
    soft_fail "a POSTed form debug=1 does not give the text"
# A decoded %00 ends a name or value (found by fuzz_http_parse: the pairs were walked past
# their end); the pairs after it still count.
grep -q '^heap profile:' <<<"$(first_line -X POST -d 'x=a%00b&y%00z=c&debug=1' "$B/heap")" ||
    soft_fail "a POSTed form with %00 in it does not give the text of debug=1"
# pprof's legacy parser reads the addresses (no names: Go's text is the same); the total counts.
if have_heap_sampler; then
    pprof_text "$GO" "$IT_TMP/legacy.top" -top "$IT_TMP/heap.txt"
    grep -q 'accounting for 6[4-9]\.[0-9]*MB' "$IT_TMP/legacy.top" ||
        soft_fail "pprof does not read heap?debug=1 back: $(grep accounting "$IT_TMP/legacy.top")"
fi

step "heap?seconds=2: a delta with the 16 MiB allocated meanwhile"
(sleep 0.5; curl -s "http://127.0.0.1:$port/heap?size_mb=16" >/dev/null) &
bg=$!
curl -s -D "$IT_TMP/d.h" "$B/heap?seconds=2" -o "$IT_TMP/delta.pb.gz"
wait "$bg" || true
grep -qi 'filename="heap-delta"' "$IT_TMP/d.h" || soft_fail "delta: not heap-delta"
pprof_text "$GO" "$IT_TMP/delta.raw" -raw "$IT_TMP/delta.pb.gz"
if have_heap_sampler; then
    read -r n bytes _ _ <<<"$(heap_site_values "$IT_TMP/delta.raw" grow_heap)"
    echo "delta: grow_heap allocated $bytes bytes in $n objects"
    [ "$bytes" = $((16 << 20)) ] && [ "$n" = 16 ] ||
        soft_fail "the delta has grow_heap allocating $bytes bytes in $n objects, want 16 MiB in 16"
fi

step "delta_heap, delta_mutex, delta_block (godeltaprof's, for scrapers)"
curl -s "$B/delta_heap" -o "$IT_TMP/dh1.pb.gz"
curl -s "http://127.0.0.1:$port/heap?size_mb=8" >/dev/null
curl -s -D "$IT_TMP/dh.h" "$B/delta_heap" -o "$IT_TMP/dh2.pb.gz"
grep -qi 'filename="delta_heap"' "$IT_TMP/dh.h" || soft_fail "delta_heap: no attachment header"
pprof_text "$GO" "$IT_TMP/dh2.raw" -raw "$IT_TMP/dh2.pb.gz"
if have_heap_sampler; then
    read -r n bytes _ inuse <<<"$(heap_site_values "$IT_TMP/dh2.raw" grow_heap)"
    echo "delta_heap since the last one: grow_heap allocated $bytes bytes in $n objects, $inuse in use"
    [ "$bytes" = $((8 << 20)) ] && [ "$n" = 8 ] ||
        soft_fail "delta_heap: grow_heap allocated $bytes bytes in $n objects, want 8 MiB in 8"
    [ "$inuse" = $(((64 + 16 + 8) << 20)) ] ||
        soft_fail "delta_heap: grow_heap holds $inuse bytes in use, want all 88 MiB (not a delta)"
fi
for p in mutex block; do
    curl -s "$B/delta_$p" -o /dev/null
    curl -s "$B/delta_$p" -o "$IT_TMP/d$p.pb.gz"
    pprof_text "$GO" "$IT_TMP/d$p.top" -top "$IT_TMP/d$p.pb.gz"
    grep -q 'contend_lock$' "$IT_TMP/d$p.top" &&
        soft_fail "delta_$p shows contend_lock again with no contention since the last one"
done
curl -s "http://127.0.0.1:$port/mutex?ms=300" >/dev/null
pprof_text "$GO" "$IT_TMP/dm2.top" -top "$B/delta_mutex"
grep -q 'contend_lock$' "$IT_TMP/dm2.top" || soft_fail "delta_mutex misses the new contention"

step "profile?seconds=2 while /cpu burns"
curl -s "http://127.0.0.1:$port/cpu?ms=2600" >/dev/null &
bg=$!
pprof_text "$GO" "$IT_TMP/cpu.top" -top "$B/profile?seconds=2"
wait "$bg" || true
grep -q 'spin_hash$' "$IT_TMP/cpu.top" || { cat "$IT_TMP/cpu.top"; soft_fail "no spin_hash"; }
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    pprof_text "$newgo" "$IT_TMP/heap-new.top" -top "$B/heap"
    ! have_heap_sampler || grep -q 'grow_heap$' "$IT_TMP/heap-new.top" ||
        soft_fail "newer go tool pprof: no grow_heap"
fi

step "one CPU profile at a time; a client that hangs up frees it"
curl -s -o /dev/null "$B/profile?seconds=3" &
bg=$!
sleep 0.5
check_status "$B/profile?seconds=1" 500 "Could not enable CPU profiling: cpu profiling already in use"
wait "$bg" || true
curl -s -o /dev/null --max-time 1 "$B/profile?seconds=20" || true
start=$(date +%s%N)
check_status "$B/profile?seconds=1" 200 ""
echo "a profile after a hang-up answered in $((($(date +%s%N) - start) / 1000000)) ms"

step "symbol"
base=$(awk -v f="$demo_http" '$6 == f { split($1, a, "-"); print a[1]; exit }' "/proc/$demo_pid/maps")
grow=$(nm "$demo_http" | awk '$3 == "grow_heap" { print $1 }')
spin=$(nm "$demo_http" | awk '$3 == "spin_hash" { print $1 }')
a1=$(printf '0x%x' $((0x$base + 0x$grow + 4)))
a2=$(printf '0x%x' $((0x$base + 0x$spin + 8)))
printf 'num_symbols: 1\n%s grow_heap\n%s spin_hash\n' "$a1" "$a2" >"$IT_TMP/sym.want"
curl -s "$B/symbol?$a1+0x0+zzz+$a2" >"$IT_TMP/sym.get"
cmp -s "$IT_TMP/sym.get" "$IT_TMP/sym.want" || soft_fail "symbol GET: $(cat "$IT_TMP/sym.get")"
curl -s -X POST --data-binary "$a1+4660+$a2" "$B/symbol" >"$IT_TMP/sym.post"
cmp -s "$IT_TMP/sym.post" "$IT_TMP/sym.want" || soft_fail "symbol POST: $(cat "$IT_TMP/sym.post")"
[ "$(curl -s "$B/symbol")" = "num_symbols: 1" ] || soft_fail "an empty symbol request"
check_status "$B/symbol" 413 "request body too large" -X POST --data-binary "@/dev/fd/3" \
    3< <(head -c 100000 /dev/zero | tr '\0' '1')

step "cmdline, HEAD"
printf '%s\0%s' "$demo_http" "$port" >"$IT_TMP/cmdline.want"
curl -s "$B/cmdline" >"$IT_TMP/cmdline"
cmp -s "$IT_TMP/cmdline" "$IT_TMP/cmdline.want" || soft_fail "cmdline: $(od -c "$IT_TMP/cmdline" | head -2)"
curl -s -I "$B/heap" >"$IT_TMP/head.h"
grep -q '^HTTP/1.1 200' "$IT_TMP/head.h" || soft_fail "HEAD heap: $(head -1 "$IT_TMP/head.h")"

step "errors, as in Go's table"
check_status "$B/nosuch" 404 "Unknown profile"
check_status "$B/heap/" 404 "Unknown profile"
for s in abc 0 -1 1.5; do
    check_status "$B/heap?seconds=$s" 400 'invalid value for "seconds" - must be a positive integer'
done
check_status "$B/heap?seconds=1&debug=1" 400 "seconds and debug params are incompatible"
check_status "$B/heap?seconds=601" 400 "profile duration exceeds server's WriteTimeout"
check_status "$B/profile?seconds=601" 400 "profile duration exceeds server's WriteTimeout"
grep -qi '^X-Go-Pprof: 1' <<<"$(headers_of "$B/nosuch")" || soft_fail "no X-Go-Pprof on errors"
check_status "$B/goroutine?debug=abc" 200 ""
pprof_text "$GO" "$IT_TMP/g.top" -top "$IT_TMP/body"

# ---- preloaded into a program that knows nothing of ltprof ----
step "ltprof-demo-cpu preloaded with LTPROF_HTTP"
port2=$(free_port)
C=http://127.0.0.1:$port2/debug/pprof
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="127.0.0.1:$port2" "$demo_cpu" 25 \
    >"$IT_TMP/cpu.out" 2>"$IT_TMP/cpu.err" &
IT_PIDS+=($!)
wait_http "$C/"
sleep 0.5
first_line "$C/threadcreate?debug=1" >"$IT_TMP/tc.txt"
grep -qx 'threadcreate profile: total 2' "$IT_TMP/tc.txt" ||
    soft_fail "threadcreate counts the server's threads: $(cat "$IT_TMP/tc.txt")"
grep -qx 'goroutine profile: total 3' <<<"$(first_line "$C/goroutine?debug=1")" ||
    soft_fail "goroutine does not list exactly the program's 3 threads"
curl -s "$C/goroutine?debug=2" -o "$IT_TMP/dump2.txt" || true
grep -q 'MHD' "$IT_TMP/dump2.txt" && soft_fail "the thread dump shows the server's threads"
pprof_text "$GO" "$IT_TMP/pre-cpu.top" -top "$C/profile?seconds=2"
grep -q 'hash_block$' "$IT_TMP/pre-cpu.top" || soft_fail "preloaded: no hash_block"
grep -q 'microhttpd' "$IT_TMP/pre-cpu.top" && soft_fail "the CPU profile holds the server's work"
pprof_text "$GO" "$IT_TMP/pre-heap.top" -top -sample_index=alloc_space "$C/heap"
grep -q 'microhttpd' "$IT_TMP/pre-heap.top" && soft_fail "the heap profile holds the server's allocations"

step "1,000 malformed requests (http_malformed.py): no 5xx, the server and the program live on"
"$PYTHON" "$IT_DIR/http_malformed.py" "$port2" 1000 || soft_fail "malformed requests"
kill -0 "${IT_PIDS[-1]}" 2>/dev/null || soft_fail "the program died under malformed requests"

step "LTPROF_HTTP_PREFIX, LTPROF_HTTP_TOKEN, a Unix socket"
port3=$(free_port)
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="$port3" LTPROF_HTTP_PREFIX=/prof/ \
    LTPROF_HTTP_TOKEN=s3cret "$demo_cpu" 20 >/dev/null 2>"$IT_TMP/tok.err" &
IT_PIDS+=($!)
wait_http "http://127.0.0.1:$port3/"
check_status "http://127.0.0.1:$port3/prof/heap" 401 ""
check_status "http://127.0.0.1:$port3/prof/heap" 401 "" -H "Authorization: Bearer wrong"
check_status "http://127.0.0.1:$port3/prof/heap" 200 "" -H "Authorization: Bearer s3cret"
check_status "http://127.0.0.1:$port3/debug/pprof/heap" 404 "404 page not found" \
    -H "Authorization: Bearer s3cret"
sock=$IT_TMP/ltprof.sock
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="unix:$sock" "$demo_cpu" 20 >/dev/null 2>&1 &
IT_PIDS+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ "$(curl -s --unix-socket "$sock" http://x/debug/pprof/cmdline | tr '\0' ' ')" = "$demo_cpu 20" ] ||
    soft_fail "no cmdline over the Unix socket"

step "fork: the child has no server and does not keep the port"
if [ "$LTPROF_SANITIZER" = address ]; then
    echo "skipped under ASan: python3 is not built with it (lib.sh, \"Sanitized builds\")"
else
    port4=$(free_port)
    LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="127.0.0.1:$port4" "$PYTHON" -c '
import os, sys, time
if os.fork() == 0:
    time.sleep(4)       # the child outlives the parent
    os._exit(0)
time.sleep(1.5)
' &
    forker=$!
    wait_http "http://127.0.0.1:$port4/debug/pprof/"
    check_status "http://127.0.0.1:$port4/debug/pprof/goroutine?debug=1" 200 ""
    wait "$forker"
    sleep 0.3
    rc=0
    curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$port4/debug/pprof/" || rc=$?
    # 7: refused. 28 (a timeout) would mean the child kept the listening socket, 0 that it serves.
    [ "$rc" = 7 ] || soft_fail "after the parent exited, port $port4 is not closed (curl exit $rc)"
    echo "after the parent exited: nothing listens on $port4 (the child runs on)"
fi

step "LTPROF_HTTP=unix:PATH-%p: each process its own socket"
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="unix:$IT_TMP/app-%p.sock" "$demo_cpu" 3 >/dev/null 2>&1 &
IT_PIDS+=($!)
upid=$!
for _ in $(seq 50); do [ -S "$IT_TMP/app-$upid.sock" ] && break; sleep 0.1; done
[ -S "$IT_TMP/app-$upid.sock" ] || soft_fail "no socket $IT_TMP/app-$upid.sock"

step "a bad LTPROF_HTTP and a port in use: one warning, the program runs on"
rc=0
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="nohost:99999" "$demo_cpu" 1 >/dev/null 2>"$IT_TMP/bad.err" || rc=$?
cat "$IT_TMP/bad.err"
[ "$rc" = 0 ] || soft_fail "a bad LTPROF_HTTP changed the exit status to $rc"
grep -q '^ltprof: LTPROF_HTTP: cannot serve HTTP on "nohost:99999": ' "$IT_TMP/bad.err" ||
    soft_fail "no clear warning for a bad LTPROF_HTTP"
rc=0
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="127.0.0.1:$port2" "$demo_cpu" 1 >/dev/null 2>"$IT_TMP/inuse.err" || rc=$?
cat "$IT_TMP/inuse.err"
[ "$rc" = 0 ] || soft_fail "a port in use changed the exit status to $rc"
grep -q 'Address already in use' "$IT_TMP/inuse.err" || soft_fail "no warning for a port in use"

step "the C API (tests/programs/http_api): stop while a request waits, start again"
coproc API { "$LTPROF_PROGRAMS/http_api" 2>"$IT_TMP/api.err"; }
api_pid=$API_PID
IT_PIDS+=($api_pid)
IT_LOGS+=("$IT_TMP/api.err")
read -r -t 30 word addr <&"${API[0]}" || fail "http_api did not start: $(cat "$IT_TMP/api.err")"
[ "$word" = listening ] || fail "http_api: $word $addr"
echo "http_api listens on $addr"
curl -s -o "$IT_TMP/stopped.body" -w '%{http_code}' "http://$addr/debug/pprof/heap?seconds=30"     >"$IT_TMP/stopped.code" &
waiter=$!
sleep 0.5
echo stop >&"${API[1]}"
read -r -t 30 reply <&"${API[0]}" || fail "ltprof_http_stop() did not return"
echo "ltprof_http_stop() while a delta waited: $reply"
case $reply in ok\ *) ;; *) soft_fail "stop: $reply" ;; esac
wait "$waiter" || true
[ "$(cat "$IT_TMP/stopped.code")" = 503 ] &&
    [ "$(cat "$IT_TMP/stopped.body")" = "the server is stopping" ] ||
    soft_fail "the waiting request got $(cat "$IT_TMP/stopped.code") $(cat "$IT_TMP/stopped.body")"
rc=0
curl -s -o /dev/null --max-time 3 "http://$addr/debug/pprof/" || rc=$?
[ "$rc" = 7 ] || soft_fail "after ltprof_http_stop() the port is not closed (curl exit $rc)"
echo start >&"${API[1]}"
read -r -t 30 reply <&"${API[0]}" || fail "ltprof_http_start() did not return"
case $reply in ok\ *) ;; *) soft_fail "start again: $reply" ;; esac
check_status "http://$addr/debug/pprof/cmdline" 200 ""
echo quit >&"${API[1]}"
wait "$api_pid" || soft_fail "http_api exited with $? (see $IT_TMP/api.err: $(cat "$IT_TMP/api.err"))"

it_finish
