#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs traces written by test_gotrace_writer through real readers: `go tool trace` of Go 1.19
# (Debian's golang-go) and of a newer Go (shared/tools/newer-go.sh, Go 1.24).
# Usage: test_gotrace_go.sh reference|go_tool_trace|newer_go|many_events TEST_BIN SRC_DIR
# Exit 77 (ctest skip) when the needed Go toolchain is missing.
set -u
mode=$1 bin=$2 src=$3
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_raw GO PROFILE 'value: function' ...: each listed sample (value, leaf function) exists.
expect_raw() {
    local prof=$1; shift
    go tool pprof -raw "$prof" > "$prof.txt" 2>&1 || fail "pprof -raw $prof"
    for want in "$@"; do
        local value=${want%%:*} fn=${want#*: }
        local ids
        ids=$(awk -v v="$value" '/^Samples/{s=1} /^Locations/{s=0} s && $2 == v":" {print $3}' \
              "$prof.txt")
        [ -n "$ids" ] || { cat "$prof.txt"; fail "$prof: no sample of $value"; }
        local id found=
        for id in $ids; do
            grep -qE "^ +$id: .* $fn " "$prof.txt" && found=1
        done
        [ -n "$found" ] || { cat "$prof.txt"; fail "$prof: $want"; }
    done
}

# http_check GO FILE ENDPOINT...: the viewer's pages (tests/gotrace_checks.sh).
source "$src/../gotrace_checks.sh"
http_check() {
    local go=$1 file=$2
    shift 2
    gt_http_check "$go" "$file" "$work" "$@" || fail "trace viewer checks"
}

case $mode in
reference)
    "$bin" reference "$work/ref.trace" || fail "byte comparison with §7.2"
    command -v go >/dev/null || { echo "go absent: bytes checked, listing not"; exit 0; }
    go tool trace -d=1 "$work/ref.trace" > "$work/events.txt" 2>/dev/null || fail "-d"
    diff "$src/gotrace_reference_events.txt" "$work/events.txt" || fail "events differ from §7.3"
    ;;
go_tool_trace)
    command -v go >/dev/null || { echo "go absent"; exit 77; }
    "$bin" rich "$work/rich.trace" || fail "writing the trace"
    go tool trace -d=1 "$work/rich.trace" > "$work/events.txt" 2>"$work/err" ||
        { cat "$work/err"; fail "go tool trace -d"; }
    for ev in ProcStart ProcStop Gomaxprocs GoCreate GoStart GoEnd GoPreempt GoSleep GoBlock \
              GoBlockSync GoBlockCond GoBlockNet GoUnblock GoSysCall GoSysBlock GoSysExit \
              HeapAlloc HeapGoal CPUSample UserTaskCreate UserTaskEnd UserRegion UserLog; do
        grep -q " $ev " "$work/events.txt" || fail "no $ev in -d output"
    done
    grep -q "^200 GoStart p=1 g=2 .* seq=1$" "$work/events.txt" || fail "causal clamp"
    [ "$(grep -c " HeapAlloc p=1 " "$work/events.txt")" = 2 ] || fail "heap events"
    grep -q "^1800 HeapAlloc p=1 g=2 .* mem=3145728$" "$work/events.txt" || fail "P clamp"
    grep -q "message=worker A started" "$work/events.txt" || fail "user log"
    for m in sync syscall sched net; do
        go tool trace -pprof=$m "$work/rich.trace" > "$work/$m.pb.gz" || fail "-pprof=$m"
    done
    expect_raw "$work/sync.pb.gz" "1300: pthread_mutex_lock" "850: pthread_cond_wait"
    expect_raw "$work/syscall.pb.gz" "1000: write"
    expect_raw "$work/sched.pb.gz" "10: pthread_create" "100: pthread_mutex_unlock" \
        "50: pthread_cond_signal" "100: pthread_exit"
    expect_raw "$work/net.pb.gz" "200: recv"
    http_check go "$work/rich.trace" / /jsontrace /goroutines /usertasks /userregions /mmu \
        '/sched?raw=1' '/syscall?raw=1' '/block?raw=1' '/io?raw=1' \
        '/usertask?type=request' '/jsontrace?goid=3' '/jsontrace?taskid=1'
    ;;
newer_go)
    GO=$(bash "${NEWER_GO_SCRIPT:-$src/../../../shared/tools/newer-go.sh}" 2>/dev/null) ||
        { echo "no newer Go"; exit 77; }
    command -v go >/dev/null || { echo "go absent (pprof -raw)"; exit 77; }
    "$GO" version
    "$bin" reference "$work/ref.trace" > /dev/null || fail "writing reference"
    "$bin" rich "$work/rich.trace" || fail "writing the trace"
    for f in ref rich; do
        "$GO" tool trace -d=parsed "$work/$f.trace" > "$work/$f.txt" 2>"$work/err" ||
            { cat "$work/err"; fail "$GO tool trace -d=parsed $f"; }
    done
    for want in 'GoID=2 NotExist->Runnable' 'Reason="sync" GoID=2 Running->Waiting' \
                'Reason="network"' 'Reason="sleep"' 'GoID=2 Running->NotExist' \
                'StackSample' 'Type="request"' 'Category="status" Message="worker A started"' \
                'Metric Time=400 Name="/memory/classes/heap/objects:bytes"' 'M=202 P=2'; do
        grep -qF "$want" "$work/rich.txt" || fail "no '$want' in -d=parsed"
    done
    [ "$(grep -c StackSample "$work/rich.txt")" = 3 ] || fail "CPU samples"
    for m in sync syscall sched net; do
        "$GO" tool trace -pprof=$m "$work/rich.trace" > "$work/$m.pb.gz" || fail "-pprof=$m"
    done
    # Go 1.24 closes a wait only at the G's next state change that has a stack: the sync waits
    # end with stacked GoUnblocks and match 1.19; see the report for syscall and net.
    expect_raw "$work/sync.pb.gz" "1300: pthread_mutex_lock" "850: pthread_cond_wait"
    expect_raw "$work/syscall.pb.gz" "1400: write"
    http_check "$GO" "$work/rich.trace" / /jsontrace '/jsontrace?view=thread' /goroutines \
        /usertasks /userregions /mmu '/sched?raw=1' '/syscall?raw=1' '/block?raw=1' \
        '/io?raw=1' '/usertask?type=request' '/userregion?type=parse'
    ;;
many_events)
    "$bin" many "$work/many.trace" 1000000 || fail "writing 1M events"
    command -v go >/dev/null || { echo "go absent: written, not read"; exit 77; }
    go tool trace -d=1 "$work/many.trace" > "$work/events.txt" 2>"$work/err" ||
        { cat "$work/err"; fail "go tool trace -d"; }
    n=$(wc -l < "$work/events.txt")
    echo "go tool trace -d=1: $n events"
    [ "$n" -ge 1000000 ] || fail "expected at least 1000000 parsed events, got $n"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
echo "PASS $mode"
