#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records two small traces with programs that have their own copy of the provider (no preload,
# so this also works in the sanitizer build): synth_trace (CPU samples) and synth_events (every
# event kind: threads, waits, calls, switches, annotations), and runs test_convert_fault on each.
# Usage: test_convert_fault.sh TEST_BINARY SYNTH_TRACE SYNTH_EVENTS
set -euo pipefail
test_bin=$1 synth=$2 events=$3
tmp=$(mktemp -d /tmp/ltprof-convert-fault.XXXXXX)
session="convert-fault-$$"
cleanup() { lttng destroy "$session" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
if ! lttng list >/dev/null 2>&1; then
    lttng-sessiond --daemonize --no-kernel
fi
lttng create "$session" --output="$tmp/trace" >/dev/null
lttng enable-event -u -s "$session" 'ltprof:*' >/dev/null
lttng enable-event -u -s "$session" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$session" -t vpid -t vtid >/dev/null
lttng start "$session" >/dev/null
"$synth" 1 500 16
lttng stop "$session" >/dev/null
lttng destroy "$session" >/dev/null
mkdir -p "$tmp/work"
"$test_bin" "$tmp/trace" "$tmp/work"

lttng create "$session" --output="$tmp/events" >/dev/null
lttng enable-event -u -s "$session" 'ltprof:*' >/dev/null
lttng enable-event -u -s "$session" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$session" -t vpid -t vtid >/dev/null
lttng start "$session" >/dev/null
"$events" -t 2 -s 40 -l 200 1500
lttng stop "$session" >/dev/null
lttng destroy "$session" >/dev/null
mkdir -p "$tmp/work-events"
"$test_bin" "$tmp/events" "$tmp/work-events" 600
