#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Converter throughput on a big realistic trace: records one with synth_events
# (tests/programs/synth_events.c, the whole ltprof:* mix from several threads, into a blocking
# channel so nothing is lost) or reuses the one cached for the same event count and generator,
# then runs interleaved rounds of `babeltrace2 TRACE -c sink.utils.dummy` (decode only) and
# `ltprof convert TRACE -o OUT` (the default outputs pprof and trace, then --outputs pprof,
# --outputs trace and --outputs all, which adds trace.json) and
# prints a markdown table: wall time, events/s, the ratio to babeltrace2's rate within each
# round (median, min-max) and peak RSS (/usr/bin/time %M). Builds nothing. Pins nothing.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick            200,000 events and 2 rounds (checks that the benchmark works)
  --events N         events in the trace (default 10000000)
  -n ROUNDS          interleaved rounds (default 3)
  --build DIR        build directory (default: <repo>/build)
  --ltprof PATH      the ltprof command (default: DIR/bin/ltprof)
  --gen PATH         the generator (default: DIR/tests/bin/synth_events)
  --cache DIR        where traces are kept, one per event count and generator
                     (default: \$LTPROF_BENCH_CACHE or /tmp/ltprof-bench-traces)
  --configs "C ..."  ltprof convert variants among default (no --outputs), pprof, trace, json,
                     all (default "default pprof trace all")
  -t THREADS, -s STACKS, -l ROUNDS   synth_events parameters (defaults 4, 4000, 1000)
  --check            check the outputs of the last 'all' run: go tool trace -d=1, python3
                     json.load, go tool pprof -top (each capped at --check-mem GiB)
  --check-mem GIB    address-space cap for each check (default 16)
  -o FILE            also write the markdown results to FILE
  --keep             keep the outputs of the last round (the path is printed)
EOF
}

orig_args="$*"
events=10000000
rounds=3
build_dir="$(cd "$(dirname "$0")/.." && pwd)/build"
ltprof=""
gen=""
cache="${LTPROF_BENCH_CACHE:-/tmp/ltprof-bench-traces}"
configs="default pprof trace all"
threads=4
stacks=4000
lifetime=1000
check=0
check_mem=16
out_file=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) events=200000; rounds=2 ;;
        --events) events="$2"; shift ;;
        -n) rounds="$2"; shift ;;
        --build) build_dir="$2"; shift ;;
        --ltprof) ltprof="$2"; shift ;;
        --gen) gen="$2"; shift ;;
        --cache) cache="$2"; shift ;;
        --configs) configs="$2"; shift ;;
        -t) threads="$2"; shift ;;
        -s) stacks="$2"; shift ;;
        -l) lifetime="$2"; shift ;;
        --check) check=1 ;;
        --check-mem) check_mem="$2"; shift ;;
        -o) out_file="$2"; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "convert_throughput.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
ltprof="${ltprof:-$build_dir/bin/ltprof}"
gen="${gen:-$build_dir/tests/bin/synth_events}"

die() { echo "convert_throughput.sh: error: $*" >&2; exit 1; }
note() { echo "convert_throughput.sh: $*" >&2; }
[ -x "$ltprof" ] || die "ltprof not found: $ltprof (build target ltprof_cli)"
[ -x "$gen" ] || die "generator not found: $gen (build target synth_events)"
for tool in lttng lttng-sessiond babeltrace2 awk sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (Debian package: time)"
[ "$rounds" -ge 1 ] 2>/dev/null || die "-n needs a positive number"
[ "$events" -ge 8 ] 2>/dev/null || die "--events needs a number of at least 8"
for c in $configs; do
    case "$c" in default|all|pprof|trace|json) ;; *) die "unknown config in --configs: $c" ;; esac
done
gen="$(cd "$(dirname "$gen")" && pwd)/$(basename "$gen")" # the trace names it: keep it absolute

work="$(mktemp -d /tmp/ltprof-convert-bench.XXXXXX)"
session=""
cleanup() {
    if [ -n "$session" ]; then
        lttng destroy "$session" >/dev/null 2>&1 || true
    fi
    if [ "$keep" = 1 ]; then
        note "kept the outputs in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# ---- the trace (cached) ------------------------------------------------------------------------

# The generator's hash is in the key: a rebuilt generator makes traces whose symbols it no
# longer matches.
gen_hash=$(sha256sum "$gen" | cut -c1-12)
trace="$cache/synth-$events-t$threads-s$stacks-l$lifetime-$gen_hash"

record_trace() {
    local dir="$1" fifo="$work/go" pid
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! lttng list >/dev/null 2>&1; then
        note "no lttng-sessiond reachable: starting one (left running)"
        lttng-sessiond --daemonize --no-kernel || die "could not start lttng-sessiond"
    fi
    session="ltprof-convert-bench-$$"
    lttng create "$session" --output="$dir/ctf" >/dev/null || die "lttng create failed"
    # Blocking channel: the generator waits for the consumer instead of losing events.
    lttng enable-channel -u -s "$session" --subbuf-size=4M --num-subbuf=8 \
        --blocking-timeout=inf big >/dev/null
    lttng add-context -u -s "$session" -c big -t vpid -t vtid >/dev/null
    lttng enable-event -u -s "$session" -c big 'ltprof:*' >/dev/null
    lttng enable-event -u -s "$session" -c big 'lttng_ust_statedump:*' >/dev/null
    # Only the generator: other programs run with libltprof.so would land here too.
    lttng untrack -u -s "$session" --vpid --all >/dev/null
    mkfifo "$fifo"
    exec 9<>"$fifo" # read-write: neither side blocks on opening it
    (read -r _ <&9; exec 9<&-; exec env LTTNG_UST_ALLOW_BLOCKING=1 LTTNG_UST_REGISTER_TIMEOUT=-1 \
        "$gen" -t "$threads" -s "$stacks" -l "$lifetime" "$events") >"$dir/gen.txt" 2>&1 &
    pid=$!
    lttng track -u -s "$session" --vpid "$pid" >/dev/null
    lttng start "$session" >/dev/null
    echo go >&9
    exec 9<&-
    wait "$pid" || die "synth_events failed: $(cat "$dir/gen.txt")"
    lttng stop "$session" >/dev/null # waits until the consumer has written every buffer
    lttng destroy "$session" >/dev/null
    session=""
    rm -f "$fifo"
    babeltrace2 "$dir/ctf" -c sink.utils.dummy 2>"$dir/bt.err" \
        || die "babeltrace2 cannot read the new trace: $(tail -n 3 "$dir/bt.err")"
    if grep -qi discarded "$dir/bt.err"; then
        die "the tracer discarded events: $(grep -i discarded "$dir/bt.err" | head -n 2)"
    fi
    touch "$dir/complete"
}

if [ -f "$trace/complete" ]; then
    note "reusing the trace $trace"
else
    note "recording $events events into $trace"
    record_trace "$trace"
fi
gen_line=$(cat "$trace/gen.txt")
trace_mb=$(du -sm "$trace/ctf" | cut -f1)
find "$trace/ctf" -type f -exec cat {} + >/dev/null # into the page cache for every run

# ---- the runs ----------------------------------------------------------------------------------

# run_one ROUND CONFIG CMD...: runs CMD under /usr/bin/time; appends to $work/runs.tsv
# (round, config, wall s, max RSS KiB, user s, sys s, events).
run_one() {
    local round="$1" config="$2" t0 t1 ev
    shift 2
    t0=$(date +%s%N)
    /usr/bin/time -f '%M %U %S' -o "$work/time" "$@" >"$work/out" 2>"$work/err" \
        || die "run failed ($config): $(tail -n 3 "$work/err")"
    t1=$(date +%s%N)
    ev=$(sed -n 's/^ltprof: read \([0-9]*\) events.*/\1/p' "$work/out")
    if [ "$config" != bt2 ] && grep -q 'warning: the tracer lost' "$work/out"; then
        die "ltprof convert reports lost events: $(grep 'tracer lost' "$work/out")"
    fi
    read -r rss user sys <"$work/time"
    [ "$config" = default ] && cp "$work/out" "$work/summary-default" # ltprof's own account
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$config" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
        "$rss" "$user" "$sys" "${ev:--}" >>"$work/runs.tsv"
    note "  round $round $(printf '%-6s' "$config") $(tail -n 1 "$work/runs.tsv" | cut -f3)s" \
         "rss $((rss / 1024)) MiB"
}

: >"$work/runs.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "$rounds rounds of: babeltrace2 dummy, then ltprof convert for: $configs"
for ((r = 1; r <= rounds; r++)); do
    run_one "$r" bt2 babeltrace2 "$trace/ctf" -c sink.utils.dummy
    for c in $configs; do
        rm -rf "$work/out-$c"
        if [ "$c" = default ]; then
            run_one "$r" "$c" "$ltprof" convert "$trace/ctf" -o "$work/out-$c"
        else
            run_one "$r" "$c" "$ltprof" convert "$trace/ctf" -o "$work/out-$c" --outputs "$c"
        fi
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

size_of() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }
sizes=""
for c in $configs; do
    for f in cpu.pb.gz trace.out trace.json; do
        [ -f "$work/out-$c/$f" ] && sizes="$sizes $c/$f=$(size_of "$work/out-$c/$f")"
    done
done

# ---- checks of the outputs (optional: they can need much memory and time) ----------------------

checks=""
# check_one NAME CMD...: runs CMD with an address-space cap, records status, time and RSS.
check_one() {
    local name="$1" t0 t1 st=0
    shift
    t0=$(date +%s%N)
    (ulimit -v $((check_mem * 1024 * 1024)); /usr/bin/time -f '%M' -o "$work/ctime" "$@") \
        >"$work/cout" 2>"$work/cerr" || st=$?
    t1=$(date +%s%N)
    local rss; rss=$(tail -n 1 "$work/ctime" 2>/dev/null || echo 0)
    [[ "$rss" =~ ^[0-9]+$ ]] || rss=0
    checks="$checks
| \`$name\` | $([ "$st" = 0 ] && echo ok || echo "FAILED (exit $st: $(grep -v '^Command' "$work/cerr" | tail -n 1 | cut -c1-100))") | $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') | $((rss / 1024)) |"
    note "  check $name: exit $st"
}
if [ "$check" = 1 ]; then
    d="$work/out-all"
    [ -d "$d" ] || die "--check needs the 'all' config"
    if command -v go >/dev/null; then
        check_one "go tool trace -d=1 trace.out" sh -c 'go tool trace -d=1 "$0" >/dev/null' \
            "$d/trace.out"
        check_one "go tool pprof -top cpu.pb.gz" sh -c \
            'go tool pprof -top "$0" >"$1" 2>&1 && grep -q "flat%" "$1"' "$d/cpu.pb.gz" "$work/top"
    fi
    check_one "python3 json.load(trace.json)" python3 -c \
        'import json, sys; json.load(open(sys.argv[1]))' "$d/trace.json"
    # A file too big for json.load can still be checked event by event: the writer puts one
    # event per line between a fixed head and tail.
    check_one "trace.json line by line" python3 -c '
import json, sys
n = 0
with open(sys.argv[1]) as f:
    head = f.readline()
    assert head == "{\"traceEvents\":[\n", head
    for line in f:
        if line.startswith("],"):
            json.loads("{\"traceEvents\":[]" + line[1:])
            break
        json.loads(line.rstrip("\n").rstrip(","))
        n += 1
    else:
        raise SystemExit("no tail")
print(n)' "$d/trace.json"
fi

# ---- the table ---------------------------------------------------------------------------------

table=$(awk -F'\t' -v configs="$configs" '
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function lo(list,    n, a, i, m) {
        n = split(list, a, " "); m = a[1]
        for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
        return m
    }
    function hi(list,    n, a, i, m) {
        n = split(list, a, " "); m = a[1]
        for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]
        return m
    }
    {
        wall[$2] = wall[$2] " " $3; rss[$2] = rss[$2] " " $4 / 1024
        cpu[$2] = cpu[$2] " " ($5 + $6)
        if ($2 == "bt2") { bt[$1] = $3; btcpu[$1] = $5 + $6 }
        else {
            if ($7 != "-") events = $7
            ratio[$2] = ratio[$2] " " bt[$1] / $3
            cratio[$2] = cratio[$2] " " btcpu[$1] / ($5 + $6)
        }
        runs[$2]++
    }
    END {
        name["bt2"] = "babeltrace2 TRACE -c sink.utils.dummy"
        name["default"] = "ltprof convert (default: pprof, trace)"
        name["all"] = "ltprof convert --outputs all"
        name["pprof"] = "ltprof convert --outputs pprof"
        name["trace"] = "ltprof convert --outputs trace"
        name["json"] = "ltprof convert --outputs json"
        print "| command | runs | wall s median (min–max) | events/s median | rate / babeltrace2 " \
              "median (min–max) | same by CPU time | peak RSS MiB median (max) | CPU s median |"
        print "|---|---|---|---|---|---|---|---|"
        n = split("bt2 " configs, order, " ")
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (!(c in runs)) continue
            printf "| %s | %d | %.2f (%.2f–%.2f) | %.0fk | %s | %s | %.0f (%.0f) | %.2f |\n", \
                name[c], runs[c], median(wall[c]), lo(wall[c]), hi(wall[c]), \
                events / median(wall[c]) / 1000, \
                (c == "bt2" ? "1" : sprintf("**%.3f** (%.3f–%.3f)", median(ratio[c]), \
                                            lo(ratio[c]), hi(ratio[c]))), \
                (c == "bt2" ? "1" : sprintf("%.3f", median(cratio[c]))), \
                median(rss[c]), hi(rss[c]), median(cpu[c])
        }
        printf "\nEvents read per run: %d.\n", events
        if ("default" in ratio) {
            m = median(ratio["default"])
            printf "Target rate of ltprof convert (default outputs) >= 0.85 x babeltrace2: %s " \
                   "(%.1f %%).\n", \
                (m >= 0.85 ? "met" : "missed"), m * 100
        }
    }' "$work/runs.tsv")

header="## Converter throughput: $events events, $rounds rounds

Command: \`bench/convert_throughput.sh${orig_args:+ $orig_args}\`
(finished $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);
load average before the runs: $load_before, after: $load_after).
Trace: $trace ($trace_mb MiB of CTF), written by:
$gen_line
Rates are events read / wall time; each ratio is babeltrace2's wall time (or CPU time) over
ltprof's within a round. Output sizes (bytes):$sizes"
if [ -f "$work/summary-default" ]; then
    header="$header
ltprof convert (default outputs), last run:
\`\`\`
$(grep -v '^ltprof: converting' "$work/summary-default")
\`\`\`"
fi
printf '%s\n\n%s\n' "$header" "$table"
if [ -n "$checks" ]; then
    printf '\n| check | result | s | peak RSS MiB |\n|---|---|---|---|%s\n' "$checks"
fi
if [ -n "$out_file" ]; then
    {
        printf '%s\n\n%s\n' "$header" "$table"
        if [ -n "$checks" ]; then
            printf '\n| check | result | s | peak RSS MiB |\n|---|---|---|---|%s\n' "$checks"
        fi
        echo
        echo "Raw runs (round, config, wall s, max RSS KiB, user s, sys s, events):"
        echo; echo '```'; cat "$work/runs.tsv"; echo '```'
    } >"$out_file"
fi
