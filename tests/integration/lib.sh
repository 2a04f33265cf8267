# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests (sourced by each test_*.sh, never run directly).
# Paths come from ctest's environment (tests/integration/CMakeLists.txt): LTPROF_BIN, LTPROF_LIB,
# LTPROF_PLUGIN_DIR, LTPROF_PROGRAMS, LTPROF_BUILD_DIR, LTPROF_SOURCE_DIR. Each test gets a temp
# dir ($IT_TMP) and a session-name prefix; both are cleaned up on exit, whatever happens.
set -euo pipefail

: "${LTPROF_BIN:?set by ctest}" "${LTPROF_LIB:?}" "${LTPROF_PLUGIN_DIR:?}" "${LTPROF_PROGRAMS:?}"
: "${LTPROF_BUILD_DIR:?}" "${LTPROF_SOURCE_DIR:?}"
PYTHON=${PYTHON:-/usr/bin/python3}
GO=${GO:-go}
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECK=("$PYTHON" "$IT_DIR/pprof_check.py")
IT_NAME=$(basename "$0" .sh)
IT_TMP=$(mktemp -d "/tmp/ltprof-it-$IT_NAME.XXXXXX")
IT_SESSIONS=()
IT_PIDS=()  # background processes to stop at exit (a process that died meanwhile is reported)
IT_LOGS=()  # files whose last lines are printed when the test fails
IT_FAILED=0

it_cleanup() {
    local rc=$?
    local s p
    for p in "${IT_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || echo "process $p had died" >&2
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
        for s in "${IT_LOGS[@]}"; do
            echo "--- the end of $s:" >&2
            tail -20 "$s" >&2 || true
        done
    fi
    for s in "${IT_SESSIONS[@]}"; do
        lttng destroy "$s" >/dev/null 2>&1 || true
    done
    if [ "$rc" -eq 0 ] || [ -z "${IT_KEEP_ON_FAILURE:-}" ]; then
        rm -rf "$IT_TMP"
    else
        echo "kept $IT_TMP for inspection" >&2
    fi
    exit "$rc"
}
trap it_cleanup EXIT
# A command that fails outside a condition ends the test (set -e): say which.
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with $?" >&2' ERR

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A failed check that lets the test go on so the log shows every problem; see it_finish.
soft_fail() {
    echo "FAIL: $*" >&2
    IT_FAILED=1
}

it_finish() {
    if [ "$IT_FAILED" -ne 0 ]; then
        fail "$IT_NAME: some checks failed (see above)"
    fi
    echo "PASS: $IT_NAME"
}

step() {
    echo "--- $*"
}

require_file() {
    [ -e "$1" ] || fail "missing $1${2:+ ($2)}"
}

# The pieces every test needs; a missing one is a failure (the build must produce them).
require_built() {
    require_file "$LTPROF_BIN" "the ltprof command"
    require_file "$LTPROF_LIB" "libltprof.so"
    require_file "$LTPROF_PLUGIN_DIR/babeltrace2-plugin-ltprof.so" "the babeltrace2 plugin"
}

# ---- Sanitized builds (LTPROF_SANITIZER, set by tests/integration/CMakeLists.txt) -------------
# Under AddressSanitizer, libltprof.so and the babeltrace2 plugin carry ASan's instrumentation,
# and ASan's runtime must be loaded before libc in every process that runs them. Our programs
# link it, but LD_PRELOAD puts libltprof.so ahead of it (as `ltprof record` does), which
# verify_asan_link_order=0 accepts; then ltprof's wrappers see the program's calls first, as in
# other builds. A program not built with ASan needs the runtime preloaded: the babeltrace2 shim
# and ASAN_FIRST do that. Such a program with libltprof.so preloaded hangs at its first locale
# call (bash, python3, timeout: __libc_setlocale_lock is found held), so the tests preload
# libltprof.so only into our programs there. A finding exits 86, which no test expects.
LTPROF_SANITIZER=${LTPROF_SANITIZER:-none}
# ASAN_FIRST: a prefix for a command whose children run programs not built with ASan (a traced
# program that execs /bin/true); empty in other builds.
ASAN_FIRST=()
if [ "$LTPROF_SANITIZER" = address ]; then
    [ -r "${LTPROF_ASAN_RUNTIME:-}" ] || fail "LTPROF_ASAN_RUNTIME=\"${LTPROF_ASAN_RUNTIME:-}\" is not the ASan runtime"
    export ASAN_OPTIONS="verify_asan_link_order=0:exitcode=86:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    export LSAN_OPTIONS="suppressions=$IT_DIR/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    ASAN_FIRST=(env "LD_PRELOAD=$LTPROF_ASAN_RUNTIME${LD_PRELOAD:+:$LD_PRELOAD}")
    mkdir -p "$IT_TMP/asan-bin"
    printf '#!/bin/sh\nLD_PRELOAD="%s${LD_PRELOAD:+:$LD_PRELOAD}" exec %s "$@"\n' \
        "$LTPROF_ASAN_RUNTIME" "$(command -v babeltrace2)" >"$IT_TMP/asan-bin/babeltrace2"
    chmod +x "$IT_TMP/asan-bin/babeltrace2"
    PATH="$IT_TMP/asan-bin:$PATH"
fi

# have_heap_sampler: libltprof.so interposes malloc here. A sanitized build leaves malloc to
# the sanitizer's runtime, so its heap profiles are empty and their content is not checked.
have_heap_sampler() {
    [ "$LTPROF_SANITIZER" = none ]
}

# skip_under SANITIZER REASON: this test does not run in a build with SANITIZER (exit 77).
skip_under() {
    if [ "$LTPROF_SANITIZER" = "$1" ]; then
        echo "SKIP: $IT_NAME under $1: $2"
        exit 77
    fi
}

# Starts a root session daemon when none answers, like the lttng CLI would.
ensure_sessiond() {
    if ! lttng list >/dev/null 2>&1; then
        step "no session daemon: starting lttng-sessiond --daemonize --no-kernel"
        lttng-sessiond --daemonize --no-kernel || fail "cannot start lttng-sessiond"
        lttng list >/dev/null 2>&1 || fail "lttng-sessiond started but does not answer"
    fi
    destroy_orphan_sessions
}

# A test that was killed leaves its sessions behind, and an active one traces every later
# program (an "untraced" check then sees tracing on): sessions named it-TEST-PID-* whose test
# process is gone are destroyed.
destroy_orphan_sessions() {
    local s pid
    for s in $(lttng list 2>/dev/null | sed -n 's/^ *[0-9]*) \(it-[^ ]*\) .*/\1/p'); do
        pid=$(sed -n 's/^it-.*-\([0-9][0-9]*\)-[^-]*$/\1/p' <<<"$s")
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null || continue
        echo "destroying $s, left by a test process that is gone"
        lttng destroy "$s" >/dev/null 2>&1 || true
    done
}

# new_session NAME OUTPUT_DIR [lttng create options...]: creates a unique session, destroyed
# on exit, and sets SESSION to its name (not a $(...) call: the cleanup list must see it).
new_session() {
    local out=$2
    SESSION="it-$IT_NAME-$$-$1"
    shift 2
    lttng create "$SESSION" --output="$out" "$@" >/dev/null || fail "lttng create $SESSION"
    IT_SESSIONS+=("$SESSION")
}

# Runs a command with a hard time limit; the status is returned, never fatal by itself.
run_limited() {
    local secs=$1
    shift
    timeout --kill-after=10 "$secs" "$@"
}

# ltprof_record OUT_DIR PROGRAM [ARGS...]: `ltprof record` with a time limit, checked.
ltprof_record() {
    local out=$1 rc=0
    shift
    step "ltprof record -o $out -- $*"
    run_limited 120 "$LTPROF_BIN" record -o "$out" -- "$@" || rc=$?
    [ "$rc" -eq 0 ] || fail "ltprof record exited with $rc"
    require_file "$out/cpu.pb.gz" "ltprof record output"
    [ -d "$out/ctf" ] || fail "ltprof record left no CTF trace in $out/ctf"
    echo "recorded: $(du -sh "$out/ctf" | cut -f1) of CTF," \
         "$(stat -c %s "$out/cpu.pb.gz") bytes of pprof"
}

# pprof_text GO_BINARY OUTPUT_FILE PPROF_ARGS...: runs `go tool pprof`, exit 0 required.
pprof_text() {
    local go=$1 out=$2 rc=0
    shift 2
    run_limited 60 "$go" tool pprof "$@" >"$out" 2>"$out.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$out.err" >&2
        fail "$go tool pprof $* exited with $rc"
    fi
}

# check_stacks_profile GO PROFILE PROGRAM_BASENAME KIND: the record_* assertions, shared with
# newer_go. KIND is c or cpp. Uses -symbolize=none so every name is ltprof's own work.
check_stacks_profile() {
    local go=$1 prof=$2 prog=$3 kind=$4 d
    d=$(dirname "$prof")/pprof-$(basename "$go")-$kind
    mkdir -p "$d"
    step "$go tool pprof -raw / -top / -traces on $prof ($($go version | cut -d' ' -f3))"
    pprof_text "$go" "$d/raw.txt" -symbolize=none -raw "$prof"
    pprof_text "$go" "$d/top.txt" -top -nodecount=200 "$prof"
    pprof_text "$go" "$d/traces.txt" -symbolize=none -traces -sample_index=samples "$prof"
    sed -n '1,20p' "$d/top.txt"
    local threads=(--thread worker-1 --thread worker-2 --thread worker-3)
    if [ "$kind" = c ]; then
        "${CHECK[@]}" check-raw "$d/raw.txt" --program "$prog" --file stacks.c --min-samples 100 \
            "${threads[@]}" --inline mix_step@leaf_spin \
            --func burn_loop --func stage_1 --func stage_2 --func stage_3 --func stage_4 \
            --func stage_5 --func stage_6 --func leaf_spin --func leaf_sort --func cmp_burn \
            --func worker_main --func main || soft_fail "pprof -raw checks ($go)"
        grep -q 'stage_6' "$d/top.txt" || soft_fail "-top does not show stage_6"
        "${CHECK[@]}" completeness "$d/traces.txt" --roots main,worker_main --min 95 \
            --through cmp_burn@stage_6 --through leaf_spin@stage_1 \
            || soft_fail "stack completeness ($go)"
    else
        "${CHECK[@]}" check-raw "$d/raw.txt" --program "$prog" --file stacks_cpp.cpp \
            --min-samples 100 "${threads[@]}" --substring \
            --func 'ltprof_test::Burner::run' --func 'ltprof_test::Burner::stage_a' \
            --func 'ltprof_test::stage_b<' --func 'ltprof_test::Burner::stage_d' \
            --func 'ltprof_test::Burner::spin' --func 'ltprof_test::Burner::sort_burn' \
            --func 'ltprof_test::burn_compare' --func 'worker_main' \
            || soft_fail "pprof -raw checks ($go)"
        # Qualified names for static functions and template instances, as `nm -C` and
        # `addr2line -C -f` print them; inline frames' qualification is only reported (binutils'
        # addr2line prints bare DW_AT_names there too, llvm-symbolizer qualifies them).
        "${CHECK[@]}" check-raw "$d/raw.txt" --file stacks_cpp.cpp \
            --func-re '^ltprof_test::stage_c_trampoline\b' --func-re '^ltprof_test::call_with<' \
            --func-re '^std::__introsort_loop<' --warn-func-re '^std::sort<' \
            --warn-func-re 'lambda\(.*\)::operator\(\)' --warn-func-re '^ltprof_test::mix_step\b' \
            || soft_fail "qualified C++ names ($go)"
        grep -q 'ltprof_test::' "$d/top.txt" || soft_fail "-top shows no ltprof_test:: name"
        "${CHECK[@]}" completeness "$d/traces.txt" --roots main,worker_main --min 95 \
            --through ltprof_test::burn_compare@ltprof_test::Burner::run \
            || soft_fail "stack completeness ($go)"
    fi
}

# run_tracked SESSION CMD [ARGS...]: starts CMD stopped, limits SESSION to its vpid (so other
# traced programs on the machine stay out of the trace), starts SESSION, then lets CMD run.
run_tracked() {
    local session=$1 pid rc=0
    shift
    bash -c 'kill -STOP $$; exec "$@"' run_tracked "$@" &
    pid=$!
    for _ in $(seq 100); do
        case "$(ps -o stat= -p "$pid" 2>/dev/null)" in T*) break ;; esac
        sleep 0.05
    done
    lttng untrack -u -s "$session" --all --vpid >/dev/null || fail "lttng untrack"
    lttng track -u -s "$session" --vpid="$pid" >/dev/null || fail "lttng track --vpid=$pid"
    lttng start "$session" >/dev/null || fail "lttng start $session"
    kill -CONT "$pid"
    wait "$pid" || rc=$?
    return "$rc"
}

# Event counts of a CTF trace by name, one "COUNT NAME" line each (babeltrace2 text output).
trace_event_counts() {
    run_limited 60 babeltrace2 "$1" 2>/dev/null |
        sed -n 's/^\[[^]]*\] ([^)]*) [^ ]* \([a-z_0-9]*:[a-z_0-9]*\): .*/\1/p' |
        sort | uniq -c | sort -rn
}
# Note for pipelines: with pipefail, a consumer that stops early (grep -q, head) can kill the
# producer with SIGPIPE and fail the pipeline; use `grep ... >/dev/null` and `sed -n 1p`.

# The trace checks shared with the converter's tests, and the Go-trace checker.
source "$IT_DIR/../gotrace_checks.sh"
GTCHECK=("$PYTHON" "$IT_DIR/gotrace_check.py")

# newer_go: prints the path of a current Go (shared/tools/newer-go.sh), or nothing when that Go
# cannot be had here; the callers then say they skip its checks.
newer_go() {
    local script=${LTPROF_NEWER_GO_SCRIPT:-$LTPROF_SOURCE_DIR/../shared/tools/newer-go.sh} go
    [ -x "$script" ] || return 0
    go=$(run_limited 600 "$script" 2>/dev/null) || return 0
    [ -x "$go" ] && echo "$go"
    return 0
}

# ---- heap profiles of tests/programs/heap_sites (test_heap.sh, test_heap_inprocess.sh) ------

# heap_site_values RAW_LISTING FUNCTION: the sums "alloc_objects alloc_space inuse_objects
# inuse_space" of the samples (`go tool pprof -raw`) whose leaf is FUNCTION.
heap_site_values() {
    awk -v fn="$2" '
        /^Samples:/ { s = 1; next }
        /^Locations/ { s = 0; l = 1; next }
        /^Mappings/ { l = 0 }
        s && $4 ~ /:$/ { n++; for (k = 1; k <= 4; k++) v[n, k] = $k + 0; leaf[n] = $5 }
        l && $1 ~ /:$/ { sub(":", "", $1); name[$1] = $4 }
        END { for (i = 1; i <= n; i++) if (name[leaf[i]] == fn) for (k = 1; k <= 4; k++) t[k] += v[i, k]
              printf "%d %d %d %d\n", t[1], t[2], t[3], t[4] }' "$1"
}

# heap_truth NAME: a number from HEAP_TRUTH, the line heap_sites printed
# ("keep_64=... keep_32=... keep_16=... churn=... objects=...").
heap_truth() {
    sed "s/.*$1=\([0-9]*\).*/\1/" <<<"$HEAP_TRUTH"
}

# check_heap_exact PROFILE TAG: a heap profile of heap_sites at rate 1: each site's bytes and
# objects in use exactly the truth, nothing of churn in use, churn's allocated bytes at least
# what it allocated.
check_heap_exact() {
    local prof=$1 tag=$2 raw="$IT_TMP/$2.raw" objects=0 site n bytes churn_alloc churn_inuse
    pprof_text go "$raw" -raw "$prof"
    grep -q '^alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes' "$raw" ||
        soft_fail "$prof does not have Go's four sample types ($tag)"
    grep -q '^Period: 1$' "$raw" || soft_fail "rate 1 is not period 1 ($tag)"
    for site in keep_64 keep_32 keep_16; do
        read -r _ _ n bytes <<<"$(heap_site_values "$raw" "$site")"
        echo "$site: $bytes bytes in $n objects in use (truth $(heap_truth "$site") bytes)"
        [ "$bytes" = "$(heap_truth "$site")" ] ||
            soft_fail "$site: $bytes bytes in use, want $(heap_truth "$site") ($tag)"
        objects=$((objects + n))
    done
    [ "$objects" = "$(heap_truth objects)" ] ||
        soft_fail "the sites keep $objects objects in the profile, $(heap_truth objects) in truth ($tag)"
    read -r _ churn_alloc _ churn_inuse <<<"$(heap_site_values "$raw" churn)"
    echo "churn: $churn_alloc bytes allocated, $churn_inuse in use" \
         "(truth: $(heap_truth churn) allocated, 0 kept)"
    [ "$churn_inuse" = 0 ] || soft_fail "churn: $churn_inuse bytes in use, want 0 ($tag)"
    [ "$churn_alloc" -ge "$(heap_truth churn)" ] ||
        soft_fail "churn: $churn_alloc bytes allocated, fewer than $(heap_truth churn) ($tag)"
}

# check_heap_within PROFILE TAG RATE: a heap profile of heap_sites sampled at RATE: the period
# is RATE and each site's bytes in use are within 10 % of the truth.
check_heap_within() {
    local prof=$1 tag=$2 rate=$3 raw="$IT_TMP/$2.raw" site bytes want
    pprof_text go "$raw" -raw "$prof"
    grep -q "^Period: $rate\$" "$raw" || soft_fail "rate $rate is not the period ($tag)"
    for site in keep_64 keep_32 keep_16; do
        read -r _ _ _ bytes <<<"$(heap_site_values "$raw" "$site")"
        want=$(heap_truth "$site")
        awk -v b="$bytes" -v w="$want" -v s="$site" 'BEGIN {
            printf "%s: %d bytes in use, truth %d (%+.2f %%)\n", s, b, w, (b - w) * 100 / w
            e = b - w; if (e < 0) e = -e; exit !(e <= 0.1 * w) }' ||
            soft_fail "$site: $bytes bytes in use, not within 10 % of $want ($tag)"
    done
}

# ---- HTTP (test_http*.sh) ----------------------------------------------------------------------

# free_port: a TCP port nobody listens on now on 127.0.0.1.
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: waits until URL answers (any status), fails after SECONDS (10).
wait_http() {
    local url=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 10; i++)); do
        curl -s -o /dev/null --max-time 2 "$url" && return 0
        sleep 0.1
    done
    fail "nothing answers at $url after ${limit}s"
}

# serve_demo_cpu SECONDS: starts ltprof-demo-cpu for SECONDS, preloaded with LTPROF_HTTP on a
# free loopback port, and waits until it serves; sets `port` and `pid` (not a $(...) call: the
# cleanup list must see the pid). Its output goes to $IT_TMP/demo.out and demo.err.
serve_demo_cpu() {
    port=$(free_port)
    LD_PRELOAD="$LTPROF_LIB" LTPROF_HTTP="127.0.0.1:$port" "$LTPROF_BUILD_DIR/bin/ltprof-demo-cpu" \
        "$1" >"$IT_TMP/demo.out" 2>"$IT_TMP/demo.err" &
    pid=$!
    IT_PIDS+=($pid)
    IT_LOGS+=("$IT_TMP/demo.err")
    wait_http "http://127.0.0.1:$port/debug/pprof/"
}

# check_status URL STATUS [BODY_LINE] [CURL_ARGS...]: the reply's status is STATUS and, when
# BODY_LINE is not empty, its body is exactly BODY_LINE plus a newline (Go's error replies).
check_status() {
    local url=$1 want=$2 body=${3:-} got
    shift 3 || shift $#
    got=$(curl -s -o "$IT_TMP/body" -w '%{http_code}' --max-time 30 "$@" "$url") || true
    if [ "$got" != "$want" ]; then
        soft_fail "$url: status $got, want $want ($(head -c 200 "$IT_TMP/body"))"
    elif [ -n "$body" ] && [ "$(cat "$IT_TMP/body")" != "$body" ]; then
        soft_fail "$url: body \"$(head -c 200 "$IT_TMP/body")\", want \"$body\""
    else
        echo "ok: $want $url${body:+ \"$body\"}"
    fi
}
