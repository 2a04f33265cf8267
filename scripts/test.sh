#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, runs the static analysis (scripts/lint.sh: cppcheck and
# clang-tidy, zero findings), and runs every test through ctest: unit tests, integration
# tests with a real lttng-sessiond, babeltrace2 and go tool pprof, and the quick benchmark.
# Then runs the fuzz targets for 20 s each and the property test (scripts/fuzz.sh, build-fuzz/),
# and builds once more with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and
# runs the unit and integration tests there (tests/integration/lib.sh says how they preload
# the ASan library, and the few checks that cannot run there skip with their reason), then
# with ThreadSanitizer (build-tsan/) and
# runs the unit tests there, threaded ones included, but those labelled signal-timing (TSan
# defers asynchronous signals, which they rely on; tests/tracer/CMakeLists.txt).
# Extra arguments go to both ctest runs, e.g. scripts/test.sh -R unwind.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh
./scripts/viewer_test_deps.sh
./scripts/build.sh
./scripts/lint.sh "$top/build"
./scripts/sessiond.sh
ctest --test-dir build --output-on-failure --timeout 600 "$@"

echo "== fuzz targets, a short run each, and the property test (scripts/fuzz.sh)"
./scripts/fuzz.sh

echo "== unit and integration tests under AddressSanitizer and UndefinedBehaviorSanitizer"
LTPROF_BUILD_DIR=$top/build-asan ./scripts/build.sh -DLTPROF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir build-asan --output-on-failure --timeout 600 -LE 'bench-quick' "$@"

echo "== unit tests under ThreadSanitizer (threaded ones included, signal-timing left out)"
LTPROF_BUILD_DIR=$top/build-tsan ./scripts/build.sh -DLTPROF_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir build-tsan --output-on-failure --timeout 600 -LE 'integration|bench-quick|signal-timing' "$@"
