#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quick start: installs what is missing, builds, records the bundled demo programs with
# `ltprof record` and shows what they give: the top CPU functions of the CPU demo, and where
# the threads of the pipeline demo waited (its Go execution trace), and the example HTTP
# service's /debug/pprof (a CPU profile and a trace recorded on request, like Go's).
# Usage: scripts/demo.sh [SECONDS]   (default 3: how long the CPU demo runs)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "== 1/6 dependencies"
./scripts/deps.sh
echo "== 2/6 build"
./scripts/build.sh
./scripts/sessiond.sh
echo "== 3/6 record the CPU demo (build/bin/ltprof-demo-cpu) and show its top CPU functions"
out=$top/ltprof-out
build/bin/ltprof record -o "$out" -- build/bin/ltprof-demo-cpu "${1:-3}"
build/bin/ltprof top "$out/cpu.pb.gz" -n 15
echo "== 4/6 record the pipeline demo (build/bin/ltprof-demo-pipeline): an execution trace"
trace_out=$top/ltprof-out-pipeline
build/bin/ltprof record -o "$trace_out" --outputs all -- build/bin/ltprof-demo-pipeline
echo "== 5/6 where its threads waited (go tool trace -pprof=sync, printed by ltprof top)"
go tool trace -pprof=sync "$trace_out/trace.out" > "$trace_out/sync.pb.gz"
build/bin/ltprof top "$trace_out/sync.pb.gz" -n 10
echo "== 6/6 the example service (build/bin/ltprof-demo-http): /debug/pprof like Go's"
http_out=$top/ltprof-out-http
mkdir -p "$http_out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
build/bin/ltprof-demo-http "$port" >"$http_out/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
curl -s "http://127.0.0.1:$port/cpu?ms=2500" >/dev/null &
echo "curl http://127.0.0.1:$port/debug/pprof/profile?seconds=2  (while /cpu burns)"
curl -s -o "$http_out/profile.pb.gz" "http://127.0.0.1:$port/debug/pprof/profile?seconds=2"
build/bin/ltprof top "$http_out/profile.pb.gz" -n 5
curl -s "http://127.0.0.1:$port/mutex?ms=1500" >/dev/null &
echo "curl http://127.0.0.1:$port/debug/pprof/trace?seconds=1  (while /mutex contends)"
curl -s -o "$http_out/trace.out" "http://127.0.0.1:$port/debug/pprof/trace?seconds=1"
echo "$(stat -c %s "$http_out/trace.out") bytes of Go execution trace ($(head -c 13 "$http_out/trace.out"))"
wait %2 %3 2>/dev/null || true
kill $service
cat <<MSG

Files:
  $out/cpu.pb.gz              CPU profile of the CPU demo (pprof format)
  $trace_out/trace.out   Go execution trace of the pipeline demo
  $trace_out/trace.json  the same trace for https://ui.perfetto.dev
  $out/ctf/, $trace_out/ctf/   the LTTng traces (convert again: build/bin/ltprof convert DIR -o OUT)
  $http_out/profile.pb.gz, trace.out   what the example service's /debug/pprof answered
Next:
  go tool pprof -http=127.0.0.1:8080 $out/cpu.pb.gz
  go tool trace $trace_out/trace.out      # one row per thread; the workers wait in update_table
  build/bin/ltprof-demo-http 8080         # then curl localhost:8080/ (see README: Over HTTP)
MSG
