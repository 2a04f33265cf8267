#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cost of allocation sampling: runs ltprof-bench-alloc-churn (T threads, each N free+malloc of
# 16-512 bytes, with -w using the memory too, best of R repetitions) in these configurations,
# interleaved for ROUNDS rounds:
#   plain      no profiler
#   off        LD_PRELOAD=libltprof.so, LTPROF_MEMPROFILE_RATE=0: the interposers' fixed cost
#   preload    LD_PRELOAD=libltprof.so at the default rate (512 KiB), no session: the sampler
#   session    `ltprof record` at the default rate: its own LTTng session, ltprof:* recorded
#   heaptrack  `heaptrack` (every allocation, its own trace file), when installed
#   lttng-libc lttng-ust's liblttng-ust-libc-wrapper.so under a session recording
#              lttng_ust_libc:* (every malloc and free, no stack), when installed
# Prints a markdown table: ns per operation (one free + one malloc), the per-round difference
# and ratio to plain, and the targets (unsampled path <= 5 ns: off; sampling at 512 KiB <= 2 %:
# session). Builds nothing.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick          2 rounds of 500,000 operations x 2 (checks that the benchmark works)
  -n ROUNDS        interleaved rounds (default 7)
  -o OPS           operations per thread and repetition (default 2000000)
  -t THREADS       threads (default 2)
  -r REPS          repetitions per run, the best is kept (default 3)
  -w               the workload uses its memory (fills each block, reads it before the free)
  --configs "C ..." configurations to run (default: all of the above that are installed)
  --build DIR      build directory holding bin/ and lib/ (default: \$LTPROF_BUILD_DIR, else
                   <repo>/build)
  --out FILE       also write the markdown results (and the raw runs) to FILE
  --keep           keep the raw data (the path is printed)
EOF
}

orig_args="$*"
rounds=7
ops=2000000
threads=2
reps=3
use_memory=""
configs=""
build_dir="${LTPROF_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}"
out_file=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) rounds=2; ops=500000; reps=2 ;;
        -n) rounds="$2"; shift ;;
        -o) ops="$2"; shift ;;
        -t) threads="$2"; shift ;;
        -r) reps="$2"; shift ;;
        -w) use_memory="-w" ;;
        --configs) configs="$2"; shift ;;
        --build) build_dir="$2"; shift ;;
        --out) out_file="$2"; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "alloc_overhead.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

die() { echo "alloc_overhead.sh: error: $*" >&2; exit 1; }
bin="$build_dir/bin/ltprof-bench-alloc-churn"
ltprof="$build_dir/bin/ltprof"
lib="$build_dir/lib/libltprof.so"
[ -x "$bin" ] || die "not found: $bin (build target ltprof-bench-alloc-churn)"
[ -x "$ltprof" ] || die "not found: $ltprof (build target ltprof_cli)"
[ -f "$lib" ] || die "not found: $lib (build target ltprof)"
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"  # LD_PRELOAD wants an absolute path
[ "$rounds" -ge 1 ] 2>/dev/null || die "-n needs a positive number"
libc_wrapper=$(ls /usr/lib/*/liblttng-ust-libc-wrapper.so.1 2>/dev/null | head -n 1 || true)
skipped=""
if [ -z "$configs" ]; then
    configs="plain off preload session"
    if command -v heaptrack >/dev/null; then configs+=" heaptrack"; else skipped+=" heaptrack"; fi
    if [ -n "$libc_wrapper" ]; then configs+=" lttng-libc"; else skipped+=" lttng-libc"; fi
fi
for c in $configs; do
    case "$c" in
        plain|off|preload|session) ;;
        heaptrack) command -v heaptrack >/dev/null || die "heaptrack is not installed" ;;
        lttng-libc) [ -n "$libc_wrapper" ] || die "liblttng-ust-libc-wrapper.so is not installed" ;;
        *) die "unknown configuration: $c" ;;
    esac
done
case " $configs " in *" plain "*) ;; *) die "the configurations must include plain" ;; esac

work="$(mktemp -d /tmp/ltprof-bench-alloc.XXXXXX)"
session="ltprof-bench-alloc-$$"
cleanup() {
    lttng destroy "$session" >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then
        echo "alloc_overhead.sh: kept raw data in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

field() { grep -o "\(^\|[ :]\)$1=[^ ]*" "$2" | head -n 1 | sed "s/.*=//"; }

# run_one ROUND CONFIG: one run; appends "round config best median size" to $work/runs.tsv.
run_one() {
    local round="$1" config="$2" size="-"
    local args=(-n "$ops" -t "$threads" -r "$reps" $use_memory)
    case "$config" in
        plain) env -u LD_PRELOAD "$bin" "${args[@]}" ;;
        off) env LD_PRELOAD="$lib" LTPROF_MEMPROFILE_RATE=0 "$bin" "${args[@]}" ;;
        preload) env LD_PRELOAD="$lib" "$bin" "${args[@]}" ;;
        session) rm -rf "$work/rec"
                 env -u LD_PRELOAD "$ltprof" record -o "$work/rec" -- "$bin" "${args[@]}" ;;
        heaptrack) rm -f "$work"/ht.*
                   heaptrack -o "$work/ht" "$bin" "${args[@]}" ;;
        lttng-libc) rm -rf "$work/lt"
                    lttng create "$session" --output="$work/lt" >/dev/null &&
                    lttng enable-event -u 'lttng_ust_libc:*' -s "$session" >/dev/null &&
                    lttng start "$session" >/dev/null &&
                    env LD_PRELOAD="$libc_wrapper" "$bin" "${args[@]}" &&
                    lttng stop "$session" >/dev/null && lttng destroy "$session" >/dev/null ;;
    esac >"$work/out" 2>"$work/err" || die "run failed ($config): $(tail -n 5 "$work/err")"
    local best median
    best=$(field best_ns "$work/out")
    median=$(field median_ns "$work/out")
    [ -n "$best" ] || die "unexpected output ($config): $(cat "$work/out" "$work/err")"
    case "$config" in
        session) grep -q '^ltprof: wrote .*cpu.pb.gz' "$work/out" ||
                     die "ltprof record did not convert the trace: $(cat "$work/out" "$work/err")"
                 size=$(du -sb "$work/rec/ctf" | cut -f1) ;;
        heaptrack) size=$(cat "$work"/ht.* | wc -c) ;;
        lttng-libc) size=$(du -sb "$work/lt" | cut -f1) ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$config" "$best" "$median" "$size" >>"$work/runs.tsv"
    printf '  round %s %-10s best %s ns/op (median of %s: %s)\n' "$round" "$config" "$best" \
        "$reps" "$median" >&2
}

if [[ " $configs " == *" lttng-libc "* || " $configs " == *" session "* ]]; then
    lttng list >/dev/null 2>&1 || lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 ||
        die "no LTTng session daemon and none could be started"
fi
: >"$work/runs.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "alloc_overhead.sh: $rounds rounds of ($configs), $threads threads x $ops operations" \
     "x $reps" >&2
for ((r = 1; r <= rounds; r++)); do
    for c in $configs; do
        run_one "$r" "$c"
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
        k = $2
        if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        ns[k] = ns[k] " " $3; runs[k]++
        if ($5 != "-") size[k] = size[k] " " $5
        if (k == "plain") plain[$1] = $3
        else {
            diff[k] = diff[k] " " ($3 - plain[$1])
            ratio[k] = ratio[k] " " ($3 / plain[$1])
        }
    }
    END {
        print "| configuration | runs | ns/op median | ns/op min–max | Δ vs plain median " \
              "| Δ min–max | ratio median | ratio min–max | trace size median |"
        print "|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            k = order[i]
            printf "| %s | %d | %.2f | %s | %s | %s | %s | %s | %s |\n", k, runs[k], \
                median(ns[k]), minmax(ns[k], "%.2f"), \
                (k in diff) ? sprintf("%+.2f ns", median(diff[k])) : "", \
                (k in diff) ? minmax(diff[k], "%+.2f") : "", \
                (k in ratio) ? sprintf("%.3f", median(ratio[k])) : "", \
                (k in ratio) ? minmax(ratio[k], "%.3f") : "", \
                (k in size) ? sprintf("%.1f MiB", median(size[k]) / 1048576) : ""
        }
        print ""
        if ("off" in diff) {
            m = median(diff["off"])
            printf "Target: the unsampled malloc+free path adds <= 5 ns (off): %s (%+.2f ns).\n", \
                m <= 5 ? "met" : "missed", m
        }
        if ("session" in ratio) {
            m = median(ratio["session"])
            printf "Target: sampling at 512 KiB costs <= 2 %% (session): %s (%+.1f %%).\n", \
                m <= 1.02 ? "met" : "missed", (m - 1) * 100
        }
    }' "$work/runs.tsv")

header="## Allocation sampling: ltprof-bench-alloc-churn, $rounds rounds

Command: \`bench/alloc_overhead.sh${orig_args:+ $orig_args}\`
(finished $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs; load average before the runs:
$load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)).
$threads threads, each $ops operations (free + malloc of 16–512 bytes${use_memory:+; each block
filled, and read before its free}) per repetition; each run
prints the best of $reps repetitions; Δ and ratio are taken within a round.${skipped:+
Not installed, not run:$skipped.}"
printf '%s\n\n%s\n' "$header" "$table"
if [ -n "$out_file" ]; then
    {
        printf '%s\n\n%s\n\n' "$header" "$table"
        echo "Raw runs (round, configuration, best ns/op, median ns/op, trace bytes):"
        echo; echo '```'; cat "$work/runs.tsv"; echo '```'
    } >"$out_file"
fi
