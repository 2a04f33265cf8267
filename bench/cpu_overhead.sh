#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CPU-profiling overhead: runs ltprof-bench-cpu-burn (fixed work) without the profiler (A) and
# with LD_PRELOAD=libltprof.so plus an ACTIVE lttng session recording ltprof:* (B, one B per
# sampling engine), interleaved A B... for N rounds, then prints a markdown table: median and
# min-max of the per-round B/A ratios of wall and CPU time, CPU samples in the trace and the
# cost per sample. Builds nothing. Pins nothing: on a small noisy machine read the spread.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick            3 rounds instead of 10 (checks that the benchmark works)
  -n ROUNDS          rounds of interleaved runs (default 10)
  -o FILE            also write the markdown results to FILE
  --build DIR        build directory holding bin/ and lib/ (default: <repo>/build)
  --bin PATH         the ltprof-bench-cpu-burn program (default: DIR/bin/ltprof-bench-cpu-burn)
  --lib PATH         libltprof.so (default: DIR/lib/libltprof.so)
  --hz HZ            LTPROF_CPU_HZ for the B runs (default 100)
  --engines "E ..."  LTPROF_CPU_ENGINE values, one B run each per round (default "auto timer")
  -t THREADS         burn threads (default 2)
  --iterations N     burn iterations per thread (default: the program's own)
  --keep             keep the trace and the raw per-run data (the path is printed)
EOF
}

orig_args="$*"
rounds=10
out_file=""
build_dir="$(cd "$(dirname "$0")/.." && pwd)/build"
bin=""
lib=""
hz=100
engines="auto timer"
threads=2
iterations=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) rounds=3 ;;
        -n) rounds="$2"; shift ;;
        -o) out_file="$2"; shift ;;
        --build) build_dir="$2"; shift ;;
        --bin) bin="$2"; shift ;;
        --lib) lib="$2"; shift ;;
        --hz) hz="$2"; shift ;;
        --engines) engines="$2"; shift ;;
        -t) threads="$2"; shift ;;
        --iterations) iterations="$2"; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "cpu_overhead.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bin="${bin:-$build_dir/bin/ltprof-bench-cpu-burn}"
lib="${lib:-$build_dir/lib/libltprof.so}"

die() { echo "cpu_overhead.sh: error: $*" >&2; exit 1; }
[ -x "$bin" ] || die "benchmark program not found: $bin (build target ltprof-bench-cpu-burn)"
[ -f "$lib" ] || die "libltprof.so not found: $lib (build target ltprof)"
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"  # LD_PRELOAD wants an absolute path
for tool in lttng lttng-sessiond babeltrace2 awk; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ "$rounds" -ge 1 ] 2>/dev/null || die "-n needs a positive number"

# ---- the recording session (one for all B runs) ----------------------------------------------

work="$(mktemp -d /tmp/ltprof-bench.XXXXXX)"
session="ltprof-bench-$$"
session_up=0
cleanup() {
    if [ "$session_up" = 1 ]; then
        lttng destroy "$session" >/dev/null 2>&1 || true
    fi
    if [ "$keep" = 1 ]; then
        echo "cpu_overhead.sh: kept trace and raw data in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

if ! lttng list >/dev/null 2>&1; then
    echo "cpu_overhead.sh: no lttng-sessiond reachable: starting one (left running)" >&2
    lttng-sessiond --daemonize --no-kernel || die "could not start lttng-sessiond"
fi
lttng create "$session" --output="$work/trace" >/dev/null || die "lttng create failed"
session_up=1
# A dedicated discard-mode channel big enough that no sample is dropped (checked below).
lttng enable-channel -u -s "$session" --subbuf-size=1M --num-subbuf=8 bench >/dev/null
lttng enable-event -u -s "$session" -c bench 'ltprof:*' >/dev/null
lttng add-context -u -s "$session" -c bench -t vpid -t vtid >/dev/null
lttng start "$session" >/dev/null

# ---- the runs ----------------------------------------------------------------------------------

burn_args=(-t "$threads")
[ -n "$iterations" ] && burn_args+=(-n "$iterations")
field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" "$2" | head -n 1; }

# run_one ROUND CONFIG [VAR=VALUE...]: one run; appends a line to $work/runs.tsv.
run_one() {
    local round="$1" config="$2" t0 t1
    shift 2
    t0=$(date +%s%N)
    env -u LD_PRELOAD "$@" "$bin" "${burn_args[@]}" >"$work/out" 2>"$work/err" \
        || die "run failed ($config): $(cat "$work/err")"
    t1=$(date +%s%N)
    local pid wall cpu stats_samples handler_ns engine
    pid=$(field pid "$work/out")
    wall=$(field wall_s "$work/out")
    cpu=$(field cpu_s "$work/out")
    if [ -z "$pid" ] || [ -z "$wall" ] || [ -z "$cpu" ]; then
        die "unexpected output: $(cat "$work/out")"
    fi
    stats_samples=$(field samples "$work/err"); handler_ns=$(field handler_mean_ns "$work/err")
    engine=$(field engine "$work/err")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$config" "$pid" "$wall" "$cpu" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" \
        "${stats_samples:--}" "${handler_ns:--}" "${engine:--}" >>"$work/runs.tsv"
    printf '  round %s %-8s wall %ss cpu %ss%s\n' "$round" "$config" "$wall" "$cpu" \
        "${engine:+ engine=$engine}" >&2
}

: >"$work/runs.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "cpu_overhead.sh: $rounds rounds of: A (no profiler), then B for engines: $engines" >&2
for ((r = 1; r <= rounds; r++)); do
    run_one "$r" A
    for e in $engines; do
        run_one "$r" "$e" LD_PRELOAD="$lib" LTPROF_CPU_HZ="$hz" LTPROF_CPU_ENGINE="$e" \
            LTPROF_STATS=1
    done
done

lttng stop "$session" >/dev/null    # waits until the consumer has flushed every buffer
lttng destroy "$session" >/dev/null
session_up=0

# ---- counting the samples per process ----------------------------------------------------------

# Other processes with libltprof loaded may be recorded too: count per vpid, keep our pids.
babeltrace2 "$work/trace" 2>"$work/bt.err" | awk '
    /ltprof:cpu_sample:/ {
        if (match($0, /vpid = [0-9]+/)) {
            pid = substr($0, RSTART + 7, RLENGTH - 7)
            n[pid]++
            if ($0 ~ /unwind_status = 0,/) ok[pid]++
        }
    }
    END { for (p in n) printf "%s\t%d\t%d\n", p, n[p], ok[p] }' >"$work/samples.tsv" \
    || die "babeltrace2 could not read the trace: $(tail -n 3 "$work/bt.err")"
discarded=$( (grep -o 'discarded [0-9]* events' "$work/bt.err" || true) \
    | awk '{ s += $2 } END { print s + 0 }')

# ---- the table ---------------------------------------------------------------------------------

table=$(awk -F'\t' -v discarded="$discarded" -v hz="$hz" '
    function median(list,    n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function minmax(list, fmt,    n, a, i, lo, hi) {
        n = split(list, a, " "); lo = hi = a[1]
        for (i = 2; i <= n; i++) {
            if (a[i] + 0 < lo + 0) lo = a[i]
            if (a[i] + 0 > hi + 0) hi = a[i]
        }
        return sprintf(fmt "–" fmt, lo, hi)
    }
    FNR == NR { samples[$1] = $2; complete[$1] = $3; next }
    $2 == "A" {
        wall_a[$1] = $4; cpu_a[$1] = $5; ext_a[$1] = $6
        all_wall_a = all_wall_a " " $4; all_cpu_a = all_cpu_a " " $5
        next
    }
    {
        c = $2; if (!(c in seen)) { seen[c] = 1; order[++nconf] = c }
        s = samples[$3] + 0
        rw[c] = rw[c] " " $4 / wall_a[$1]; rc[c] = rc[c] " " $5 / cpu_a[$1]
        rx[c] = rx[c] " " $6 / ext_a[$1]
        ns[c] = ns[c] " " s; rate[c] = rate[c] " " (s / $5)
        if (s > 0) cost[c] = cost[c] " " ($5 - cpu_a[$1]) * 1e6 / s
        if (s > 0) okpct[c] = okpct[c] " " 100 * complete[$3] / s
        if ($8 != "-") hns[c] = hns[c] " " $8
        if ($7 != "-" && $8 != "-") share[c] = share[c] " " 100 * $7 * $8 / 1e9 / $5
        if ($9 != "-") eng[c] = $9
        if (s == 0) zero[c]++
        runs[c]++
    }
    END {
        printf "A (no profiler), median of %d runs: wall %.3f s, CPU %.3f s.\n\n", \
            split(all_wall_a, tmp, " "), median(all_wall_a), median(all_cpu_a)
        print "| LTPROF_CPU_ENGINE (engine used) | runs | wall B/A median | wall B/A min–max " \
              "| CPU B/A median | CPU B/A min–max | process wall B/A median | samples/run " \
              "| samples per CPU-s | cost/sample µs (median, min–max) | handler mean µs " \
              "| handler share of CPU | complete stacks |"
        print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= nconf; i++) {
            c = order[i]
            printf "| %s (%s) | %d | %.4f | %s | %.4f | %s | %.4f | %.0f | %.1f | %s | %s " \
                   "| %s | %s |\n", \
                c, (c in eng) ? eng[c] : "?", runs[c], median(rw[c]), minmax(rw[c], "%.4f"), \
                median(rc[c]), minmax(rc[c], "%.4f"), median(rx[c]), median(ns[c]), \
                median(rate[c]), \
                (c in cost) ? sprintf("%.1f (%s)", median(cost[c]), minmax(cost[c], "%.1f")) \
                            : "n/a", \
                (c in hns) ? sprintf("%.2f", median(hns[c]) / 1000) : "n/a", \
                (c in share) ? sprintf("%.3f %%", median(share[c])) : "n/a", \
                (c in okpct) ? sprintf("%.1f %%", median(okpct[c])) : "n/a"
        }
        printf "\nSampling at %s Hz. Events discarded by the tracer: %d.\n", hz, discarded
        for (i = 1; i <= nconf; i++) {
            m = median(rc[order[i]])
            printf "Target CPU B/A median <= 1.01 for %s: %s (%+.2f %%).\n", order[i], \
                m <= 1.01 ? "met" : "missed", (m - 1) * 100
        }
        for (i = 1; i <= nconf; i++)
            if (order[i] in zero)
                printf "ERROR: %d run(s) of %s recorded 0 samples\n", zero[order[i]], order[i]
    }' "$work/samples.tsv" "$work/runs.tsv")

header="## CPU-profiling overhead: ltprof-bench-cpu-burn, $threads threads, $rounds rounds

Command: \`bench/cpu_overhead.sh${orig_args:+ $orig_args}\`
(finished $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, nothing pinned; load average
before the runs: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)).
B/A ratios are per round (A and B run back to back); cost/sample = (CPU_B - CPU_A) / samples;
handler mean and share come from LTPROF_STATS=1 (time inside the sampling signal handler)."
printf '%s\n\n%s\n' "$header" "$table"
if [ -n "$out_file" ]; then
    {
        printf '%s\n\n%s\n\n' "$header" "$table"
        echo "Raw runs (round, config, pid, wall s, CPU s, process wall s, stats samples," \
             "handler mean ns, engine; samples in trace per pid, of them complete):"
        echo; echo '```'; cat "$work/runs.tsv"; echo '---'; sort -n "$work/samples.tsv"; echo '```'
    } >"$out_file"
fi
if grep -q '^ERROR:' <<<"$table"; then
    exit 1
fi
