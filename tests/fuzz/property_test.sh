#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Property test of the pprof builder, the Go trace writer and the converter's event handling:
# every profile and trace the fuzz targets generate from random input must open in the real
# readers. fuzz_pprof, fuzz_gotrace and fuzz_events run RUNS inputs each (mutations of their
# seeds, fixed random seed) and save what they write (LTPROF_FUZZ_SAVE); each profile then
# goes through `go tool pprof -raw`, each trace through `go tool trace -d` (Go 1.19, and the
# newer Go of ../shared/tools/newer-go.sh with -d=parsed when it is there) and each trace.json
# of fuzz_events through Python's JSON parser. Any refusal fails the test, and the refused
# file is kept in $LTPROF_FUZZ_KEEP (default /tmp/ltprof-fuzz-refused).
# Usage: property_test.sh FUZZ_PPROF FUZZ_GOTRACE FUZZ_EVENTS SEEDS_DIR [RUNS]
#        (RUNS default 150)
set -euo pipefail
pprof_bin=$1 gotrace_bin=$2 events_bin=$3 seeds=$4 runs=${5:-150}
GO=${GO:-go}
keep=${LTPROF_FUZZ_KEEP:-/tmp/ltprof-fuzz-refused}
tmp=$(mktemp -d /tmp/ltprof-fuzz-property.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out" "$tmp/c1" "$tmp/c2" "$tmp/c3"
here=$(cd "$(dirname "$0")" && pwd)
newgo=$("$here/../../../shared/tools/newer-go.sh" 2>/dev/null || true)

LTPROF_FUZZ_SAVE=$tmp/out LTPROF_FUZZ_SAVE_MAX=$runs "$pprof_bin" -runs="$runs" -seed=1 \
    "$tmp/c1" "$seeds/fuzz_pprof" >"$tmp/pprof.log" 2>&1
LTPROF_FUZZ_SAVE=$tmp/out LTPROF_FUZZ_SAVE_MAX=$runs "$gotrace_bin" -runs="$runs" -seed=1 \
    "$tmp/c2" "$seeds/fuzz_gotrace" >"$tmp/gotrace.log" 2>&1
# fuzz_events writes up to ten files per input (eight profiles, trace.out, trace.json).
LTPROF_FUZZ_SAVE=$tmp/out LTPROF_FUZZ_SAVE_MAX=$((runs * 10)) "$events_bin" -runs="$runs" -seed=1 \
    "$tmp/c3" "$seeds/fuzz_events" >"$tmp/events.log" 2>&1

refused=0 profiles=0 traces=0 jsons=0 event_traces=0
refuse() {
    refused=$((refused + 1))
    mkdir -p "$keep"
    cp "$1" "$keep/"
    echo "REFUSED by $2: $keep/$(basename "$1"): $(head -c 300 "$tmp/err")"
}
for f in "$tmp"/out/profile-*.pb.gz; do
    [ -e "$f" ] || continue
    profiles=$((profiles + 1))
    "$GO" tool pprof -raw "$f" >/dev/null 2>"$tmp/err" || refuse "$f" "go tool pprof"
done
for f in "$tmp"/out/trace-*.out; do
    [ -e "$f" ] || continue
    traces=$((traces + 1))
    case $f in */trace-events-*) event_traces=$((event_traces + 1)) ;; esac
    "$GO" tool trace -d "$f" >/dev/null 2>"$tmp/err" || refuse "$f" "go tool trace (1.19)"
    if [ -n "$newgo" ]; then
        "$newgo" tool trace -d=parsed "$f" >/dev/null 2>"$tmp/err" || refuse "$f" "go tool trace ($("$newgo" version | cut -d' ' -f3))"
    fi
done
for f in "$tmp"/out/json-events-*.json; do
    [ -e "$f" ] || continue
    jsons=$((jsons + 1))
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" 2>"$tmp/err" ||
        refuse "$f" "python3 json"
done
echo "property: $profiles profiles through go tool pprof, $traces traces through go tool trace" \
     "(1.19${newgo:+ and $("$newgo" version | cut -d' ' -f3)}, $event_traces of them from" \
     "fuzz_events), $jsons trace.json through python3 json: $refused refused"
[ "$profiles" -ge $((runs / 2)) ] && [ "$traces" -ge $((runs / 2)) ] &&
    [ "$event_traces" -ge $((runs / 10)) ] && [ "$jsons" -ge $((runs / 30)) ] ||
    { echo "FAIL: too few outputs to test (the targets wrote $profiles profiles," \
           "$traces traces, $event_traces from fuzz_events, $jsons trace.json)"; exit 1; }
[ "$refused" -eq 0 ]
