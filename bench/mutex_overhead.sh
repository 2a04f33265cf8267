#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Uncontended mutex cost: runs ltprof-bench-mutex-pair (N lock/unlock pairs, one pinned thread,
# best of R repetitions) in three configurations, interleaved for N rounds: plain (no ltprof),
# preload (LD_PRELOAD=libltprof.so, no session) and session (`ltprof record`: its own LTTng
# session, per-PID buffers, vpid tracked, ltprof:* enabled). Each mode runs all three: "mt" with
# one idle thread (the interposers' own cost), "st" single-threaded (what such a program pays:
# glibc drops its no-atomics path once LTTng-UST starts threads). Prints a markdown table of
# ns per pair and of the per-round difference to plain. Builds nothing.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick          2 rounds of 2,000,000 pairs x 3 (checks that the benchmark works)
  -n ROUNDS        interleaved rounds (default 10)
  -p PAIRS         lock/unlock pairs per repetition (default 50000000)
  -r REPS          repetitions per run, the best is kept (default 5)
  -c CPU           CPU to pin the timed thread to (default: the last one)
  --modes "M ..."  mt (one idle thread) and/or st (single-threaded) (default "mt st")
  --build DIR      build directory holding bin/ and lib/ (default: \$LTPROF_BUILD_DIR, else
                   <repo>/build)
  -o FILE          also write the markdown results (and the raw runs) to FILE
  --keep           keep the raw data and the last trace (the path is printed)
EOF
}

orig_args="$*"
rounds=10
pairs=50000000
reps=5
cpu=$(($(nproc) - 1))
modes="mt st"
build_dir="${LTPROF_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}"
out_file=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) rounds=2; pairs=2000000; reps=3 ;;
        -n) rounds="$2"; shift ;;
        -p) pairs="$2"; shift ;;
        -r) reps="$2"; shift ;;
        -c) cpu="$2"; shift ;;
        --modes) modes="$2"; shift ;;
        --build) build_dir="$2"; shift ;;
        -o) out_file="$2"; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "mutex_overhead.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

die() { echo "mutex_overhead.sh: error: $*" >&2; exit 1; }
bin="$build_dir/bin/ltprof-bench-mutex-pair"
ltprof="$build_dir/bin/ltprof"
lib="$build_dir/lib/libltprof.so"
[ -x "$bin" ] || die "not found: $bin (build target ltprof-bench-mutex-pair)"
[ -x "$ltprof" ] || die "not found: $ltprof (build target ltprof_cli)"
[ -f "$lib" ] || die "not found: $lib (build target ltprof)"
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"  # LD_PRELOAD wants an absolute path
[ "$rounds" -ge 1 ] 2>/dev/null || die "-n needs a positive number"
for m in $modes; do
    case "$m" in mt|st) ;; *) die "unknown mode: $m (mt or st)" ;; esac
done

work="$(mktemp -d /tmp/ltprof-bench-mutex.XXXXXX)"
cleanup() {
    if [ "$keep" = 1 ]; then
        echo "mutex_overhead.sh: kept raw data in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" "$2" | head -n 1; }

# run_one ROUND MODE CONFIG: one run; appends a line to $work/runs.tsv.
run_one() {
    local round="$1" mode="$2" config="$3" idle=1 lost=0 waits="-"
    [ "$mode" = st ] && idle=0
    local args=(-n "$pairs" -r "$reps" -c "$cpu" -i "$idle")
    case "$config" in
        plain) env -u LD_PRELOAD "$bin" "${args[@]}" >"$work/out" 2>"$work/err" ;;
        preload) env LD_PRELOAD="$lib" "$bin" "${args[@]}" >"$work/out" 2>"$work/err" ;;
        session) env -u LD_PRELOAD "$ltprof" record -o "$work/rec" -- "$bin" "${args[@]}" \
                     >"$work/out" 2>"$work/err" ;;
    esac || die "run failed ($mode $config): $(cat "$work/err")"
    local best median
    best=$(field best_ns "$work/out")
    median=$(field median_ns "$work/out")
    [ -n "$best" ] || die "unexpected output ($mode $config): $(cat "$work/out" "$work/err")"
    if [ "$config" = session ]; then
        grep -q '^ltprof: wrote .*cpu.pb.gz' "$work/out" ||
            die "ltprof record did not convert the trace: $(cat "$work/out" "$work/err")"
        lost=$(sed -n 's/.*the tracer lost \([0-9]*\) events.*/\1/p' "$work/out" | head -n 1)
        waits=$(sed -n 's/.* \([0-9]*\) contended waits.*/\1/p' "$work/out" | head -n 1)
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$config" "$best" "$median" \
        "${lost:-0}" "${waits:--}" >>"$work/runs.tsv"
    printf '  round %s %s %-8s best %s ns/pair (median of %s: %s)\n' "$round" "$mode" "$config" \
        "$best" "$reps" "$median" >&2
}

: >"$work/runs.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "mutex_overhead.sh: $rounds rounds of modes ($modes) x (plain preload session)," \
     "$pairs pairs x $reps on CPU $cpu" >&2
for ((r = 1; r <= rounds; r++)); do
    for m in $modes; do
        for c in plain preload session; do
            run_one "$r" "$m" "$c"
        done
    done
done

table=$(awk -F'\t' '
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
    {
        k = $2 SUBSEP $3
        if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        ns[k] = ns[k] " " $4; runs[k]++
        if ($3 == "plain") plain[$1, $2] = $4
        else diff[k] = diff[k] " " ($4 - plain[$1, $2])
        lost += $6
        if ($7 != "-") { waits += $7; sessions++ }
    }
    END {
        print "| mode | configuration | runs | ns/pair median | ns/pair min–max " \
              "| Δ vs plain median | Δ vs plain min–max |"
        print "|---|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            split(order[i], kc, SUBSEP)
            printf "| %s | %s | %d | %.2f | %s | %s | %s |\n", kc[1], kc[2], runs[order[i]], \
                median(ns[order[i]]), minmax(ns[order[i]], "%.2f"), \
                (order[i] in diff) ? sprintf("%+.2f", median(diff[order[i]])) : "", \
                (order[i] in diff) ? minmax(diff[order[i]], "%+.2f") : ""
        }
        printf "\nSession runs: %d; events lost by the tracer: %d; " \
               "contended waits recorded: %d.\n", sessions, lost, waits
        for (i = 1; i <= n; i++) {
            split(order[i], kc, SUBSEP)
            if (!(order[i] in diff)) continue
            m = median(diff[order[i]])
            printf "Target Δ <= 5 ns for %s %s: %s (%+.2f ns).\n", kc[1], kc[2], \
                m <= 5 ? "met" : "missed", m
        }
    }' "$work/runs.tsv")

header="## Uncontended mutex: ltprof-bench-mutex-pair, $rounds rounds

Command: \`bench/mutex_overhead.sh${orig_args:+ $orig_args}\`
(finished $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, timed thread pinned to CPU $cpu;
load average before the runs: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)).
Each run prints the best of $reps repetitions of $pairs pairs; Δ is taken within a round.
mt: one idle thread exists; st: single-threaded program."
printf '%s\n\n%s\n' "$header" "$table"
if [ -n "$out_file" ]; then
    {
        printf '%s\n\n%s\n\n' "$header" "$table"
        echo "Raw runs (round, mode, configuration, best ns/pair, median ns/pair, events lost," \
             "contended waits):"
        echo; echo '```'; cat "$work/runs.tsv"; echo '```'
    } >"$out_file"
fi
