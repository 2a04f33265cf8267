#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_slowloris: 256 slow clients (http_slowloris.py: half a request each, a header line every
# 2 s, then silence) against ltprof-demo-cpu preloaded with LTPROF_HTTP. The program must keep
# running (more than 1 s of CPU time during the attack), the server must close every silent connection
# within 40 s (its idle timeout is 30 s) and answer a good request afterwards.
source "$(dirname "$0")/lib.sh"
require_built
serve_demo_cpu 120
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

step "256 slow clients: 8 s of trickling, then silence"
before=$(cpu_ticks)
"$PYTHON" "$IT_DIR/http_slowloris.py" "$port" 256 8 || soft_fail "slow clients"
kill -0 "$pid" 2>/dev/null || fail "the program died under the slow clients"
after=$(cpu_ticks)
echo "the program's CPU time during the attack: $((after - before)) ticks"
[ $((after - before)) -gt 100 ] || soft_fail "the program stalled: $((after - before)) ticks"
it_finish
