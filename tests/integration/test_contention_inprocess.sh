#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# contention_inprocess: the mutex and block profiles written by the process itself
# (LTPROF_MUTEXPROFILE, LTPROF_BLOCKPROFILE at exit; no LTTng session) for
# tests/programs/contention, which measures its own waits: 4 threads contending for one mutex
# in contend(), then waiting on a condition (cond_pause) and a semaphore (sem_pause) about 5 ms.
# Read by `go tool pprof` (Go 1.19, and the newer Go when there is one):
#   - naming the files turns the tables on at fraction 1 and rate 1 (like go test's flags):
#     contend's delay within 10 % of the truth in both profiles, cond_pause and sem_pause in
#     the block profile within 10 %, and not in the mutex profile;
#   - Go's text formats (debug=1, written through ltprof_profile_write found with dlsym): read
#     by pprof's legacy parser with the same total delay as the proto;
#   - LTPROF_MUTEX_FRACTION=4: every sample's contentions a multiple of 4 (Go's scaling), and
#     the text's raw values scaled back by its "sampling period=4";
#     LTPROF_BLOCK_RATE=1000000: the 5 ms waits, longer than the rate, still within 10 %.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/contention

require_built

# run_prog TAG [VAR=VALUE...]: the program with the library and the variables, text profiles
# into $IT_TMP/TAG/; sets TRUTH.
run_prog() {
    local tag=$1 rc=0
    shift
    mkdir -p "$IT_TMP/$tag"
    run_limited 120 env LD_PRELOAD="$LTPROF_LIB" LTPROF_MUTEXPROFILE="$IT_TMP/$tag-mutex.pb.gz" \
        LTPROF_BLOCKPROFILE="$IT_TMP/$tag-block.pb.gz" "$@" "$prog" "$IT_TMP/$tag" \
        >"$IT_TMP/$tag.out" 2>&1 || rc=$?
    cat "$IT_TMP/$tag.out"
    [ "$rc" -eq 0 ] || fail "contention exited with $rc ($tag)"
    TRUTH=$(grep -o 'mutex_wait_ns=.*' "$IT_TMP/$tag.out") || fail "no truth printed ($tag)"
    require_file "$IT_TMP/$tag-mutex.pb.gz"
    require_file "$IT_TMP/$tag-block.pb.gz"
}

truth() { sed "s/.*$1=\([0-9]*\).*/\1/" <<<"$TRUTH"; }

# delay_at RAW FUNCTION: "contentions delay" summed over the samples whose leaf is FUNCTION.
delay_at() {
    awk -v fn="$2" '
        /^Samples:/ { s = 1; next }
        /^Locations/ { s = 0; l = 1; next }
        /^Mappings/ { l = 0 }
        s && $2 ~ /:$/ { n++; cnt[n] = $1; dly[n] = $2 + 0; leaf[n] = $3 }
        l && $1 ~ /:$/ { sub(":", "", $1); name[$1] = $4 }
        END { for (i = 1; i <= n; i++) if (name[leaf[i]] == fn) { c += cnt[i]; d += dly[i] }
              printf "%d %d\n", c, d }' "$1"
}

# within RAW FUNCTION TRUTH_NS TAG: the function's delay within 10 % of TRUTH_NS.
within() {
    local count delay
    read -r count delay <<<"$(delay_at "$1" "$2")"
    awk -v d="$delay" -v w="$3" -v f="$2" -v c="$count" -v t="$4" 'BEGIN {
        printf "%s %s: %d contentions, %.2f ms, truth %.2f ms (%+.2f %%)\n", t, f, c, d / 1e6,
            w / 1e6, w ? (d - w) * 100 / w : 0
        e = d - w; if (e < 0) e = -e; exit !(w > 0 && e <= 0.1 * w) }' ||
        soft_fail "$4: $2's delay is not within 10 % of the truth"
}

step "LTPROF_MUTEXPROFILE and LTPROF_BLOCKPROFILE, every wait"
run_prog all
pprof_text go "$IT_TMP/all-mutex.raw" -raw "$IT_TMP/all-mutex.pb.gz"
pprof_text go "$IT_TMP/all-block.raw" -raw "$IT_TMP/all-block.pb.gz"
for f in mutex block; do
    grep -q '^contentions/count delay/nanoseconds' "$IT_TMP/all-$f.raw" ||
        soft_fail "$f: not Go's sample types"
done
grep -q 'LTPROF_MUTEX_FRACTION 1;' "$IT_TMP/all-mutex.raw" || soft_fail "mutex: the fraction is not 1"
within "$IT_TMP/all-mutex.raw" contend "$(truth mutex_wait_ns)" mutex
within "$IT_TMP/all-block.raw" contend "$(truth mutex_wait_ns)" block
within "$IT_TMP/all-block.raw" cond_pause "$(truth cond_wait_ns)" block
within "$IT_TMP/all-block.raw" sem_pause "$(truth sem_wait_ns)" block
for fn in cond_pause sem_pause; do
    read -r count _ <<<"$(delay_at "$IT_TMP/all-mutex.raw" "$fn")"
    [ "$count" = 0 ] || soft_fail "mutex: $fn is no lock wait"
done

step "Go's text formats (debug=1), read by go tool pprof's legacy parser"
head -n 4 "$IT_TMP/all/mutex.txt"
grep -q '^--- mutex:$' "$IT_TMP/all/mutex.txt" && grep -q '^sampling period=1$' "$IT_TMP/all/mutex.txt" &&
    grep -q '^--- contention:$' "$IT_TMP/all/block.txt" &&
    grep -q '^cycles/second=1000000000$' "$IT_TMP/all/block.txt" || soft_fail "text headers"
# same_total TAG F: the legacy parser's total delay for TAG/F.txt equals the proto's.
same_total() {
    local t p
    pprof_text go "$IT_TMP/$1-$2-text.raw" -raw -symbolize=none "$IT_TMP/$1/$2.txt"
    t=$(total_delay "$IT_TMP/$1-$2-text.raw")
    p=$(total_delay "$IT_TMP/$1-$2.raw")
    echo "$1 $2: text total $t ns, proto total $p ns"
    [ "$t" = "$p" ] || soft_fail "$1/$2.txt: total delay $t, the proto's $p"
}
total_delay() {
    awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && $2 ~ /:$/ { d += $2 } END { printf "%d", d }' "$1"
}
same_total all mutex
same_total all block

step "LTPROF_MUTEX_FRACTION=4, LTPROF_BLOCK_RATE=1000000"
run_prog sampled LTPROF_MUTEX_FRACTION=4 LTPROF_BLOCK_RATE=1000000
pprof_text go "$IT_TMP/sampled-mutex.raw" -raw "$IT_TMP/sampled-mutex.pb.gz"
pprof_text go "$IT_TMP/sampled-block.raw" -raw "$IT_TMP/sampled-block.pb.gz"
awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
     s && $2 ~ /:$/ { n++; c += $1; if ($1 % 4) bad++ }
     END { printf "mutex at fraction 4: %d contentions at %d stacks\n", c, n
           exit !(n > 0 && !bad) }' \
    "$IT_TMP/sampled-mutex.raw" || soft_fail "mutex at fraction 4: counts not multiples of 4"
grep -q '^sampling period=4$' "$IT_TMP/sampled/mutex.txt" || soft_fail "mutex.txt: not period 4"
same_total sampled mutex # the text holds raw values; pprof scales them by the period, as we did
within "$IT_TMP/sampled-block.raw" cond_pause "$(truth cond_wait_ns)" block-1ms
within "$IT_TMP/sampled-block.raw" sem_pause "$(truth sem_wait_ns)" block-1ms

# check_tools GO TAG: the files open in that Go's pprof, the waits at their functions.
check_tools() {
    local go=$1 tag=$2
    step "$go tool pprof -top ($tag)"
    pprof_text "$go" "$IT_TMP/mutex-$tag.top" -top "$IT_TMP/all-mutex.pb.gz"
    pprof_text "$go" "$IT_TMP/block-$tag.top" -top "$IT_TMP/all-block.pb.gz"
    grep -Eq '^Type: delay$' "$IT_TMP/mutex-$tag.top" || soft_fail "mutex: default type not delay ($tag)"
    grep -Eq ' contend$' "$IT_TMP/mutex-$tag.top" || soft_fail "mutex: no contend ($tag)"
    for fn in contend cond_pause sem_pause; do
        grep -Eq " $fn\$" "$IT_TMP/block-$tag.top" || soft_fail "block: no $fn ($tag)"
    done
}
check_tools go go1.19
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    check_tools "$newgo" newer
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi
it_finish
