#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_record: /debug/pprof/trace and /debug/pprof/profile recorded on demand through an LTTng
# session the process makes for itself (a real lttng-sessiond), converted in-process, checked
# with `go tool trace` and `go tool pprof` (Go 1.19, and the newer Go when there is one):
#   - examples' ltprof-demo-http: trace?seconds=2 while it sleeps and fights over a lock passes
#     `go tool trace -d`, holds CPU samples, and its sync blocking profile shows contend_lock;
#     a fraction of a second is accepted and answered within 1.3 s + the fraction; a second
#     trace at once gets Go's "already enabled" error; profile?seconds=2 comes from the session
#     (the converter's comment) and shows spin_hash; a client that hangs up mid-trace frees the
#     slot at once, and no session or trace folder is left behind;
#   - ltprof-demo-cpu preloaded with LTPROF_HTTP: the trace holds the program's threads
#     (hasher, sorter) and none of the server's;
#   - with no session daemon (a private mount namespace hides the machine's): by default one
#     is started and the trace works; with LTPROF_HTTP_SESSIOND=never the trace gets 503 with
#     a message saying how to start one, and /profile falls back to the in-process profile;
#     the daemon killed during a recording gives a 500, the program runs on, and the next
#     recording starts a new daemon; the consumer daemon alone killed gives a 500, the next
#     recording a 500 that says to restart lttng-sessiond (the daemon cannot trace any more),
#     and after the restart a trace; the trace folder deleted during a recording gives a clear
#     500 and the next recording works; a full disk under the trace folder gives a clear 500 (or
#     a valid trace), the program runs on, and the folder is removed.
source "$(dirname "$0")/lib.sh"
demo_http=$LTPROF_BUILD_DIR/bin/ltprof-demo-http
demo_cpu=$LTPROF_BUILD_DIR/bin/ltprof-demo-cpu

require_built
require_file "$demo_http" "examples/http_service.c"
ensure_sessiond

now_ms() { echo $(($(date +%s%N) / 1000000)); }

port=$(free_port)
B=http://127.0.0.1:$port/debug/pprof
mkdir -p "$IT_TMP/rec"
step "ltprof-demo-http on port $port"
TMPDIR=$IT_TMP/rec "$demo_http" "$port" >"$IT_TMP/demo.out" 2>"$IT_TMP/demo.err" &
IT_LOGS+=("$IT_TMP/demo.err")
IT_PIDS+=($!)
demo_pid=$!
wait_http "http://127.0.0.1:$port/"

step "trace?seconds=2 during /sleep and /mutex"
curl -s "http://127.0.0.1:$port/sleep?ms=2500" >/dev/null &
sleeper=$!
curl -s "http://127.0.0.1:$port/mutex?ms=1500" >/dev/null &
locker=$!
curl -s -D "$IT_TMP/trace.h" "$B/trace?seconds=2" -o "$IT_TMP/trace.out"
wait "$sleeper" "$locker" || true
grep -qi 'filename="trace"' "$IT_TMP/trace.h" || soft_fail "trace: no attachment header"
[ "$(head -c 16 "$IT_TMP/trace.out" | tr -d '\0')" = "go 1.19 trace" ] ||
    fail "not a Go execution trace: $(head -c 100 "$IT_TMP/trace.out")"
run_limited 120 "$GO" tool trace -d "$IT_TMP/trace.out" >"$IT_TMP/trace.d" 2>&1 ||
    { tail "$IT_TMP/trace.d"; fail "go tool trace -d refuses the trace"; }
samples=$(grep -c ' CPUSample ' "$IT_TMP/trace.d" || true)
echo "trace: $(stat -c %s "$IT_TMP/trace.out") bytes, $(wc -l <"$IT_TMP/trace.d") events, $samples CPU samples"
[ "$samples" -gt 10 ] || soft_fail "the trace holds $samples CPU samples"
run_limited 120 "$GO" tool trace -pprof=sync "$IT_TMP/trace.out" >"$IT_TMP/sync.pb" 2>"$IT_TMP/sync.err" ||
    soft_fail "go tool trace -pprof=sync failed: $(cat "$IT_TMP/sync.err")"
pprof_text "$GO" "$IT_TMP/sync.top" -top "$IT_TMP/sync.pb"
grep -q 'contend_lock$' "$IT_TMP/sync.top" || soft_fail "the sync profile has no contend_lock"
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    run_limited 120 "$newgo" tool trace -d=parsed "$IT_TMP/trace.out" >/dev/null 2>"$IT_TMP/new.err" ||
        soft_fail "the newer go tool trace -d refuses the trace: $(tail -3 "$IT_TMP/new.err")"
fi

step "a fraction of a second; one trace at a time"
t0=$(now_ms)
check_status "$B/trace?seconds=0.4" 200 ""
took=$(($(now_ms) - t0))
echo "trace?seconds=0.4 answered in $took ms"
[ "$took" -lt 1700 ] || soft_fail "trace?seconds=0.4 took $took ms (want under 1.3 s + 0.4 s)"
curl -s -o /dev/null "$B/trace?seconds=2" &
first=$!
sleep 0.7
check_status "$B/trace?seconds=1" 500 "Could not enable tracing: tracing is already enabled"
wait "$first" || true

step "profile?seconds=2 from the session"
curl -s "http://127.0.0.1:$port/cpu?ms=2600" >/dev/null &
burner=$!
pprof_text "$GO" "$IT_TMP/cpu.top" -top "$B/profile?seconds=2"
wait "$burner" || true
grep -q 'spin_hash$' "$IT_TMP/cpu.top" || { cat "$IT_TMP/cpu.top"; soft_fail "no spin_hash"; }
grep -q 'CPU samples, engine' "$IT_TMP/cpu.top" ||
    soft_fail "the profile did not come from the recorded session (no converter comment)"

step "a client that hangs up mid-trace"
curl -s -o /dev/null --max-time 1 "$B/trace?seconds=30" || true
t0=$(now_ms)
check_status "$B/trace?seconds=0.5" 200 ""
echo "the next trace answered after $(($(now_ms) - t0)) ms"
sleep 2 # the sessions are destroyed in the background
left=$(lttng list 2>/dev/null | grep -c "ltprof-self-$demo_pid-" || true)
[ "$left" = 0 ] || soft_fail "$left sessions of the demo are left: $(lttng list)"
dirs=$(find "$IT_TMP/rec" -mindepth 1 -maxdepth 1 | wc -l)
[ "$dirs" = 0 ] || soft_fail "$dirs trace folders are left in TMPDIR: $(ls "$IT_TMP/rec")"

step "preloaded: the trace holds the program's threads, not the server's"
port2=$(free_port)
LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="127.0.0.1:$port2" "$demo_cpu" 20 >/dev/null 2>&1 &
IT_PIDS+=($!)
wait_http "http://127.0.0.1:$port2/debug/pprof/"
curl -s "http://127.0.0.1:$port2/debug/pprof/trace?seconds=1" -o "$IT_TMP/pre.out"
run_limited 120 "$GO" tool trace -d "$IT_TMP/pre.out" >"$IT_TMP/pre.d" 2>&1 ||
    fail "go tool trace -d refuses the preloaded program's trace"
for t in hasher sorter; do
    grep -q "$t" "$IT_TMP/pre.d" || soft_fail "the trace does not name thread $t"
done
grep -q 'MHD' "$IT_TMP/pre.d" && soft_fail "the trace holds the server's threads"

# failed_recording WHAT CODE BODY ALIVE: a recording that went wrong around it must answer 500
# "Could not finish tracing: ..." (or 200 with a trace Go accepts), the program running on.
failed_recording() {
    local what=$1 code=$2 body=$3 alive=$4
    case $code in
    500) grep -q 'Could not finish tracing' "$body" || soft_fail "$what: unclear error" ;;
    200) run_limited 120 "$GO" tool trace -d "$body" >/dev/null 2>&1 ||
             soft_fail "$what: a 200 with a trace go tool trace refuses" ;;
    *) soft_fail "$what: status $code" ;;
    esac
    [ -f "$alive" ] || soft_fail "$what: the program died"
}

# recorded_again WHAT CODE_FILE: the recording after a fault answered 200.
recorded_again() {
    echo "the recording $1: $(cat "$2")"
    [ "$(cat "$2")" = 200 ] || soft_fail "the recording $1 got $(cat "$2")"
}

step "no session daemon"
if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
    echo "skipped: needs root and a private mount namespace (unshare -m)"
else
    cat >"$IT_TMP/inner.sh" <<'INNER'
set -uo pipefail
mount -t tmpfs none /var/run/lttng
mount -t tmpfs none /dev/shm
dir=$1 lib=$2 prog=$3 p1=$4 p2=$5 p3=$6
if lttng list >/dev/null 2>&1; then echo "a session daemon is still visible"; exit 3; fi
LD_PRELOAD=$lib LTPROF_HTTP=127.0.0.1:$p1 LTPROF_HTTP_SESSIOND=never "$prog" 20 >/dev/null 2>&1 &
never=$!
LD_PRELOAD=$lib LTPROF_HTTP=127.0.0.1:$p2 "$prog" 60 >/dev/null 2>&1 &
spawn=$!
for p in $p1 $p2; do
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/debug/pprof/" && break; sleep 0.1; done
done
curl -s -o "$dir/never.body" -w '%{http_code}' "http://127.0.0.1:$p1/debug/pprof/trace?seconds=1" >"$dir/never.code"
curl -s -o "$dir/never-cpu.pb.gz" -w '%{http_code}' "http://127.0.0.1:$p1/debug/pprof/profile?seconds=1" >"$dir/never-cpu.code"
curl -s -o "$dir/spawn.out" -w '%{http_code}' "http://127.0.0.1:$p2/debug/pprof/trace?seconds=1" >"$dir/spawn.code"
pidfile=/var/run/lttng/lttng-sessiond.pid
[ -f "$pidfile" ] && echo "spawned sessiond pid: $(cat "$pidfile")" >"$dir/spawned"
kill $never 2>/dev/null
# The session daemon (and its consumer) killed during a recording.
curl -s -o "$dir/killed.body" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$p2/debug/pprof/trace?seconds=3" >"$dir/killed.code" &
waiter=$!
sleep 1.5
sd=$(cat "$pidfile")
pkill -KILL -P "$sd"
kill -KILL "$sd"
wait $waiter
kill -0 $spawn 2>/dev/null && echo alive >"$dir/killed.alive"
# The next recording starts a new daemon.
curl -s -o "$dir/again.out" -w '%{http_code}' "http://127.0.0.1:$p2/debug/pprof/trace?seconds=1" >"$dir/again.code"
# The consumer daemon alone killed during a recording, then a recording after it.
curl -s -o "$dir/consumer.body" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$p2/debug/pprof/trace?seconds=3" >"$dir/consumer.code" &
waiter=$!
sleep 1.5
sd=$(cat "$pidfile")
# The consumer daemon starts with the session; under ASan it was not there yet once at 1.5 s.
for _ in $(seq 10); do
    pgrep -P "$sd" -f consumerd >"$dir/consumer.pids" && break
    sleep 0.1
done
pkill -KILL -P "$sd" -f consumerd
wait $waiter
kill -0 $spawn 2>/dev/null && echo alive >"$dir/consumer.alive"
curl -s -o "$dir/after-consumer.out" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$p2/debug/pprof/trace?seconds=1" >"$dir/after-consumer.code"
# Such a daemon cannot trace any more: restarted, as its operator would, the next works.
kill -KILL "$sd"
for _ in $(seq 50); do kill -0 "$sd" 2>/dev/null || break; sleep 0.1; done
curl -s -o "$dir/restarted.out" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$p2/debug/pprof/trace?seconds=1" >"$dir/restarted.code"
# The trace folder deleted in the middle of a recording.
mkdir -p "$dir/deltmp"
TMPDIR=$dir/deltmp LD_PRELOAD=$lib LTPROF_HTTP=127.0.0.1:$p3 "$prog" 20 >/dev/null 2>&1 &
del=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p3/debug/pprof/" && break; sleep 0.1; done
curl -s -o "$dir/deleted.body" -w '%{http_code} %{time_total}\n' --max-time 60 "http://127.0.0.1:$p3/debug/pprof/trace?seconds=3" >"$dir/deleted.code" &
waiter=$!
sleep 1.5
ls -A "$dir/deltmp" >"$dir/deleted.before"
rm -rf "$dir"/deltmp/*
wait $waiter
kill -0 $del 2>/dev/null && echo alive >"$dir/deleted.alive"
curl -s -o "$dir/after-deleted.out" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$p3/debug/pprof/trace?seconds=1" >"$dir/after-deleted.code"
kill $del 2>/dev/null
# A full disk: the trace folder on a 48 KiB file system (the metadata alone is more).
mkdir -p "$dir/small"
mount -t tmpfs -o size=48k none "$dir/small"
TMPDIR=$dir/small LD_PRELOAD=$lib LTPROF_HTTP=127.0.0.1:$p1 "$prog" 20 >/dev/null 2>&1 &
full=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p1/debug/pprof/" && break; sleep 0.1; done
curl -s -o "$dir/full.body" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$p1/debug/pprof/trace?seconds=3" >"$dir/full.code"
kill -0 $full 2>/dev/null && echo alive >"$dir/full.alive"
sleep 2 # the session is destroyed and its folder removed in the background
ls -A "$dir/small" >"$dir/full.left"
kill $spawn $full 2>/dev/null
wait $spawn $full 2>/dev/null
umount "$dir/small"
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
exit 0
INNER
    mkdir -p /var/run/lttng /dev/shm
    rc=0
    unshare -m --propagation private bash "$IT_TMP/inner.sh" "$IT_TMP" "$LTPROF_LIB" "$demo_cpu" \
        "$(free_port)" "$(free_port)" "$(free_port)" || rc=$?
    [ "$rc" -ne 3 ] || fail "could not hide the machine's session daemon"
    echo "never: $(cat "$IT_TMP/never.code") $(cat "$IT_TMP/never.body")"
    [ "$(cat "$IT_TMP/never.code")" = 503 ] || soft_fail "no sessiond, never: status $(cat "$IT_TMP/never.code")"
    grep -q 'lttng-sessiond --daemonize' "$IT_TMP/never.body" ||
        soft_fail "the 503 does not say how to start a session daemon"
    [ "$(cat "$IT_TMP/never-cpu.code")" = 200 ] || soft_fail "no sessiond: /profile did not fall back"
    pprof_text "$GO" "$IT_TMP/never-cpu.raw" -raw "$IT_TMP/never-cpu.pb.gz"
    grep -q 'samples, 0 lost\|samples, [0-9]* lost' "$IT_TMP/never-cpu.raw" ||
        soft_fail "the fallback profile is not the in-process one"
    echo "spawn: $(cat "$IT_TMP/spawn.code"), $(cat "$IT_TMP/spawned" 2>/dev/null || echo "no daemon spawned")"
    [ "$(cat "$IT_TMP/spawn.code")" = 200 ] || soft_fail "no sessiond, spawn: status $(cat "$IT_TMP/spawn.code")"
    [ -f "$IT_TMP/spawned" ] || soft_fail "no session daemon was spawned"
    run_limited 120 "$GO" tool trace -d "$IT_TMP/spawn.out" >"$IT_TMP/spawn.d" 2>&1 ||
        soft_fail "the trace recorded through a spawned daemon is refused"
    grep -q hasher "$IT_TMP/spawn.d" || soft_fail "the trace through a spawned daemon misses the program"
    read -r code took <"$IT_TMP/killed.code"
    echo "session daemon killed during trace?seconds=3: $code after ${took}s: $(head -c 300 "$IT_TMP/killed.body")"
    [ "$code" = 500 ] || soft_fail "a recording whose daemon died got $code"
    [ -f "$IT_TMP/killed.alive" ] || soft_fail "the program died with its session daemon"
    recorded_again "after the daemon died" "$IT_TMP/again.code"
    read -r code took <"$IT_TMP/consumer.code"
    echo "consumer daemon (pids $(tr '\n' ' ' <"$IT_TMP/consumer.pids")) killed during" \
         "trace?seconds=3: $code after ${took}s: $(head -c 300 "$IT_TMP/consumer.body" | tr -cd '[:print:]')"
    [ -s "$IT_TMP/consumer.pids" ] || soft_fail "no consumer daemon to kill"
    failed_recording "consumer killed" "$code" "$IT_TMP/consumer.body" "$IT_TMP/consumer.alive"
    echo "the recording after it: $(cat "$IT_TMP/after-consumer.code"):" \
         "$(head -c 300 "$IT_TMP/after-consumer.out" | tr -cd '[:print:]')"
    [ "$(cat "$IT_TMP/after-consumer.code")" = 500 ] &&
        grep -q 'restart lttng-sessiond' "$IT_TMP/after-consumer.out" ||
        soft_fail "the recording after the consumer died: not a 500 that says to restart the daemon"
    recorded_again "after the daemon's restart" "$IT_TMP/restarted.code"
    read -r code took <"$IT_TMP/deleted.code"
    echo "trace folder ($(tr '\n' ' ' <"$IT_TMP/deleted.before")) deleted during" \
         "trace?seconds=3: $code after ${took}s: $(head -c 300 "$IT_TMP/deleted.body" | tr -cd '[:print:]')"
    [ -s "$IT_TMP/deleted.before" ] || soft_fail "no recording folder to delete"
    failed_recording "folder deleted" "$code" "$IT_TMP/deleted.body" "$IT_TMP/deleted.alive"
    recorded_again "after the deleted folder" "$IT_TMP/after-deleted.code"
    echo "disk full: $(cat "$IT_TMP/full.code"), $(stat -c %s "$IT_TMP/full.body") bytes:" \
         "$(head -c 300 "$IT_TMP/full.body" | tr -cd '[:print:]' | head -c 200)"
    failed_recording "disk full" "$(cat "$IT_TMP/full.code")" "$IT_TMP/full.body" "$IT_TMP/full.alive"
    [ ! -s "$IT_TMP/full.left" ] || soft_fail "the full disk keeps: $(cat "$IT_TMP/full.left")"
fi

it_finish
