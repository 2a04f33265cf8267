#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace: `ltprof record` of a program that blocks in every way ltprof records (mutex, rwlock,
# condition variable, semaphore, barrier, pipe and socket I/O, sleeps, joins, tasks and regions,
# tests/programs/trace_mix.c) gives a Go execution trace that Go 1.19's and a newer Go's
# `go tool trace` accept, whose -pprof=sync, syscall and sched profiles name the right call
# sites, whose viewer pages all answer without a panic; mutex.pb.gz, block.pb.gz and
# threadcreate.pb.gz put the waits and the thread creations at the right functions; babeltrace2 with sink.ltprof.gotrace
# writes the same trace.out and, asked with json=yes, the same timeline as valid JSON (a log
# message that is not UTF-8 keeps its good characters, its bad byte becomes U+FFFD).
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/trace_mix

require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" "$prog" >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
trace=$IT_TMP/rec/trace.out
require_file "$trace" "ltprof record's execution trace"
[ ! -e "$IT_TMP/rec/trace.json" ] || fail "ltprof record wrote trace.json without --outputs json"
grep -q 'execution trace: 18 threads' "$IT_TMP/record.out" ||
    soft_fail "the summary does not count the 18 threads"

step "go tool trace -d (Go 1.19)"
run_limited 120 go tool trace -d "$trace" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
"${GTCHECK[@]}" events "$IT_TMP/events.txt" GoCreate=17 GoEnd=17 GoBlockSync=20 GoBlockCond=5 \
    GoBlock=1 GoSleep=20 GoSysCall=20 GoSysExit=20 GoUnblock=40 UserTaskCreate=1 UserTaskEnd=1 \
    UserRegion=6 UserLog=2 HeapAlloc=1 Gomaxprocs=1 || soft_fail "event counts"

# pprof -traces of each profile: the leaf is the pthread or libc function, its caller the
# test program's function that made the call.
check_profiles() {
    local go=$1 tag=$2
    step "$go tool trace -pprof=sync|syscall|sched: call sites"
    gt_profile "$go" "$trace" sync "$IT_TMP/sync-$tag.txt" || soft_fail "-pprof=sync"
    "${GTCHECK[@]}" pairs "$IT_TMP/sync-$tag.txt" pthread_mutex_lock\<contend_mutex \
        pthread_cond_wait\<consume_items pthread_rwlock_rdlock\<rw_read \
        pthread_rwlock_wrlock\<rw_write sem_wait\<sem_take pthread_barrier_wait\<barrier_meet ||
        soft_fail "sync profile call sites ($tag)"
    gt_profile "$go" "$trace" syscall "$IT_TMP/syscall-$tag.txt" || soft_fail "-pprof=syscall"
    # Go 1.23+ end a syscall's time only at the goroutine's next state change that has a stack
    # and is not another syscall (cmd/trace/pprof.go); a GoSysExit has none, so a thread that
    # only makes syscalls gets no sample there. Go 1.19 counts each call (see docs/go-trace.md).
    if [ "$tag" = go1.19 ]; then
        "${GTCHECK[@]}" pairs "$IT_TMP/syscall-$tag.txt" read\<pipe_receive recv\<socket_ping \
            recv\<socket_pong || soft_fail "syscall profile call sites ($tag)"
    fi
    gt_profile "$go" "$trace" sched "$IT_TMP/sched-$tag.txt" || soft_fail "-pprof=sched"
    "${GTCHECK[@]}" pairs "$IT_TMP/sched-$tag.txt" pthread_create\<main \
        pthread_mutex_unlock\<contend_mutex pthread_cond_signal\<produce_items sem_post\<main ||
        soft_fail "sched profile call sites ($tag)"
}
check_profiles go go1.19

# The profiles counted from the same events: mutex (locks), block (every synchronisation wait),
# threadcreate (who created the 17 threads), read by `go tool pprof`.
check_event_profiles() {
    local go=$1 tag=$2 f
    step "$go tool pprof: mutex.pb.gz, block.pb.gz, threadcreate.pb.gz ($tag)"
    for f in mutex block threadcreate; do
        pprof_text "$go" "$IT_TMP/$f-$tag.raw" -raw "$IT_TMP/rec/$f.pb.gz"
        pprof_text "$go" "$IT_TMP/$f-$tag.top" -top -nodecount=100 "$IT_TMP/rec/$f.pb.gz"
    done
    grep -q '^contentions/count delay/nanoseconds' "$IT_TMP/mutex-$tag.raw" &&
        grep -q '^contentions/count delay/nanoseconds' "$IT_TMP/block-$tag.raw" &&
        grep -q '^threadcreate/count' "$IT_TMP/threadcreate-$tag.raw" ||
        soft_fail "sample types ($tag)"
    local fn
    for fn in contend_mutex rw_read rw_write; do
        grep -Eq "[0-9.]+(ms|s|us) +[0-9.]+% .* $fn\$" "$IT_TMP/mutex-$tag.top" ||
            soft_fail "mutex profile: no time at $fn ($tag)"
    done
    for fn in consume_items sem_take barrier_meet; do
        ! grep -q " $fn\$" "$IT_TMP/mutex-$tag.top" ||
            soft_fail "mutex profile: $fn is no lock wait ($tag)"
    done
    for fn in contend_mutex rw_read rw_write consume_items sem_take barrier_meet; do
        grep -Eq "[0-9.]+(ms|s|us) +[0-9.]+% .* $fn\$" "$IT_TMP/block-$tag.top" ||
            soft_fail "block profile: no time at $fn ($tag)"
    done
    local created
    created=$(awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $1 ~ /:$/ { sub(":", "", $1); n += $1 } END { print n + 0 }' "$IT_TMP/threadcreate-$tag.raw")
    [ "$created" = 17 ] || soft_fail "threadcreate: $created threads, want 17 ($tag)"
    grep -Eq '^ +17 +100% +100% +17 +100% +main$' "$IT_TMP/threadcreate-$tag.top" ||
        soft_fail "threadcreate: main did not create the 17 threads ($tag)"
}
check_event_profiles go go1.19

step "the trace viewer's pages (Go 1.19)"
task=$(sed -n 's/.* UserTaskCreate .* taskid=\([0-9]*\) .*/\1/p' "$IT_TMP/events.txt" | sed -n 1p)
[ -n "$task" ] || soft_fail "no task id in the listing"
gt_http_check go "$trace" "$IT_TMP" / /jsontrace /goroutines /usertasks /userregions /mmu \
    '/sched?raw=1' '/syscall?raw=1' '/block?raw=1' '/io?raw=1' '/usertask?type=mix' \
    '/userregion?type=feed' "/jsontrace?taskid=${task:-1}" || soft_fail "Go 1.19 trace viewer"

newgo=$(newer_go)
if [ -n "$newgo" ]; then
    step "$("$newgo" version): -d=parsed, profiles, viewer"
    run_limited 120 "$newgo" tool trace -d=parsed "$trace" >"$IT_TMP/parsed.txt" 2>"$IT_TMP/p.err" ||
        { cat "$IT_TMP/p.err"; soft_fail "the newer go tool trace rejects the trace"; }
    for want in 'Reason="sync"' 'Reason="sleep"' 'Reason="preempted"' 'Running->NotExist' \
                'Running->Syscall' 'Syscall->Runnable' 'Type="mix"' \
                'Category="status" Message="fed all threads"'; do
        grep -qF "$want" "$IT_TMP/parsed.txt" || soft_fail "no '$want' in -d=parsed"
    done
    # The syscall transitions carry the call and its caller.
    grep -A5 'Running->Syscall' "$IT_TMP/parsed.txt" | grep -A2 'read @' | grep pipe_receive >/dev/null ||
        soft_fail "no syscall transition in read() called from pipe_receive"

    check_profiles "$newgo" newer
    check_event_profiles "$newgo" newer
    gt_http_check "$newgo" "$trace" "$IT_TMP" / /jsontrace '/jsontrace?view=thread' /goroutines \
        /usertasks /userregions /mmu '/sched?raw=1' '/syscall?raw=1' '/block?raw=1' \
        '/usertask?type=mix' '/userregion?type=feed' || soft_fail "newer trace viewer"
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi

step "babeltrace2 -c sink.ltprof.gotrace -p json=yes: the same trace.out, and trace.json"
rc=0
run_limited 120 babeltrace2 --plugin-path="$LTPROF_PLUGIN_DIR" convert "$IT_TMP/rec/ctf" \
    -c sink.ltprof.gotrace -p "path=\"$IT_TMP/bt2\",json=yes" || rc=$?
[ "$rc" -eq 0 ] || fail "babeltrace2 with sink.ltprof.gotrace exited with $rc"
require_file "$IT_TMP/bt2/trace.json" "sink.ltprof.gotrace's JSON trace"
[ ! -e "$IT_TMP/bt2/cpu.pb.gz" ] || fail "sink.ltprof.gotrace wrote a CPU profile"
cmp "$trace" "$IT_TMP/bt2/trace.out" || fail "sink.ltprof.gotrace wrote another trace.out"

step "trace.json (Chrome/Perfetto)"
"${GTCHECK[@]}" json "$IT_TMP/bt2/trace.json" --thread lock-1 --thread consumer --thread piper \
    --slice 'blocked: mutex' --slice 'blocked: cond' --slice 'syscall: read' \
    --slice 'sleep: nanosleep' --slice running --flows 20 --samples 1 \
    --log "$(printf 'caf\xc3\xa9 \xef\xbf\xbd!')" || soft_fail "JSON trace"
it_finish
