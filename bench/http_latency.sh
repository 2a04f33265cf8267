#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Latency of the /debug/pprof server (docs/performance.md): ltprof-bench-live-blocks holds N
# live heap blocks (default 10,000; every one a sampled allocation at LTPROF_MEMPROFILE_RATE=1)
# with libltprof.so preloaded and LTPROF_HTTP on loopback. Timed with curl (time_total, the
# whole answer): the first heap request (it opens the symbolizer), then R more of each of
# cmdline (the server's floor: no profile work), heap, goroutine?debug=2, and T requests of
# trace?seconds=1 (request to last byte: recording, conversion; the session is destroyed in the
# background). Prints a markdown table: median, min and max per request, and the ratio of the
# median to cmdline's. Targets: heap under 20 ms, trace?seconds=1 within 1.3 s.
set -euo pipefail

usage() {
    cat <<USAGE
usage: $0 --build DIR [-o FILE] [--quick] [-n BLOCKS] [-r REQUESTS] [-t TRACES]
  --build DIR   the build tree (bin/ltprof-bench-live-blocks, lib/libltprof.so)
  -o FILE       write the table there too
  --quick       3 requests, 1 trace (checks that the benchmark works)
  -n BLOCKS     live blocks (default 10000)
  -r REQUESTS   timed requests per route (default 30)
  -t TRACES     timed trace?seconds=1 requests (default 5)
USAGE
}

build= out= blocks=10000 requests=30 traces=5
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --quick) requests=3 traces=1; shift ;;
    -n) blocks=$2; shift 2 ;;
    -r) requests=$2; shift 2 ;;
    -t) traces=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
[ -n "$build" ] || { usage >&2; exit 2; }
prog=$build/bin/ltprof-bench-live-blocks lib=$build/lib/libltprof.so
for f in "$prog" "$lib"; do [ -e "$f" ] || { echo "$0: missing $f" >&2; exit 1; }; done
command -v curl >/dev/null || { echo "$0: needs curl" >&2; exit 1; }

tmp=$(mktemp -d /tmp/ltprof-http-latency.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LD_PRELOAD=$lib LTPROF_MEMPROFILE_RATE=1 LTPROF_HTTP=127.0.0.1:$port "$prog" "$blocks" \
    >"$tmp/prog.out" 2>&1 &
pid=$!
base=http://127.0.0.1:$port/debug/pprof
for _ in $(seq 100); do grep -q ready "$tmp/prog.out" 2>/dev/null && curl -s -o /dev/null "$base/cmdline" && break; sleep 0.1; done
curl -s -o /dev/null "$base/cmdline" || { cat "$tmp/prog.out" >&2; echo "$0: the server does not answer" >&2; exit 1; }

# time_of NAME URL COUNT: COUNT timings (seconds) of URL into $tmp/NAME, each checked 200.
time_of() {
    local name=$1 url=$2 count=$3 i code t
    : >"$tmp/$name"
    for ((i = 0; i < count; i++)); do
        read -r code t < <(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}\n' "$url")
        [ "$code" = 200 ] || { echo "$0: $url answered $code: $(head -c 200 "$tmp/body")" >&2; exit 1; }
        echo "$t" >>"$tmp/$name"
    done
}
time_of first_heap "$base/heap" 1
samples=$(python3 - "$tmp/body" <<'PY'
import gzip, sys
data = gzip.decompress(open(sys.argv[1], "rb").read())
print(len(data))
PY
)
time_of cmdline "$base/cmdline" "$requests"
time_of heap "$base/heap" "$requests"
time_of goroutine "$base/goroutine?debug=2" "$requests"
time_of trace "$base/trace?seconds=1" "$traces"

stats() { sort -g "$tmp/$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m * 1000, v[1] * 1000, v[NR] * 1000 }'; }
read -r floor _ _ <<<"$(stats cmdline)"
{
    echo "## HTTP latency: $blocks live sampled blocks, $requests requests per route, $traces traces"
    echo
    echo "Command: \`bench/http_latency.sh --build $build -n $blocks -r $requests -t $traces\`"
    echo "(heap profile of the blocks: $samples bytes of profile.proto)"
    echo
    echo "| request | median ms | min ms | max ms | median / cmdline |"
    echo "|---|---|---|---|---|"
    for r in cmdline first_heap heap goroutine trace; do
        read -r m lo hi <<<"$(stats "$r")"
        label=$r
        case $r in
        first_heap) label="heap (first: opens the symbolizer)" ;;
        goroutine) label="goroutine?debug=2" ;;
        trace) label="trace?seconds=1" ;;
        esac
        awk -v l="$label" -v m="$m" -v lo="$lo" -v hi="$hi" -v f="$floor" \
            'BEGIN { printf "| %s | %s | %s | %s | %.1f |\n", l, m, lo, hi, (f > 0 ? m / f : 0) }'
    done
} | tee "${out:-/dev/null}"
