#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# accuracy_shares: records `shares`, which measures its own per-function and per-thread CPU
# time, and compares each share of the profile (flat cpu/nanoseconds from `go tool pprof -raw`,
# per thread from the `thread` label) with that truth: within 5 percentage points.
source "$(dirname "$0")/lib.sh"

require_built
ensure_sessiond
ltprof_record "$IT_TMP/out" "$LTPROF_PROGRAMS/shares" "$IT_TMP/truth.txt"
require_file "$IT_TMP/truth.txt" "written by shares"
cat "$IT_TMP/truth.txt"

pprof_text "$GO" "$IT_TMP/raw.txt" -symbolize=none -raw "$IT_TMP/out/cpu.pb.gz"
pprof_text "$GO" "$IT_TMP/top.txt" -top -nodecount=100 "$IT_TMP/out/cpu.pb.gz"
sed -n '1,15p' "$IT_TMP/top.txt"
"${CHECK[@]}" shares "$IT_TMP/raw.txt" "$IT_TMP/truth.txt" --tolerance 5 ||
    soft_fail "CPU shares differ from the measured truth"

# The same per-thread figure through pprof's own label filter.
for t in alpha beta; do
    pprof_text "$GO" "$IT_TMP/top-$t.txt" -top -tagfocus="thread=^$t\$" "$IT_TMP/out/cpu.pb.gz"
    line=$(grep -m1 'Showing nodes' "$IT_TMP/top-$t.txt" || true)
    echo "-tagfocus=thread=$t: $line"
    case $t in alpha) f=func_a1 ;; beta) f=func_b1 ;; esac
    grep -q " $f\$" "$IT_TMP/top-$t.txt" || soft_fail "-tagfocus thread=$t does not show $f"
    ! grep -q ' func_main_burn$' "$IT_TMP/top-$t.txt" ||
        soft_fail "-tagfocus thread=$t shows main's work"
done
it_finish
