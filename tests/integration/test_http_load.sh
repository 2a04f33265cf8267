#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_load: 200 concurrent clients ask ltprof-demo-cpu (preloaded, LTPROF_HTTP, its two
# worker threads busy) for heap and goroutine profiles for 2 x 15 s over plain sockets
# (tests/programs/http_load): no request fails, the program keeps running, and nothing leaks:
# threads come back to what they were before the load, file descriptors stay within 3 of it,
# and the memory in use (RSS) grows by less than 8 MiB from the first 15 s to the second. The
# symbolizer loads debug information lazily, a module or a compilation unit at a time, when a
# stack first reaches it (the threads' stacks in the dumps land anywhere in libc: libc's
# separate debug file opens once, its DWARF fills in over time), and the 200 threads' malloc
# arenas are made once; a leak of a descriptor or a kilobyte per request would show ten
# thousand of them.
source "$(dirname "$0")/lib.sh"
load=$LTPROF_PROGRAMS/http_load

require_built
require_file "$load" "tests/programs/http_load.c"
serve_demo_cpu 120

# state: "rss_kib fds threads" of the program now.
state() {
    echo "$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") $(ls "/proc/$pid/fd" | wc -l)" \
         "$(ls "/proc/$pid/task" | wc -l)"
}
settle() { # the connection threads exit after their last answer
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(ls "/proc/$pid/task" | wc -l)" -le "$1" ] && return 0
        sleep 0.2
    done
}

step "warm-up: 200 clients for 5 s"
run_limited 60 "$load" "$port" 5 200 /debug/pprof/heap /debug/pprof/goroutine ||
    soft_fail "warm-up: requests failed"
sleep 2 # the connection threads exit after their last answer
read -r rss0 fds0 threads0 <<<"$(state)"
ls -l "/proc/$pid/fd" | awk '{ print $9, $11 }' >"$IT_TMP/fds0"
echo "before: RSS $rss0 KiB, $fds0 fds, $threads0 threads"

for round in 1 2; do
    step "round $round: 200 clients for 15 s"
    rc=0
    run_limited 120 "$load" "$port" 15 200 /debug/pprof/heap /debug/pprof/goroutine \
        >"$IT_TMP/load$round.out" 2>"$IT_TMP/load$round.err" || rc=$?
    cat "$IT_TMP/load$round.out"
    head -5 "$IT_TMP/load$round.err"
    [ "$rc" = 0 ] || soft_fail "round $round: requests failed (exit $rc)"
    grep -q 'failures=0 ' "$IT_TMP/load$round.out" || soft_fail "round $round: failures"
    kill -0 "$pid" 2>/dev/null || fail "the program died under the load"
    settle "$threads0"
    read -r rss fds threads <<<"$(state)"
    echo "after round $round: RSS $rss KiB, $fds fds, $threads threads"
    eval "rss$round=$rss fds$round=$fds"
    ls -l "/proc/$pid/fd" | awk '{ print $9, $11 }' >"$IT_TMP/fds$round"
    diff "$IT_TMP/fds0" "$IT_TMP/fds$round" || true
    [ "$fds" -le $((fds0 + 3)) ] || soft_fail "round $round: $fds fds, $fds0 before"
    [ "$threads" = "$threads0" ] || soft_fail "round $round: $threads threads, $threads0 before"
done
growth=$((rss2 - rss1))
echo "RSS from round 1 to round 2: $growth KiB"
[ "$growth" -lt 8192 ] || soft_fail "RSS grew by $growth KiB from round 1 to round 2"
curl -s "http://127.0.0.1:$port/debug/pprof/goroutine?debug=1" | sed -n 1p |
    grep -x 'goroutine profile: total 3' >/dev/null || soft_fail "the program's threads are not all there"
it_finish
