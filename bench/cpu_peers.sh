#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CPU profilers side by side (issue 7's CPU part): ltprof's in-process CPU profile
# (LD_PRELOAD=libltprof.so LTPROF_CPUPROFILE=FILE), gperftools' (LD_PRELOAD=libprofiler.so
# CPUPROFILE=FILE), `perf record -g` and `perf record --call-graph dwarf`, all at 100 Hz.
#   cost:  ltprof-bench-cpu-burn (fixed work, 2 threads) without a profiler (A) and under each
#          profiler, interleaved A B C... per round: wall and CPU time ratios to A (median and
#          min-max), profile size. The program's own times: perf's work in its own process and
#          perf's post-processing are not in them.
#   truth: tests/programs/shares (the accuracy test's program: known CPU time per function,
#          measured by itself) under each profiler: per function, the profile's share of the
#          four burners against the measured share; the error is the largest difference, in
#          percentage points (median and max over rounds).
# A profiler that cannot run here (perf refused, package missing) gets a row saying why.
# Prints a markdown report; builds nothing.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick         2 rounds, smaller work (checks that the benchmark works, not the figures)
  -n ROUNDS       rounds (default 7)
  -o FILE         also write the markdown report to FILE
  --build DIR     build directory (default: <repo>/build)
  --keep          keep the profiles and raw data (the folder is printed)
EOF
}

rounds=7
quick=0
out_file=""
keep=0
build_dir="$(cd "$(dirname "$0")/.." && pwd)/build"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1; rounds=2 ;;
    -n) rounds=${2:?-n needs a number}; shift ;;
    -o) out_file=${2:?-o needs a file}; shift ;;
    --build) build_dir=${2:?--build needs a folder}; shift ;;
    --keep) keep=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cpu_peers: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
case "$rounds" in '' | *[!0-9]* | 0) echo "cpu_peers: -n wants a positive integer" >&2; exit 2 ;; esac

die() { echo "cpu_peers: $*" >&2; exit 1; }
burn=$build_dir/bin/ltprof-bench-cpu-burn
shares=$build_dir/tests/bin/shares
lib=$build_dir/lib/libltprof.so
for f in "$burn" "$shares" "$lib"; do
    [ -e "$f" ] || die "$f is missing: build first (scripts/build.sh)"
done
command -v go >/dev/null || die "go is missing (Debian package golang-go)"
profiler_lib=$(ls /usr/lib/*/libprofiler.so.0 2>/dev/null | head -n 1 || true)

work=$(mktemp -d /tmp/ltprof-cpu-peers.XXXXXX)
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
iterations=4000000
scale=3
if [ "$quick" = 1 ]; then iterations=1000000; scale=0.3; fi

# Which peers can run here, and why not.
declare -A why_not=()
[ -n "$profiler_lib" ] || why_not[gperftools]="libprofiler.so.0 not installed (Debian package libgoogle-perftools4)"
if ! command -v perf >/dev/null; then
    why_not[perf-fp]="perf not installed (Debian package linux-perf)"
elif ! perf record -q -F 100 -o "$work/probe.data" -- true >/dev/null 2>"$work/probe.err"; then
    why_not[perf-fp]="perf record refused here: $(head -n 1 "$work/probe.err")"
fi
[ -z "${why_not[perf-fp]:-}" ] || why_not[perf-dwarf]=${why_not[perf-fp]}
configs=(none ltprof gperftools perf-fp perf-dwarf)

# run CONFIG PROFILE CMD...: runs CMD under CONFIG's profiler, writing its profile to PROFILE.
run() {
    local config=$1 prof=$2
    shift 2
    case "$config" in
    none) "$@" ;;
    ltprof) LD_PRELOAD=$lib LTPROF_CPUPROFILE=$prof "$@" ;;
    gperftools) LD_PRELOAD=$profiler_lib CPUPROFILE=$prof CPUPROFILE_FREQUENCY=100 "$@" ;;
    perf-fp) perf record -q -F 100 -g -o "$prof" -- "$@" ;;
    perf-dwarf) perf record -q -F 100 --call-graph dwarf -o "$prof" -- "$@" ;;
    esac
}

# flat_shares CONFIG PROFILE BINARY: "NAME PERCENT" per function, flat (leaf) shares.
flat_shares() {
    case "$1" in
    ltprof | gperftools) # gperftools' profile has addresses only: the binary names them
        go tool pprof -top -nodecount=500 "$3" "$2" 2>/dev/null |
            awk 'NF >= 6 && $2 ~ /%$/ { sub(/%/, "", $2); print $6, $2 }' ;;
    perf-*) perf report -i "$2" --stdio --no-children --sort sym -q 2>/dev/null |
                awk '$1 ~ /%$/ && $2 == "[.]" { sub(/%/, "", $1); print $3, $1 }' ;;
    esac
}

echo "cpu_peers: $rounds rounds, burn $iterations iterations x 2 threads, shares scale $scale; data in $work" >&2
: >"$work/cost.tsv"
: >"$work/truth.tsv"
for round in $(seq "$rounds"); do
    for config in "${configs[@]}"; do
        [ -z "${why_not[$config]:-}" ] || continue
        prof=$work/$config-$round.prof
        run "$config" "$prof" "$burn" -n "$iterations" >"$work/out" 2>"$work/err" ||
            die "$config: ltprof-bench-cpu-burn failed: $(tail -n 3 "$work/err")"
        wall=$(sed -n 's/.* wall_s=\([^ ]*\).*/\1/p' "$work/out")
        cpu=$(sed -n 's/.* cpu_s=\([^ ]*\).*/\1/p' "$work/out")
        size=0
        [ "$config" = none ] || size=$(stat -c %s "$prof" 2>/dev/null || echo 0)
        [ "$config" = none ] || [ "$size" -gt 0 ] || die "$config wrote no profile"
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$config" "$wall" "$cpu" "$size" >>"$work/cost.tsv"
        echo "  round $round $config: wall ${wall}s cpu ${cpu}s profile ${size} B" >&2

        [ "$config" = none ] && continue
        sprof=$work/$config-shares-$round.prof
        LTPROF_TEST_SCALE=$scale run "$config" "$sprof" "$shares" "$work/truth.txt" \
            >/dev/null 2>"$work/err" || die "$config: shares failed: $(tail -n 3 "$work/err")"
        flat_shares "$config" "$sprof" "$shares" >"$work/flat.txt"
        err=$(awk '
            FNR == NR { if ($1 == "func") { t[$2] = $3; tt += $3 } next }
            ($1 in t) { p[$1] = $2; pt += $2 }
            END {
                if (pt <= 0 || tt <= 0) { print "none"; exit }
                m = 0
                for (f in t) { d = 100 * (p[f] / pt - t[f] / tt); if (d < 0) d = -d; if (d > m) m = d }
                printf "%.2f", m
            }' "$work/truth.txt" "$work/flat.txt")
        [ "$err" != none ] || die "$config: no burner function in the profile of shares"
        printf '%s\t%s\t%s\n' "$round" "$config" "$err" >>"$work/truth.tsv"
        echo "  round $round $config: shares error ${err} points" >&2
    done
done

report() {
    echo "### CPU profilers side by side ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo "\`bench/cpu_peers.sh -n $rounds\`: ltprof-bench-cpu-burn, $iterations iterations on 2 threads,"
    echo "and tests/programs/shares at scale $scale; every profiler at 100 Hz; $rounds interleaved rounds."
    echo
    echo "| profiler | wall / none, median | min–max | CPU / none, median | min–max | profile size, median | shares error, median (max), points |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' -v order="${configs[*]}" '
        function median(list,   a, n, i, j, x) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function lo(list,   a, n, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
        function hi(list,   a, n, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
        FILENAME ~ /cost/ {
            if ($2 == "none") { w0[$1] = $3; c0[$1] = $4; base = base " " $3; next }
            rw[$2] = rw[$2] " " $3 / w0[$1]; rc[$2] = rc[$2] " " $4 / c0[$1]; sz[$2] = sz[$2] " " $5
            next
        }
        { er[$2] = er[$2] " " $3 }
        END {
            n = split(order, cfg, " ")
            for (i = 2; i <= n; i++) {
                c = cfg[i]
                if (!(c in rw)) continue
                printf "| %s | %.3f | %.3f–%.3f | %.3f | %.3f–%.3f | %d B | %.2f (%.2f) |\n", c,
                    median(rw[c]), lo(rw[c]), hi(rw[c]), median(rc[c]), lo(rc[c]), hi(rc[c]),
                    median(sz[c]), median(er[c]), hi(er[c])
            }
            printf "\nBaseline (no profiler), median wall %.3f s.\n", median(base)
        }' "$work/cost.tsv" "$work/truth.tsv" >"$work/table.md"
    sed '/^$/,$d' "$work/table.md"
    for c in "${configs[@]}"; do
        [ -z "${why_not[$c]:-}" ] || echo "| $c | not run: ${why_not[$c]} | | | | | |"
    done
    sed -n '/^$/,$p' "$work/table.md"
}
report | tee "${out_file:-/dev/null}"
