#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cpu_inprocess: the CPU profile collected and written by the process itself (no LTTng
# session): LTPROF_CPUPROFILE=FILE over tests/programs/shares, which measures its own CPU time
# per function and thread: each share within 5 percentage points of the truth, per thread too
# (the thread label), Go's sample types; ltprof_start_cpu_profile / ltprof_stop_cpu_profile
# around tests/programs/profiles_api's burn_cpu (0.3 s): at least 20 samples, burn_cpu on top
# (the program checks the API's statuses); labels pushed around burn_labeled and hold_labeled
# on their CPU samples and allocations only, in-process and in a recorded trace (`ltprof
# record`: ltprof:label_set, cpu.pb.gz and heap.pb.gz); with CPU sampling off (LTPROF_CPU_HZ=0) one
# message, no file, the program's own exit status.
source "$(dirname "$0")/lib.sh"

require_built

step "LTPROF_CPUPROFILE over shares"
rc=0
run_limited 120 env LD_PRELOAD="$LTPROF_LIB" LTPROF_CPUPROFILE="$IT_TMP/cpu.pb.gz" \
    "$LTPROF_PROGRAMS/shares" "$IT_TMP/truth.txt" || rc=$?
[ "$rc" -eq 0 ] || fail "shares exited with $rc"
require_file "$IT_TMP/cpu.pb.gz" "LTPROF_CPUPROFILE"
cat "$IT_TMP/truth.txt"
pprof_text "$GO" "$IT_TMP/raw.txt" -symbolize=none -raw "$IT_TMP/cpu.pb.gz"
grep -q '^samples/count cpu/nanoseconds' "$IT_TMP/raw.txt" || soft_fail "not Go's CPU sample types"
grep -q '^Period: 10000000$' "$IT_TMP/raw.txt" || soft_fail "the period is not 10 ms (100 Hz)"
"${CHECK[@]}" shares "$IT_TMP/raw.txt" "$IT_TMP/truth.txt" --tolerance 5 ||
    soft_fail "CPU shares differ from the measured truth"
for t in alpha beta; do
    pprof_text "$GO" "$IT_TMP/top-$t.txt" -top -tagfocus="thread=^$t\$" "$IT_TMP/cpu.pb.gz"
    case $t in alpha) f=func_a1 ;; beta) f=func_b1 ;; esac
    grep -q " $f\$" "$IT_TMP/top-$t.txt" || soft_fail "-tagfocus thread=$t does not show $f"
    ! grep -q ' func_main_burn$' "$IT_TMP/top-$t.txt" || soft_fail "-tagfocus thread=$t shows main's work"
done

step "ltprof_start_cpu_profile / ltprof_stop_cpu_profile"
mkdir -p "$IT_TMP/api"
rc=0
LTPROF_MEMPROFILE_RATE=1 run_limited 60 "$LTPROF_PROGRAMS/profiles_api" "$IT_TMP/api" \
    >"$IT_TMP/api.out" 2>&1 || rc=$?
grep '^api: cpu' "$IT_TMP/api.out"
[ "$rc" -eq 0 ] || soft_fail "profiles_api exited with $rc (a status was not the documented one)"
pprof_text "$GO" "$IT_TMP/api-top.txt" -top "$IT_TMP/api/cpu.pb.gz"
sed -n '1,10p' "$IT_TMP/api-top.txt"
n=$(sed -n 's/^ltprof: \([0-9]*\) samples.*/\1/p' "$IT_TMP/api-top.txt")
[ "${n:-0}" -ge 20 ] || soft_fail "only ${n:-0} samples for 0.3 s of CPU at 100 Hz"
pprof_text "$GO" "$IT_TMP/api-cum.txt" -top -cum "$IT_TMP/api/cpu.pb.gz"
cum=$(awk '$NF == "burn_cpu" { sub("ms$", "", $4); print $4 }' "$IT_TMP/api-cum.txt")
echo "burn_cpu: ${cum:-0} ms (it burned 300 ms)"
[ "${cum:-0}" -ge 250 ] && [ "${cum:-0}" -le 350 ] 2>/dev/null ||
    soft_fail "burn_cpu holds ${cum:-0} ms, not 250-350 ms"

step "labels in a recorded trace: ltprof record of the same program"
ensure_sessiond
mkdir -p "$IT_TMP/rec-api"
rc=0
LTPROF_MEMPROFILE_RATE=1 run_limited 120 "$LTPROF_BIN" record -o "$IT_TMP/rec" -- \
    "$LTPROF_PROGRAMS/profiles_api" "$IT_TMP/rec-api" >"$IT_TMP/rec.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { tail "$IT_TMP/rec.out"; soft_fail "ltprof record of profiles_api exited with $rc"; }
pprof_text "$GO" "$IT_TMP/rec-cpu.txt" -top -tagfocus='request=^checkout$' "$IT_TMP/rec/cpu.pb.gz"
grep -Eq ' burn_labeled$' "$IT_TMP/rec-cpu.txt" ||
    soft_fail "recorded cpu.pb.gz: no burn_labeled under request=checkout"
! grep -Eq ' burn_cpu$' "$IT_TMP/rec-cpu.txt" ||
    soft_fail "recorded cpu.pb.gz: burn_cpu (unlabeled) under request=checkout"
if have_heap_sampler; then
    pprof_text "$GO" "$IT_TMP/rec-heap.txt" -top -sample_index=alloc_space \
        -tagfocus='request=^checkout$' "$IT_TMP/rec/heap.pb.gz"
    grep -Eq '^ +1MB +[0-9.]+% .* hold_labeled$' "$IT_TMP/rec-heap.txt" ||
        soft_fail "recorded heap.pb.gz: hold_labeled's 1 MiB is not under request=checkout"
    pprof_text "$GO" "$IT_TMP/rec-unlabeled.txt" -top -sample_index=alloc_space \
        -tagignore='request=.' "$IT_TMP/rec/heap.pb.gz"
    ! grep -q ' hold_labeled$' "$IT_TMP/rec-unlabeled.txt" ||
        soft_fail "recorded heap.pb.gz: some of hold_labeled's blocks have no request label"
fi

step "labels (ltprof_labels_push): on CPU samples and sampled allocations"
pprof_text "$GO" "$IT_TMP/label-cpu.txt" -top -tagfocus='request=^checkout$' "$IT_TMP/api/cpu.pb.gz"
sed -n '1,9p' "$IT_TMP/label-cpu.txt"
grep -Eq ' burn_labeled$' "$IT_TMP/label-cpu.txt" || soft_fail "cpu: no burn_labeled under request=checkout"
! grep -Eq ' burn_cpu$' "$IT_TMP/label-cpu.txt" || soft_fail "cpu: burn_cpu (unlabeled) under request=checkout"
if have_heap_sampler; then
    pprof_text "$GO" "$IT_TMP/label-heap.txt" -top -tagfocus='request=^checkout$' "$IT_TMP/api/heap-labels.pb.gz"
    grep -Eq '^ +1MB +[0-9.]+% .* hold_labeled$' "$IT_TMP/label-heap.txt" ||
        soft_fail "heap: hold_labeled's 1 MiB is not under request=checkout"
    pprof_text "$GO" "$IT_TMP/unlabeled-heap.txt" -top -tagignore='request=.' "$IT_TMP/api/heap-labels.pb.gz"
    ! grep -q ' hold_labeled$' "$IT_TMP/unlabeled-heap.txt" ||
        soft_fail "heap: some of hold_labeled's blocks have no request label"
    pprof_text "$GO" "$IT_TMP/label-tags.txt" -tags "$IT_TMP/api/heap-labels.pb.gz"
    grep -q 'request' "$IT_TMP/label-tags.txt" || soft_fail "heap: -tags does not list request"
fi

step "LTPROF_CPUPROFILE with CPU sampling off"
rc=0
run_limited 60 env LD_PRELOAD="$LTPROF_LIB" LTPROF_CPU_HZ=0 LTPROF_CPUPROFILE="$IT_TMP/off.pb.gz" \
    "$LTPROF_PROGRAMS/shares" "$IT_TMP/truth-off.txt" >"$IT_TMP/off.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || soft_fail "shares exited with $rc"
grep -q 'ltprof: LTPROF_CPUPROFILE=.*off.pb.gz: not supported' "$IT_TMP/off.out" ||
    soft_fail "no message for LTPROF_CPUPROFILE without CPU sampling"
[ ! -e "$IT_TMP/off.pb.gz" ] || soft_fail "a file was left"
it_finish
