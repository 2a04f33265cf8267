#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records a small trace with synth_trace (its own copy of the provider, no preload, so it also
# works in the sanitizer build) and runs test_convert_fault on it.
# Usage: test_convert_fault.sh TEST_BINARY SYNTH_TRACE
set -euo pipefail
test_bin=$1 synth=$2
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
