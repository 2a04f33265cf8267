#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds ltprof into build/ (or $LTPROF_BUILD_DIR). Extra arguments go to cmake's
# configure step, e.g. scripts/build.sh -DLTPROF_SANITIZE=ON.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${LTPROF_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
