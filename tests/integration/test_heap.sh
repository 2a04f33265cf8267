#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# heap: tests/programs/heap_sites keeps 64, 32 and 16 MiB live from keep_64, keep_32 and keep_16
# (mixed sizes, malloc / posix_memalign / calloc, three threads) and churns 256 MiB more through
# malloc, realloc and free; it prints the truth. heap.pb.gz and allocs.pb.gz, read by
# `go tool pprof` (Go 1.19, and the newer Go when there is one):
#   - LTPROF_MEMPROFILE_RATE=1 (every allocation): each site's in-use bytes and objects exactly
#     the truth, nothing of churn in use, churn's allocated bytes at least what it allocated;
#   - rate 16384 (Go's own heap-sampling test uses 16 KiB): each site within 10 %, unbiased as
#     Go does (per stack and block size; the sampling error there is about 1 %);
#   - the default rate (512 KiB): period 524288, the three sites and churn present;
#   - with jemalloc preloaded too (LD_PRELOAD=libjemalloc.so.2 under `ltprof record`, which puts
#     libltprof.so first): jemalloc serves the blocks, the live set is still exact at rate 1;
#   - Go's sample types and default types: inuse_space for heap, alloc_space for allocs.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/heap_sites

skip_under address "a sanitized build has no malloc interposer (the sanitizer owns malloc)"
require_built
ensure_sessiond

# record RATE TAG: records heap_sites at LTPROF_MEMPROFILE_RATE=RATE into $IT_TMP/TAG; sets
# HEAP_TRUTH.
record() {
    LTPROF_MEMPROFILE_RATE=$1 ltprof_record "$IT_TMP/$2" "$prog" >"$IT_TMP/$2.out" 2>"$IT_TMP/$2.err"
    cat "$IT_TMP/$2.out"
    HEAP_TRUTH=$(grep -o 'keep_64=.*' "$IT_TMP/$2.out") || fail "the program printed no truth"
    require_file "$IT_TMP/$2/heap.pb.gz"
    require_file "$IT_TMP/$2/allocs.pb.gz"
}

step "every allocation (LTPROF_MEMPROFILE_RATE=1): the live set exactly"
record 1 exact
check_heap_exact "$IT_TMP/exact/heap.pb.gz" exact

step "jemalloc preloaded after libltprof.so: still exact"
jemalloc=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
[ -n "$jemalloc" ] || fail "libjemalloc.so.2 is not installed (scripts/deps.sh installs libjemalloc2)"
LD_PRELOAD=$jemalloc MALLOC_CONF=stats_print:true record 1 jemalloc
grep -q 'jemalloc statistics' "$IT_TMP/jemalloc.err" ||
    soft_fail "jemalloc did not serve the program (no statistics at exit)"
check_heap_exact "$IT_TMP/jemalloc/heap.pb.gz" jemalloc

step "sampled at 16 KiB: each site within 10 % of the truth"
record 16384 sampled
check_heap_within "$IT_TMP/sampled/heap.pb.gz" sampled 16384

step "the default rate (512 KiB, like Go)"
record "" default
pprof_text go "$IT_TMP/default.raw" -raw "$IT_TMP/default/heap.pb.gz"
grep -q '^Period: 524288$' "$IT_TMP/default.raw" || soft_fail "the default rate is not period 524288"
for site in keep_64 keep_32 keep_16 churn; do
    read -r n _ _ _ <<<"$(heap_site_values "$IT_TMP/default.raw" "$site")"
    [ "$n" -gt 0 ] || soft_fail "$site: no sampled allocation at the default rate"
done

# check_types GO TAG: the default sample types, and that both files open in that Go's pprof.
check_types() {
    local go=$1 tag=$2
    step "$go tool pprof: default sample types ($tag)"
    pprof_text "$go" "$IT_TMP/heap-$tag.top" -top "$IT_TMP/exact/heap.pb.gz"
    pprof_text "$go" "$IT_TMP/allocs-$tag.top" -top "$IT_TMP/exact/allocs.pb.gz"
    grep -q '^Type: inuse_space$' "$IT_TMP/heap-$tag.top" || soft_fail "heap: default type not inuse_space ($tag)"
    grep -q '^Type: alloc_space$' "$IT_TMP/allocs-$tag.top" || soft_fail "allocs: default type not alloc_space ($tag)"
    grep -Eq ' keep_64$' "$IT_TMP/heap-$tag.top" || soft_fail "heap: keep_64 missing from -top ($tag)"
    pprof_text "$go" "$IT_TMP/heap-objects-$tag.top" -sample_index=inuse_objects -top "$IT_TMP/exact/heap.pb.gz"
    grep -q '^Type: inuse_objects$' "$IT_TMP/heap-objects-$tag.top" || soft_fail "heap: no inuse_objects ($tag)"
}
check_types go go1.19
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    check_types "$newgo" newer
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi
it_finish
