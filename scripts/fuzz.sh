#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the fuzz targets (tests/fuzz, libFuzzer with ASan and UBSan, clang) into build-fuzz/
# and runs them. Without arguments: the short run CI does, each target for
# LTPROF_FUZZ_SECONDS (default 20) and the property test (ctest -L fuzz). With a target name
# and seconds: a campaign of that target, its corpus kept in build-fuzz/campaign-TARGET (the
# figures of docs/reliability.md come from `scripts/fuzz.sh TARGET 600`).
# Usage: scripts/fuzz.sh [TARGET SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${LTPROF_FUZZ_BUILD_DIR:-$top/build-fuzz}
CC=clang cmake -S "$top" -B "$build" -DLTPROF_FUZZ=ON \
    -DLTPROF_FUZZ_SECONDS="${LTPROF_FUZZ_SECONDS:-20}" >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ $# -eq 0 ]; then
    exec ctest --test-dir "$build" --output-on-failure -L fuzz
fi
target=$1 secs=$2
corpus=$build/campaign-$target
mkdir -p "$corpus"
exec "$build/bin/$target" -max_total_time="$secs" -print_final_stats=1 \
    "$corpus" "$top/tests/fuzz/seeds/$target"
