#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# heap_inprocess: the heap profile written by the process itself, from the always-on tables,
# with no LTTng session and no converter; read by `go tool pprof` (Go 1.19, and the newer Go
# when there is one):
#   - LTPROF_HEAPPROFILE=FILE with tests/programs/heap_sites preloaded: at rate 1 each site's
#     bytes and objects in use exactly the truth; at 16 KiB each site within 10 %; a relative
#     FILE lands in the folder the program started in, %p becomes the pid; an unwritable FILE
#     gives one message, no file, and the program's own exit status;
#   - ltprof_profile_write from tests/programs/profiles_api (linked with -lltprof): "heap" while
#     hold_blocks's 8 MiB are live shows them in use (inuse_space by default), "allocs" after
#     the free shows them allocated and none in use (alloc_space by default), "threadcreate"
#     the 3 threads spawn_threads created, the user-defined profile "connections" 2 values at
#     open_a (3 added, 1 removed) and 2 at open_b; bad requests get the documented statuses
#     (the program checks those and exits 1 otherwise).
source "$(dirname "$0")/lib.sh"
sites=$LTPROF_PROGRAMS/heap_sites
api=$LTPROF_PROGRAMS/profiles_api

skip_under address "a sanitized build has no malloc interposer (the sanitizer owns malloc)"
require_built

# run_sites TAG RATE FILE: heap_sites with libltprof.so preloaded, LTPROF_HEAPPROFILE=FILE, in
# $IT_TMP/TAG (created); sets HEAP_TRUTH.
run_sites() {
    local tag=$1 rate=$2 file=$3 rc=0
    mkdir -p "$IT_TMP/$tag"
    # env, so that timeout itself runs without the library (it would write FILE at its exit)
    (cd "$IT_TMP/$tag" && run_limited 60 env LD_PRELOAD="$LTPROF_LIB" LTPROF_MEMPROFILE_RATE="$rate" \
        LTPROF_HEAPPROFILE="$file" "$sites" >out.txt 2>err.txt) || rc=$?
    cat "$IT_TMP/$tag/out.txt" "$IT_TMP/$tag/err.txt"
    [ "$rc" -eq 0 ] || fail "heap_sites exited with $rc ($tag)"
    HEAP_TRUTH=$(grep -o 'keep_64=.*' "$IT_TMP/$tag/out.txt") || fail "no truth printed ($tag)"
}

step "LTPROF_HEAPPROFILE at rate 1 (a relative path): the live set exactly"
run_sites exact 1 heap.pb.gz
require_file "$IT_TMP/exact/heap.pb.gz" "LTPROF_HEAPPROFILE=heap.pb.gz, relative to the start folder"
check_heap_exact "$IT_TMP/exact/heap.pb.gz" exact
grep -q '^Comment: ltprof: allocation table [0-9]* bytes' "$IT_TMP/exact.raw" ||
    soft_fail "the profile does not report the table's memory"

step "LTPROF_HEAPPROFILE at 16 KiB (%p in the path): each site within 10 %"
run_sites sampled 16384 "$IT_TMP/sampled-%p.pb.gz"
sampled=$(ls "$IT_TMP"/sampled-[0-9]*.pb.gz 2>/dev/null | head -n 1 || true)
[ -n "$sampled" ] || fail "no $IT_TMP/sampled-<pid>.pb.gz"
check_heap_within "$sampled" sampled 16384

step "LTPROF_HEAPPROFILE in a folder that does not exist"
run_sites unwritable 1 "$IT_TMP/no/such/dir/heap.pb.gz"
grep -q 'ltprof: cannot write LTPROF_HEAPPROFILE=.*no/such/dir/heap.pb.gz' "$IT_TMP/unwritable/err.txt" ||
    soft_fail "no message for an unwritable LTPROF_HEAPPROFILE"
[ ! -e "$IT_TMP/no/such/dir/heap.pb.gz" ] || soft_fail "a file appeared"

step "ltprof_profile_write from a linked program"
rc=0
mkdir -p "$IT_TMP/api"
LTPROF_MEMPROFILE_RATE=1 run_limited 60 "$api" "$IT_TMP/api" >"$IT_TMP/api.out" 2>&1 || rc=$?
cat "$IT_TMP/api.out"
[ "$rc" -eq 0 ] || soft_fail "profiles_api exited with $rc (a status was not the documented one)"
pprof_text go "$IT_TMP/api-heap.raw" -raw "$IT_TMP/api/heap.pb.gz"
pprof_text go "$IT_TMP/api-allocs.raw" -raw "$IT_TMP/api/allocs.pb.gz"
read -r _ _ n bytes <<<"$(heap_site_values "$IT_TMP/api-heap.raw" hold_blocks)"
[ "$n $bytes" = "1024 8388608" ] ||
    soft_fail "heap: hold_blocks has $n objects, $bytes bytes in use; want 1024, 8388608"
read -r an abytes n bytes <<<"$(heap_site_values "$IT_TMP/api-allocs.raw" hold_blocks)"
[ "$an $abytes $n $bytes" = "1024 8388608 0 0" ] ||
    soft_fail "allocs: hold_blocks $an/$abytes allocated, $n/$bytes in use; want 1024/8388608, 0/0"
pprof_text go "$IT_TMP/api-threadcreate.raw" -raw "$IT_TMP/api/threadcreate.pb.gz"
grep -q '^threadcreate/count' "$IT_TMP/api-threadcreate.raw" || soft_fail "threadcreate: not Go's sample type"
pprof_text go "$IT_TMP/api-custom.raw" -raw "$IT_TMP/api/connections.pb.gz"
grep -q '^connections/count' "$IT_TMP/api-custom.raw" || soft_fail "custom: not <name>/count"

step "Go's text formats (debug=1)"
head -n 3 "$IT_TMP/api/heap.txt"
grep -Eq '^heap profile: [0-9]+: [0-9]+ \[[0-9]+: [0-9]+\] @ heap/2$' "$IT_TMP/api/heap.txt" ||
    soft_fail "heap.txt: no Go heap header (rate 1: heap/2)"
grep -Eq '^1024: 8388608 \[1024: 8388608\] @( 0x[0-9a-f]+)+$' "$IT_TMP/api/heap.txt" ||
    soft_fail "heap.txt: no record of hold_blocks's 1024 blocks"
grep -Eq $'^#\t0x[0-9a-f]+\thold_blocks\+0x[0-9a-f]+\t.*profiles_api.c:[0-9]+$' "$IT_TMP/api/heap.txt" ||
    soft_fail "heap.txt: no symbolized frame line for hold_blocks"
grep -q '^# runtime.MemStats' "$IT_TMP/api/heap.txt" || soft_fail "heap.txt: no MemStats block"
# pprof's legacy heap parser reads it: 8 MiB in use at one stack.
pprof_text go "$IT_TMP/heap-text.raw" -raw -symbolize=none "$IT_TMP/api/heap.txt"
grep -Eq '^ +1024 +8388608 +1024 +8388608: ' "$IT_TMP/heap-text.raw" ||
    soft_fail "go tool pprof does not read heap.txt's record as 1024 objects, 8388608 bytes"
grep -q '^threadcreate profile: total 3$' "$IT_TMP/api/threadcreate.txt" ||
    soft_fail "threadcreate.txt: not 'threadcreate profile: total 3'"
grep -Eq '^3 @( 0x[0-9a-f]+)+$' "$IT_TMP/api/threadcreate.txt" || soft_fail "threadcreate.txt: no record of 3"
grep -q '^connections profile: total 4$' "$IT_TMP/api/connections.txt" ||
    soft_fail "connections.txt: not 'connections profile: total 4'"
[ "$(awk '/^[0-9]+ @/ { n += $1 } END { print n + 0 }' "$IT_TMP/api/connections.txt")" = 4 ] ||
    soft_fail "connections.txt: the records do not add up to 4"

# check_tools GO TAG: default sample types, names and lines in that Go's pprof.
check_tools() {
    local go=$1 tag=$2
    step "$go tool pprof on the in-process profiles ($tag)"
    pprof_text "$go" "$IT_TMP/heap-$tag.top" -top "$IT_TMP/api/heap.pb.gz"
    pprof_text "$go" "$IT_TMP/allocs-$tag.top" -top "$IT_TMP/api/allocs.pb.gz"
    grep -q '^Type: inuse_space$' "$IT_TMP/heap-$tag.top" || soft_fail "heap: not inuse_space ($tag)"
    grep -q '^Type: alloc_space$' "$IT_TMP/allocs-$tag.top" || soft_fail "allocs: not alloc_space ($tag)"
    grep -Eq '^ +8MB +[0-9.]+% .* hold_blocks$' "$IT_TMP/heap-$tag.top" ||
        soft_fail "heap: hold_blocks does not hold the 8 MiB ($tag)"
    grep -q '^File: profiles_api$' "$IT_TMP/heap-$tag.top" ||
        soft_fail "heap: the first mapping is not the program ($tag)"
    pprof_text "$go" "$IT_TMP/threadcreate-$tag.top" -top "$IT_TMP/api/threadcreate.pb.gz"
    grep -Eq '^ +3 +100% +100% +3 +100% +spawn_threads$' "$IT_TMP/threadcreate-$tag.top" ||
        soft_fail "threadcreate: spawn_threads did not create the 3 threads ($tag)"
    pprof_text "$go" "$IT_TMP/custom-$tag.top" -top "$IT_TMP/api/connections.pb.gz"
    grep -Eq '^ +2 +50.00% .* open_a$' "$IT_TMP/custom-$tag.top" &&
        grep -Eq '^ +2 +50.00% .* open_b$' "$IT_TMP/custom-$tag.top" ||
        soft_fail "custom: not 2 values at open_a and 2 at open_b ($tag)"
    pprof_text "$go" "$IT_TMP/lines-$tag.txt" -traces -lines "$IT_TMP/api/heap.pb.gz"
    grep -q 'hold_blocks .*profiles_api.c:[0-9]' "$IT_TMP/lines-$tag.txt" ||
        soft_fail "heap: no source line for hold_blocks ($tag)"
}
check_tools go go1.19
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    check_tools "$newgo" newer
else
    echo "SKIP: no newer Go here (shared/tools/newer-go.sh): its checks did not run"
fi
it_finish
