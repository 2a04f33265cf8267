#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# thread_profile: the goroutine-equivalent thread profile of tests/programs/thread_states, five
# threads stopped in known places, written in-process (no LTTng session), at the default rate
# and with CPU sampling off (no signals then: the running thread has no stack):
#   - goroutine.pb.gz (go tool pprof, Go 1.19 and the newer Go): goroutine/count, 6 threads,
#     each function at its thread and state label: lock_wait/locker/mutex, cond_wait_here/
#     waiter/cond, read_wait/reader/read, sleep_here/sleeper/nanosleep, spin_here/spinner/running;
#   - goroutine.txt (debug=1): Go's header and "# labels:" lines, read by pprof's legacy parser;
#   - goroutine-2.txt (debug=2): one "thread <tid> "<name>" [<state>]:" entry per thread with
#     its symbolized stack;
#   - nothing was cut short: no EINTR, the 2 s sleep lasted 2 s (the program checks).
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/thread_states

require_built

# run_states TAG [VAR=VALUE...]
run_states() {
    local tag=$1 rc=0
    shift
    mkdir -p "$IT_TMP/$tag"
    run_limited 60 env "$@" "$prog" "$IT_TMP/$tag" >"$IT_TMP/$tag.out" 2>&1 || rc=$?
    cat "$IT_TMP/$tag.out"
    [ "$rc" -eq 0 ] || soft_fail "thread_states exited with $rc ($tag): a call was cut short?"
    grep -q '^interrupted=0$' "$IT_TMP/$tag.out" || soft_fail "calls were interrupted ($tag)"
}

# at RAW FUNCTION: "thread state" labels of the sample whose leaf is FUNCTION. A leaf in an
# ASan interceptor (a sanitized build's program calls it before ltprof's wrapper) is skipped.
at() {
    awk -v fn="$2" '
        /^Samples:/ { s = 1; next }
        /^Locations/ { s = 0; l = 1; next }
        /^Mappings/ { l = 0 }
        s && $1 ~ /:$/ { n++; ids[n] = $0; next }
        s && /state:\[/ { st[n] = $0 }
        l && $1 ~ /:$/ { sub(":", "", $1); name[$1] = $4 }
        END {
            for (i = 1; i <= n; i++) {
                k = split(ids[i], f, " ")
                for (j = 2; j < k && name[f[j]] ~ /^__interceptor_/; j++) {}
                if (name[f[j]] == fn) print st[i]
            }
        }' "$1"
}

check_states() {
    local go=$1 tag=$2 raw="$IT_TMP/$2-$(basename "$1").raw"
    pprof_text "$go" "$raw" -raw "$IT_TMP/$tag/goroutine.pb.gz"
    grep -q '^goroutine/count' "$raw" || soft_fail "not goroutine/count ($tag)"
    local total
    total=$(awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $1 ~ /:$/ { n += $1 } END { print n + 0 }' "$raw")
    # pprof's tools leave out samples without a stack: the spinner's, when there are no signals
    local want_total=6
    [ "$tag" = nosignals ] && want_total=5
    [ "$total" = "$want_total" ] || soft_fail "$total threads in the profile, want $want_total ($tag)"
    local want
    for want in "lock_wait locker mutex" "cond_wait_here waiter cond" "read_wait reader read" \
                "sleep_here sleeper nanosleep" "spin_here spinner running"; do
        set -- $want
        [ "$tag" = nosignals ] && [ "$1" = spin_here ] && continue # no stack without signals
        at "$raw" "$1" | grep "state:\[$3\] thread:\[$2\]" >/dev/null ||
            soft_fail "$1: not at thread $2 in state $3 ($tag, $go)"
    done
}

step "the default configuration (CPU sampling on)"
run_states default
check_states go default
head -n 3 "$IT_TMP/default/goroutine.txt"
grep -q '^goroutine profile: total 6$' "$IT_TMP/default/goroutine.txt" || soft_fail "debug=1: no header"
grep -q '^# labels: {"state":"mutex", "thread":"locker"}$' "$IT_TMP/default/goroutine.txt" ||
    soft_fail "debug=1: no labels line for the locker"
pprof_text go "$IT_TMP/legacy.raw" -raw -symbolize=none "$IT_TMP/default/goroutine.txt"
grep -q '^goroutine/count' "$IT_TMP/legacy.raw" || soft_fail "pprof does not read debug=1"
grep -Eq '^thread [0-9]+ "locker" \[mutex\]:$' "$IT_TMP/default/goroutine-2.txt" &&
    grep -A1 '"locker"' "$IT_TMP/default/goroutine-2.txt" | grep '^lock_wait(...)$' >/dev/null &&
    grep -Eq '^thread [0-9]+ "spinner" \[running\]:$' "$IT_TMP/default/goroutine-2.txt" ||
    soft_fail "debug=2: not the locker in lock_wait and the spinner running"
[ "$(grep -c '^thread ' "$IT_TMP/default/goroutine-2.txt")" = 6 ] || soft_fail "debug=2: not 6 threads"
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    check_states "$newgo" default
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi

step "CPU sampling off (LTPROF_CPU_HZ=0): blocked threads still have stacks"
run_states nosignals LTPROF_CPU_HZ=0
check_states go nosignals
grep -Eq '^thread [0-9]+ "spinner" \[running\]:$' "$IT_TMP/nosignals/goroutine-2.txt" ||
    soft_fail "debug=2 without signals: the spinner is not listed as running"
it_finish
