#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lost_events: a forced ring-buffer overrun. tests/programs/synth_events writes exactly 200,000
# ltprof:* events in well under a second into an LTTng channel of two 4 KiB sub-buffers per
# process (discard mode), so most are lost. `ltprof convert --outputs all` must then
#   - count every event: the events read plus the events lost are exactly 200,000 (babeltrace2's
#     per-packet differences can wrap; their sum modulo 2^64 is the total);
#   - say so on stdout, and in a comment of every profile (`go tool pprof -raw`);
#   - note the losses in trace.out where they happened (UserLog "the tracer lost events ...",
#     seen by Go 1.19's `go tool trace -d` and a newer Go's -d=parsed) and in trace.json;
# and still write files that those readers accept (a trace with many losses once hung the Go
# trace writer: its stack index grew by one doubling past thousands of reserved stacks).
source "$(dirname "$0")/lib.sh"
require_built
ensure_sessiond
events=200000

step "synth_events $events into 2 x 4 KiB sub-buffers"
new_session lost "$IT_TMP/ctf"
s=$SESSION
lttng enable-channel -u -s "$s" --buffers-pid --subbuf-size=4096 --num-subbuf=2 tiny >/dev/null ||
    fail "lttng enable-channel"
lttng enable-event -u -s "$s" -c tiny 'ltprof:*' >/dev/null || fail "lttng enable-event"
lttng add-context -u -s "$s" -c tiny -t vpid -t vtid >/dev/null || fail "lttng add-context"
run_tracked "$s" env -u LD_PRELOAD "$LTPROF_PROGRAMS/synth_events" "$events" ||
    fail "synth_events failed"
lttng destroy "$s" >/dev/null

step "ltprof convert --outputs all"
run_limited 120 "$LTPROF_BIN" convert "$IT_TMP/ctf" -o "$IT_TMP/out" --outputs all \
    >"$IT_TMP/convert.out" 2>"$IT_TMP/convert.err" ||
    { cat "$IT_TMP/convert.err"; fail "ltprof convert failed or hung"; }
cat "$IT_TMP/convert.out"
read_n=$(sed -n 's/^ltprof: read \([0-9]*\) events.*/\1/p' "$IT_TMP/convert.out")
lost=$(sed -n 's/.*the tracer lost \([0-9]*\) events.*/\1/p' "$IT_TMP/convert.out")
[ -n "$read_n" ] || fail "no 'read N events' line"
[ -n "$lost" ] || fail "no lost-events warning although the buffers overran"
echo "read $read_n + lost $lost = $((read_n + lost)) (written: $events)"
[ "$lost" -gt $((events / 10)) ] || soft_fail "only $lost events lost: the overrun was not forced"
[ $((read_n + lost)) -eq "$events" ] || soft_fail "read + lost is not the $events events written"

step "every profile says how many were lost"
for f in "$IT_TMP"/out/*.pb.gz; do
    run_limited 60 go tool pprof -raw "$f" >"$IT_TMP/raw.txt" 2>"$IT_TMP/raw.err" ||
        { soft_fail "go tool pprof refuses $(basename "$f")"; continue; }
    grep -q "^Comment: ltprof: the tracer lost $lost events" "$IT_TMP/raw.txt" &&
        echo "  ok    $(basename "$f") has the comment" ||
        soft_fail "$(basename "$f") has no comment about the $lost lost events"
done
[ "$(ls "$IT_TMP"/out/*.pb.gz | wc -l)" -eq 6 ] || soft_fail "not all six profiles were written"

step "trace.out and trace.json note the losses"
note='the tracer lost events of process'
run_limited 120 go tool trace -d "$IT_TMP/out/trace.out" >"$IT_TMP/d.txt" 2>"$IT_TMP/d.err" ||
    { head -c 500 "$IT_TMP/d.err"; soft_fail "go tool trace -d (1.19) refuses the trace"; }
n119=$(grep -c "message=$note" "$IT_TMP/d.txt" || true)
echo "Go 1.19: $n119 notes"
[ "$n119" -ge 1 ] && [ "$n119" -le 20 ] || soft_fail "Go 1.19 sees $n119 notes, want 1 to 20"
newgo=$(newer_go)
if [ -n "$newgo" ]; then
    run_limited 120 "$newgo" tool trace -d=parsed "$IT_TMP/out/trace.out" >"$IT_TMP/p.txt" \
        2>"$IT_TMP/p.err" || { head -c 500 "$IT_TMP/p.err"; soft_fail "the newer Go refuses the trace"; }
    nnew=$(grep -c "Category=\"ltprof\" Message=\"$note" "$IT_TMP/p.txt" || true)
    echo "$("$newgo" version | cut -d' ' -f3): $nnew notes"
    [ "$nnew" -eq "$n119" ] || soft_fail "the newer Go sees $nnew notes, Go 1.19 $n119"
fi
python3 - "$IT_TMP/out/trace.json" "$note" "$n119" <<'PY' || soft_fail "trace.json"
import json, sys
events = json.load(open(sys.argv[1]))['traceEvents']
notes = [e for e in events if e.get('cat') == 'log' and
         str(e['args'].get('message', '')).startswith(sys.argv[2])]
print('trace.json: %d notes' % len(notes))
sys.exit(0 if len(notes) == int(sys.argv[3]) else 1)
PY
it_finish
