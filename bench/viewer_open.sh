#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The viewer's speed: synthetic traces of 1 and 10 million events over 64 threads
# (ltprof-bench-synth-trace), served by `ltprof view`, opened in headless Chromium
# (viewer_open.mjs): time to open (page load to the first drawn timeline), frame times while
# zooming and panning, memory of the timeline's typed arrays. Writes a Markdown table.
# Usage: bench/viewer_open.sh [--quick] [--build DIR] [-o FILE]   (--quick: 100,000 events)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build out=/dev/stdout sizes=(1000000 10000000) runs=3
while [ $# -gt 0 ]; do
    case $1 in
    --quick) sizes=(100000) runs=1 ;;
    --build) build=$2; shift ;;
    -o) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--build DIR] [-o FILE]" >&2; exit 2 ;;
    esac
    shift
done
[ -d "$top/tests/viewer/node_modules/playwright-core" ] || "$top/scripts/viewer_test_deps.sh"
tmp=$(mktemp -d /tmp/ltprof-viewer-bench.XXXXXX)
view_pid=
trap '[ -z "$view_pid" ] || kill "$view_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
{
    echo "| events | file | open (median of $runs, ms) | frame median / p95 / max (ms) | timeline arrays |"
    echo "|---|---|---|---|---|"
} >"$tmp/table"
for n in "${sizes[@]}"; do
    "$build/bin/ltprof-bench-synth-trace" "$tmp/trace.out" "$n" 64 >/dev/null
    "$build/bin/ltprof" view "$tmp/trace.out" --port 0 >"$tmp/view.out" 2>&1 &
    view_pid=$!
    for _ in $(seq 50); do grep -q 'http://' "$tmp/view.out" && break; sleep 0.1; done
    url=$(grep -o 'http://[^ ]*' "$tmp/view.out" | head -1)
    : >"$tmp/runs"
    for _ in $(seq "$runs"); do
        (cd "$top/bench" && node viewer_open.mjs "$url") >>"$tmp/runs"
    done
    kill "$view_pid"; wait "$view_pid" 2>/dev/null || true; view_pid=
    size=$(stat -c %s "$tmp/trace.out")
    python3 - "$tmp/runs" "$size" >>"$tmp/table" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
bad = [p for r in runs for p in r['problems']]
if bad:
    sys.exit('viewer_open: page errors: %s' % bad[:3])
m = lambda k: statistics.median(r[k] for r in runs)
print('| %s | %.1f MB | %.0f (wall %.0f) | %.1f / %.1f / %.1f | %d MB |' % (
    f"{runs[0]['events']:,}", int(sys.argv[2]) / 1e6, m('openMs'), m('wallMs'),
    m('frameMedianMs'), m('frameP95Ms'), m('frameMaxMs'), m('arraysMB')))
PY
done
cat "$tmp/table" >"$out"
