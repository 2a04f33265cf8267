#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quick start: installs what is missing, builds, records the bundled demo programs with
# `ltprof record` and shows what they give: the top CPU functions of the CPU demo, and where
# the threads of the pipeline demo waited (its Go execution trace).
# Usage: scripts/demo.sh [SECONDS]   (default 3: how long the CPU demo runs)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "== 1/5 dependencies"
./scripts/deps.sh
echo "== 2/5 build"
./scripts/build.sh
./scripts/sessiond.sh
echo "== 3/5 record the CPU demo (build/bin/ltprof-demo-cpu) and show its top CPU functions"
out=$top/ltprof-out
build/bin/ltprof record -o "$out" -- build/bin/ltprof-demo-cpu "${1:-3}"
build/bin/ltprof top "$out/cpu.pb.gz" -n 15
echo "== 4/5 record the pipeline demo (build/bin/ltprof-demo-pipeline): an execution trace"
trace_out=$top/ltprof-out-pipeline
build/bin/ltprof record -o "$trace_out" --outputs all -- build/bin/ltprof-demo-pipeline
echo "== 5/5 where its threads waited (go tool trace -pprof=sync, printed by ltprof top)"
go tool trace -pprof=sync "$trace_out/trace.out" > "$trace_out/sync.pb.gz"
build/bin/ltprof top "$trace_out/sync.pb.gz" -n 10
cat <<MSG

Files:
  $out/cpu.pb.gz              CPU profile of the CPU demo (pprof format)
  $trace_out/trace.out   Go execution trace of the pipeline demo
  $trace_out/trace.json  the same trace for https://ui.perfetto.dev
  $out/ctf/, $trace_out/ctf/   the LTTng traces (convert again: build/bin/ltprof convert DIR -o OUT)
Next:
  go tool pprof -http=127.0.0.1:8080 $out/cpu.pb.gz
  go tool trace $trace_out/trace.out      # one row per thread; the workers wait in update_table
MSG
