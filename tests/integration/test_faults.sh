#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# faults: tests/programs/faults in each of its modes with libltprof.so preloaded, CPU sampling
# at 1,000 Hz and every allocation sampled, under an LTTng session that records it (so the
# tracepoints fire too): fork with and without exec, vfork, posix_spawn, dlopen/dlclose while
# sampling, 10,000 threads created and joined, SIGALRM every 100 µs during malloc,
# RLIMIT_NOFILE with no descriptor left, every descriptor closed (close, closefrom, close_range:
# LTTng-UST's own survive, tracer/interpose/fds.c), the program's own SIGPROF handler. Each must finish within 120 s, exit 0 and say "ok"; the recordings of a few modes
# must convert, and the threads mode's trace must hold its 10,000 threads.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/faults
require_built
require_file "$prog" "tests/programs/faults.c"
ensure_sessiond

for mode in fork fork-exec vfork spawn dlopen threads signals nofile closeall closefrom closerange \
    sigprof; do
    step "$mode"
    # gcc 12's ASan runtime does not hold its allocator's lock across fork(): a child that
    # allocates while another thread held it at the fork waits forever inside the runtime.
    if [ "$mode" = fork ] && [ "$LTPROF_SANITIZER" = address ]; then
        echo "skipped under ASan (its allocator deadlocks in a fork child)"
        continue
    fi
    rc=0
    out=$IT_TMP/$mode.out
    env_out=()
    case $mode in close*) env_out=(FAULTS_OUT="$out") ;; esac
    # The modes that exec /bin/true need ASan's runtime preloaded there (lib.sh); the others
    # do not, and with it fork's child hung under ASan.
    asan_first=()
    case $mode in fork-exec | vfork | spawn) asan_first=("${ASAN_FIRST[@]}") ;; esac
    # LeakSanitizer needs a descriptor to read /proc/PID/task, and nofile leaves none.
    [ "$mode" != nofile ] || [ "$LTPROF_SANITIZER" != address ] ||
        env_out+=(ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0")
    start=$(date +%s%N)
    LTPROF_CPU_HZ=1000 LTPROF_MEMPROFILE_RATE=1 \
        run_limited 120 "${asan_first[@]}" env "${env_out[@]}" "$LTPROF_BIN" record -o "$IT_TMP/rec-$mode" -- "$prog" "$mode" \
        >"$IT_TMP/$mode.log" 2>&1 || rc=$?
    case $mode in close*) ;; *) grep '^faults ' "$IT_TMP/$mode.log" >"$out" || true ;; esac
    took=$((($(date +%s%N) - start) / 1000000))
    if [ "$rc" -ne 0 ] || ! grep -q "^faults $mode: ok" "$out" 2>/dev/null; then
        soft_fail "$mode: exit $rc after ${took} ms: $(cat "$out" 2>/dev/null) $(tail -3 "$IT_TMP/$mode.log")"
        continue
    fi
    echo "ok: $(cat "$out") (${took} ms, recorded and converted)"
done

step "the 10,000 threads are in the trace"
listing=$IT_TMP/threads.listing
run_limited 300 "$GO" tool trace -d "$IT_TMP/rec-threads/trace.out" >"$listing" 2>&1 ||
    soft_fail "go tool trace -d refused the threads trace: $(tail -2 "$listing")"
created=$(grep -c ' GoCreate ' "$listing" || true)
echo "go tool trace: $created goroutines"
[ "$created" -ge 10000 ] || soft_fail "the threads trace holds $created goroutines, want 10,000 and more"
it_finish
