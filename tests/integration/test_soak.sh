#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak: examples' ltprof-demo-http under full tracing (an LTTng session with every ltprof
# event on for the whole run) and steady load (CPU, contended locks, sleeps, allocations),
# asked for /debug/pprof/trace?seconds=1 every 3 s and a heap profile every second, for
# LTPROF_SOAK_SECONDS (default 60; `LTPROF_SOAK_SECONDS=600 ctest -R integration_soak` is the
# 10-minute run of docs/reliability.md). After a warm-up of 25 traces, the process's private
# RSS, malloc's bytes in use, descriptors and threads are read every 10 s; at the end none may
# have grown (the last third of the readings against the first third: malloc in use by the
# lowest reading of each, at most 2 MiB more; private RSS by the medians, 16 MiB; descriptors
# and threads not at all, both read with the load paused and its last connection threads
# gone), every trace must have been answered with a trace, and the
# program must still serve.
source "$(dirname "$0")/lib.sh"
demo=$LTPROF_BUILD_DIR/bin/ltprof-demo-http
require_built
require_file "$demo" "examples/http_service.c"
ensure_sessiond
secs=${LTPROF_SOAK_SECONDS:-60}

new_session soak "$IT_TMP/ctf" --snapshot
lttng enable-event -u -s "$SESSION" 'ltprof:*' >/dev/null
lttng add-context -u -s "$SESSION" -t vpid -t vtid >/dev/null
lttng start "$SESSION" >/dev/null
port=$(free_port)
"$demo" "$port" >"$IT_TMP/demo.out" 2>"$IT_TMP/demo.err" &
pid=$!
IT_PIDS+=($pid)
IT_LOGS+=("$IT_TMP/demo.err")
U=http://127.0.0.1:$port
wait_http "$U/"

# RSS of private memory (RssAnon: the heap, where a leak would be), descriptors, threads, and
# RSS of shared memory (RssShmem: LTTng's ring buffers, whose pages fill as they are written,
# up to the buffers' size), in KiB.
# Then malloc's bytes in use (the heap profile's MemStats block), in KiB: what a leak raises
# even where freed memory kept by the allocator hides it in RSS.
state() {
    echo "$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status") $(ls "/proc/$pid/fd" | wc -l)" \
         "$(ls "/proc/$pid/task" | wc -l) $(awk '/^RssShmem:/ { print $2 }' "/proc/$pid/status")" \
         "$(curl -s "$U/debug/pprof/heap?debug=1" | awk '/^# HeapAlloc = / { print int($4 / 1024) }')"
}
# the load: one request of each kind at a time, for the whole run
# (paused while $IT_TMP/pause exists, for the readings of descriptors and threads: a request
# in flight holds a connection thread, and each thread its perf_event descriptors)
( while kill -0 "$pid" 2>/dev/null; do
      [ ! -e "$IT_TMP/pause" ] || { sleep 0.1; continue; }
      curl -s "$U/cpu?ms=200" >/dev/null; curl -s "$U/mutex" >/dev/null
      curl -s "$U/sleep?ms=50" >/dev/null; curl -s "$U/heap?size_mb=4" >/dev/null
      curl -s "$U/heap?free=1" >/dev/null # the workload keeps nothing: growth would be ours
  done ) &
IT_PIDS+=($!)
( while kill -0 "$pid" 2>/dev/null; do
      [ ! -e "$IT_TMP/pause" ] || { sleep 0.1; continue; }
      curl -s "$U/debug/pprof/heap" -o /dev/null; sleep 1
  done ) &
IT_PIDS+=($!)

traces=0 bad=0
trace_once() {
    local code
    code=$(curl -s -o "$IT_TMP/t.out" -w '%{http_code}' --max-time 30 "$U/debug/pprof/trace?seconds=1") || true
    traces=$((traces + 1))
    if [ "$code" != 200 ] || ! head -c 13 "$IT_TMP/t.out" | grep -q 'go 1.19 trace'; then
        bad=$((bad + 1))
        echo "trace $traces: status $code: $(head -c 200 "$IT_TMP/t.out")"
    fi
}
# glibc's malloc arenas (one per connection thread, up to 8 per core) and the recorder's
# caches fill during the first few dozen recordings, then RSS stays flat. The baseline is
# taken after.
warm=${LTPROF_SOAK_WARMUP:-25}
step "warm-up: $warm traces"
for _ in $(seq "$warm"); do trace_once; sleep 1; done
# The baseline with no request in flight: the load paused, its last requests and their
# threads gone.
touch "$IT_TMP/pause"
sleep 3
read -r rss0 fds0 thr0 shm0 heap0 <<<"$(state)"
rm -f "$IT_TMP/pause"
echo "after warm-up: private RSS $rss0 KiB, $fds0 descriptors, $thr0 threads, shared RSS $shm0 KiB, malloc in use $heap0 KiB"
start=$(date +%s)
next=$((start + 10))
step "soak: $secs s, a 1 s trace every 3 s"
while [ $(($(date +%s) - start)) -lt "$secs" ]; do
    trace_once
    sleep 2
    if [ "$(date +%s)" -ge "$next" ]; then
        now=$(state)
        echo "t=$(($(date +%s) - start))s: private RSS/descriptors/threads/shared RSS/malloc in use $now"
        read -r r _ _ _ h <<<"$now"
        echo "$(($(date +%s) - start)) $r $h" >>"$IT_TMP/rss"
        next=$((next + 10))
    fi
done
kill -0 "$pid" 2>/dev/null || fail "the program died"
# The same quiet for the end: the load paused, then up to 30 s for the threads of its last
# requests and the last recording to go (a leak never goes).
touch "$IT_TMP/pause"
quiet_start=$(date +%s)
for _ in $(seq 150); do
    read -r rss1 fds1 thr1 shm1 heap1 <<<"$(state)"
    [ "$thr1" -le "$thr0" ] && [ "$fds1" -le "$fds0" ] && break
    sleep 0.2
done
echo "quiet after $(($(date +%s) - quiet_start)) s of paused load"
echo "end: private RSS $rss1 KiB (+$((rss1 - rss0))), shared $shm1 KiB (+$((shm1 - shm0))), $fds1 descriptors (was $fds0), $thr1 threads (was $thr0); $traces traces, $bad bad"
[ "$bad" -eq 0 ] || soft_fail "$bad of $traces trace requests did not give a trace"
# Readings move by MiBs from one to the next (the recordings' work, glibc's arenas, the 4 MiB
# the load holds for a moment): the last third of the readings against the first third, and
# the slope. For malloc's bytes in use the lowest reading of each (a leak raises the floor; a
# moment's allocation does not), at most 2 MiB more; for private RSS the medians, 16 MiB.
# Under ASan the readings are printed, not judged: its quarantine keeps up to 256 MiB of freed
# memory resident before it reuses any, and malloc's bytes in use cannot be read there.
"$PYTHON" - "$IT_TMP/rss" "$LTPROF_SANITIZER" <<'PY' || soft_fail "memory grew"
import statistics, sys
pts = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
judged = sys.argv[2] != "address"
k = max(1, len(pts) // 3)
ok = True
for col, name, stat, limit in ((1, "private RSS", statistics.median, 16384),
                               (2, "malloc in use", min, 2048)):
    first = stat(p[col] for p in pts[:k])
    last = stat(p[col] for p in pts[-k:])
    n = len(pts)
    mt = sum(p[0] for p in pts) / n
    mv = sum(p[col] for p in pts) / n
    den = sum((p[0] - mt) ** 2 for p in pts) or 1
    slope = sum((p[0] - mt) * (p[col] - mv) for p in pts) / den * 60
    print(f"{name}: {stat.__name__} {first:.0f} KiB in the first third, {last:.0f} KiB in the last "
          f"({last - first:+.0f}, at most +{limit}); slope {slope:+.0f} KiB per minute over "
          f"{n} readings; from {min(p[col] for p in pts)} to {max(p[col] for p in pts)} KiB")
    ok = ok and last - first <= limit
if not judged:
    print("memory not judged under ASan (its quarantine holds freed memory); descriptors and "
          "threads are")
sys.exit(0 if ok or not judged else 1)
PY
[ "$fds1" -le "$fds0" ] || soft_fail "descriptors grew from $fds0 to $fds1"
[ "$thr1" -le "$thr0" ] || soft_fail "threads grew from $thr0 to $thr1"
curl -sf "$U/debug/pprof/" -o /dev/null || soft_fail "the server stopped serving"
# It stops cleanly on SIGTERM (under ASan, LeakSanitizer then checks it: a leak exits 86).
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || soft_fail "the program exited $rc on SIGTERM (86: a sanitizer finding)"
it_finish
