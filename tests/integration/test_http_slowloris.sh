#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_slowloris: 256 slow clients (http_slowloris.py: half a request each, then a header line
# every 2 s) against ltprof-demo-cpu preloaded with LTPROF_HTTP. The server gives a connection
# 10 s to deliver a request: each slow client must be closed 9 to 14 s after its connect while
# it still trickles, an honest request sent in pieces over 4.5 s must get 200, a quiet
# keep-alive connection must be closed 9 to 14 s after its answer, and the program must keep
# running (more than 1 s of CPU time during the attack). A 12 s CPU profile is not cut.
source "$(dirname "$0")/lib.sh"
require_built
export LTPROF_LOG=info # the server says when it closes late connections
serve_demo_cpu 120
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

step "256 slow clients trickling for 16 s, then slow honest clients"
before=$(cpu_ticks)
"$PYTHON" "$IT_DIR/http_slowloris.py" "$port" 256 16 || fail "slow clients"
kill -0 "$pid" 2>/dev/null || fail "the program died under the slow clients"
after=$(cpu_ticks)
echo "the program's CPU time during the attack: $((after - before)) ticks"
[ $((after - before)) -gt 100 ] || soft_fail "the program stalled: $((after - before)) ticks"
step "a 12 s CPU profile outlives the 10 s request deadline (the deadline stops at the request's end)"
check_status "http://127.0.0.1:$port/debug/pprof/profile?seconds=12" 200
gzip -t <"$IT_TMP/body" || soft_fail "the 12 s profile is not a whole gzip file"

grep "connections that took more than 10 s" "$IT_TMP/demo.err" | head -3
grep -q "connections\? that took more than 10 s" "$IT_TMP/demo.err" ||
    soft_fail "the program's log does not say it closed late connections"
it_finish
