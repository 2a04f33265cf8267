#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quick start: installs what is missing, builds, records the bundled demo program with
# `ltprof record`, converts its trace and prints the top CPU functions.
# Usage: scripts/demo.sh [SECONDS]   (default 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "== 1/4 dependencies"
./scripts/deps.sh
echo "== 2/4 build"
./scripts/build.sh
echo "== 3/4 record the demo program (build/bin/ltprof-demo-cpu)"
./scripts/sessiond.sh
out=$top/ltprof-out
build/bin/ltprof record -o "$out" -- build/bin/ltprof-demo-cpu "${1:-3}"
echo "== 4/4 top CPU functions"
build/bin/ltprof top "$out/cpu.pb.gz" -n 15
cat <<MSG

Files:
  $out/cpu.pb.gz   CPU profile (pprof format)
  $out/ctf/        the LTTng trace (convert again: build/bin/ltprof convert $out/ctf -o DIR)
Next:
  go tool pprof -top $out/cpu.pb.gz
  go tool pprof -http=127.0.0.1:8080 $out/cpu.pb.gz
MSG
