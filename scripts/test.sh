#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs every test through ctest (unit tests, integration
# tests with a real lttng-sessiond, babeltrace2 and go tool pprof, and the quick benchmark).
# Extra arguments go to ctest, e.g. scripts/test.sh -R unwind.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh
./scripts/build.sh
./scripts/sessiond.sh
ctest --test-dir build --output-on-failure --timeout 600 "$@"
