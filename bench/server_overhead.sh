#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tracing overhead on a server under load: ltprof-bench-kv-server (an accept thread, W workers,
# one shared table behind a mutex) serves ltprof-bench-kv-load (another process, C connections,
# closed loop) for D seconds per run. Configurations, interleaved for N rounds: base (no ltprof)
# and full (`ltprof record -o DIR -- kv_server ...`: every ltprof event, context switches
# included, then the conversion), plus optional diagnostic ones. The load is a closed loop
# (as fast as the server answers) or, with --rate, a fixed request rate. Per round it takes the
# throughput ratio and the ratio of server CPU time per request (getrusage of the server:
# ltprof's in-process work included, the LTTng consumer daemon not, which is shown apart).
# Prints a markdown table: medians and min-max. Builds nothing.
set -euo pipefail

usage() {
    cat <<EOF
usage: $0 [options]
  --quick           2 rounds of 2 s (checks that the benchmark works)
  -n ROUNDS         interleaved rounds (default 10)
  -d SECONDS        load duration per run (default 10)
  --configs "C ..." configurations besides base, in order (default "full"):
                      full     ltprof record (all events, conversion checked)
                      preload  LD_PRELOAD=libltprof.so, no session
                      nosched  full with LTPROF_SCHED=off (no context switches)
                      nocpu    full with LTPROF_CPU_HZ=0 (no CPU samples)
                      quiet    full with LTPROF_SYSCALL_NS=1000000000 (no syscall events)
                    and any of these followed by +VAR=VALUE..., e.g.
                    preload+LTPROF_CPU_HZ=0+LTPROF_SCHED=off
  --rate R          fixed load of R requests/s (default: closed loop, as fast as served)
  -w WORKERS        server worker threads (default 4)
  -c CONNS          load connections (default 16)
  -T THREADS        load generator threads (default 2)
  --server-args "A" more kv_server arguments (e.g. "-l rwlock -W 64")
  --build DIR       build directory holding bin/ and lib/ (default: \$LTPROF_BUILD_DIR, else
                    <repo>/build)
  -o FILE           also write the markdown results (and the raw runs) to FILE
  --keep            keep the raw data and the last trace of each configuration
EOF
}

orig_args="$*"
rounds=10
duration=10
configs="full"
workers=4
conns=16
load_threads=2
server_args=""
rate=0
build_dir="${LTPROF_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}"
out_file=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) rounds=2; duration=2 ;;
        -n) rounds="$2"; shift ;;
        -d) duration="$2"; shift ;;
        --configs) configs="$2"; shift ;;
        -w) workers="$2"; shift ;;
        -c) conns="$2"; shift ;;
        -T) load_threads="$2"; shift ;;
        --server-args) server_args="$2"; shift ;;
        --rate) rate="$2"; shift ;;
        --build) build_dir="$2"; shift ;;
        -o) out_file="$2"; shift ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "server_overhead.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

die() { echo "server_overhead.sh: error: $*" >&2; exit 1; }
server="$build_dir/bin/ltprof-bench-kv-server"
load="$build_dir/bin/ltprof-bench-kv-load"
ltprof="$build_dir/bin/ltprof"
lib="$build_dir/lib/libltprof.so"
[ -x "$server" ] || die "not found: $server (build target ltprof-bench-kv-server)"
[ -x "$load" ] || die "not found: $load (build target ltprof-bench-kv-load)"
[ -x "$ltprof" ] || die "not found: $ltprof (build target ltprof_cli)"
[ -f "$lib" ] || die "not found: $lib (build target ltprof)"
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"  # LD_PRELOAD wants an absolute path
[ "$rounds" -ge 1 ] 2>/dev/null || die "-n needs a positive number"
# config_env CONFIG: the variables of a configuration, one VAR=VALUE a line.
config_env() {
    case "${1%%+*}" in
        nosched) echo LTPROF_SCHED=off ;;
        nocpu) echo LTPROF_CPU_HZ=0 ;;
        quiet) echo LTPROF_SYSCALL_NS=1000000000 ;;
    esac
    case "$1" in *+*) tr '+' '\n' <<<"${1#*+}" ;; esac
}
for c in $configs; do
    case "${c%%+*}" in
        full|nosched|nocpu|quiet|preload) ;;
        *) die "unknown configuration: $c" ;;
    esac
    for v in $(config_env "$c"); do
        case "$v" in LTPROF_*=*) ;; *) die "bad variable in configuration $c: $v" ;; esac
    done
done
command -v lttng >/dev/null || die "lttng is not installed"

work="$(mktemp -d /tmp/ltprof-bench-server.XXXXXX)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
    fi
    if [ "$keep" = 1 ]; then
        echo "server_overhead.sh: kept raw data and traces in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

if ! lttng list >/dev/null 2>&1; then
    echo "server_overhead.sh: no lttng-sessiond reachable: starting one (left running)" >&2
    lttng-sessiond --daemonize --no-kernel || die "could not start lttng-sessiond"
fi

field() { sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" "$2" | head -n 1; }
# CPU seconds used so far by every lttng-consumerd (shared with other sessions on the machine).
consumerd_cpu() {
    local total=0 pid t
    for pid in $(pgrep -x lttng-consumerd || true); do
        t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

# run_one ROUND CONFIG: one server run under load; appends a line to $work/runs.tsv.
run_one() {
    local round="$1" config="$2" rec port_file="$work/port" t1 t2
    local srv=("$server" -f "$port_file" -w "$workers" -t $((duration + 120)))
    # shellcheck disable=SC2206  # split on purpose
    srv+=($server_args)
    rm -f "$port_file"
    local cons0 cons1 vars=() recorded=1
    mapfile -t vars < <(config_env "$config")
    case "${config%%+*}" in base|preload) recorded=0 ;; esac
    rec="$work/rec-${config%%+*}"
    cons0=$(consumerd_cpu)
    case "${config%%+*}" in
        base) env -u LD_PRELOAD "${srv[@]}" >"$work/srv.out" 2>"$work/srv.err" & ;;
        preload) env "${vars[@]}" LD_PRELOAD="$lib" "${srv[@]}" \
                     >"$work/srv.out" 2>"$work/srv.err" & ;;
        *) env -u LD_PRELOAD "${vars[@]}" "$ltprof" record -o "$rec" -- "${srv[@]}" \
               >"$work/srv.out" 2>"$work/srv.err" & ;;
    esac
    local job=$!
    if ! "$load" -f "$port_file" -d "$duration" -c "$conns" -T "$load_threads" -r "$rate" \
        >"$work/load.out" 2>"$work/load.err"; then
        kill -TERM "$job" 2>/dev/null || true
        wait "$job" || true
        die "load generator failed ($config): $(cat "$work/load.out" "$work/load.err" \
            "$work/srv.out" "$work/srv.err")"
    fi
    server_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$port_file")
    t1=$(date +%s%N)
    kill -TERM "$server_pid"
    wait "$job" || die "server run failed ($config): $(cat "$work/srv.out" "$work/srv.err")"
    t2=$(date +%s%N)
    server_pid=""
    cons1=$(consumerd_cpu)

    local rps p50 p99 requests cpu wall
    rps=$(field rps "$work/load.out"); p50=$(field p50_us "$work/load.out")
    p99=$(field p99_us "$work/load.out")
    requests=$(field requests "$work/srv.out"); cpu=$(field cpu_s "$work/srv.out")
    wall=$(field wall_s "$work/srv.out")
    if [ -z "$rps" ] || [ -z "$requests" ] || [ "$requests" -eq 0 ]; then
        die "unexpected output ($config): $(cat "$work/load.out" "$work/srv.out" "$work/srv.err")"
    fi
    local events=- lost=- sw_lost=- waits=- calls=- switches=- ctf=- gotrace=- json=- conv_s=-
    if [ "$recorded" = 1 ]; then
        local o="$work/srv.out"
        if ! grep -q '^ltprof: wrote .*cpu\.pb\.gz' "$o" ||
            ! grep -q '^ltprof: wrote .*trace\.out' "$o" || ! [ -s "$rec/trace.out" ]; then
            die "ltprof record did not convert the trace ($config): $(cat "$o" "$work/srv.err")"
        fi
        events=$(sed -n 's/^ltprof: read \([0-9]*\) events.*/\1/p' "$o")
        lost=$(sed -n 's/.*the tracer lost \([0-9]*\) events.*/\1/p' "$o")
        sw_lost=$(sed -n 's/.*the kernel dropped \([0-9]*\) context switches.*/\1/p' "$o")
        waits=$(sed -n 's/.* \([0-9]*\) contended waits.*/\1/p' "$o")
        calls=$(sed -n 's/.* \([0-9]*\) blocking calls.*/\1/p' "$o")
        switches=$(sed -n 's/.* \([0-9]*\) context switches$/\1/p' "$o")
        ctf=$(bytes "$rec/ctf"); gotrace=$(bytes "$rec/trace.out")
        [ ! -f "$rec/trace.json" ] || json=$(bytes "$rec/trace.json") # with --outputs all
        conv_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$round" "$config" "$rps" "$requests" "$cpu" "$wall" "$p50" "$p99" \
        "$(awk -v a="$cons0" -v b="$cons1" 'BEGIN { printf "%.3f", b - a }')" \
        "${events:--}" "${lost:-0}" "${sw_lost:-0}" "${waits:--}" "${calls:--}" \
        "${switches:--}" "${ctf:--}" "${gotrace:--}|${json:--}" "$conv_s" >>"$work/runs.tsv"
    {
        printf '  round %s %-8s %9.0f req/s, server CPU %s s for %s requests' \
            "$round" "$config" "$rps" "$cpu" "$requests"
        printf ', p50 %s us, p99 %s us%s\n' "$p50" "$p99" \
            "$([ "$events" != - ] && echo ", $events events, CTF $((ctf / 1000000)) MB")"
    } >&2
}

: >"$work/runs.tsv"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "server_overhead.sh: $rounds rounds of: base $configs; $duration s each," \
     "$workers workers, $conns connections" >&2
for ((r = 1; r <= rounds; r++)); do
    run_one "$r" base
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
        c = $2; if (!(c in seen)) { seen[c] = 1; order[++n] = c }
        rps[c] = rps[c] " " $3; cpr = $5 * 1e6 / $4; cpreq[c] = cpreq[c] " " cpr
        p50[c] = p50[c] " " $7; p99[c] = p99[c] " " $8
        cons[c] = cons[c] " " ($9 * 1e6 / $4); runs[c]++
        if (c == "base") { base_rps[$1] = $3; base_cpr[$1] = cpr; next }
        rr[c] = rr[c] " " $3 / base_rps[$1]; rc[c] = rc[c] " " cpr / base_cpr[$1]
        if ($10 != "-") {
            evs[c] = evs[c] " " $10 / $6; mbs[c] = mbs[c] " " $16 / 1e6 / $6
            evreq[c] = evreq[c] " " $10 / $4; lost[c] += $11; swlost[c] += $12
            waits[c] = waits[c] " " $13; calls[c] = calls[c] " " $14; sw[c] = sw[c] " " $15
            conv[c] = conv[c] " " $18; traced[c] = 1
        }
    }
    END {
        print "| configuration | runs | req/s median | throughput / base median " \
              "| throughput / base min–max | server CPU µs/req median " \
              "| CPU per req / base median | CPU per req / base min–max " \
              "| p50 µs | p99 µs | consumerd CPU µs/req |"
        print "|---|---|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            c = order[i]
            printf "| %s | %d | %.0f | %s | %s | %.2f | %s | %s | %.0f | %.0f | %.2f |\n", \
                c, runs[c], median(rps[c]), \
                (c in rr) ? sprintf("%.4f", median(rr[c])) : "1", \
                (c in rr) ? minmax(rr[c], "%.4f") : "", median(cpreq[c]), \
                (c in rc) ? sprintf("%.4f", median(rc[c])) : "1", \
                (c in rc) ? minmax(rc[c], "%.4f") : "", median(p50[c]), median(p99[c]), \
                median(cons[c])
        }
        print ""
        print "| configuration | events/s median (min–max) | events per request " \
              "| CTF MB/s | contended waits | blocking calls | context switches used " \
              "| events lost | switches lost | stop + conversion s |"
        print "|---|---|---|---|---|---|---|---|---|---|"
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (!(c in traced)) continue
            printf "| %s | %.0f (%s) | %.2f | %.2f | %.0f | %.0f | %.0f | %d | %d | %.1f |\n", \
                c, median(evs[c]), minmax(evs[c], "%.0f"), median(evreq[c]), median(mbs[c]), \
                median(waits[c]), median(calls[c]), median(sw[c]), lost[c], swlost[c], \
                median(conv[c])
        }
        print ""
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (!(c in rr)) continue
            a = median(rr[c]); b = median(rc[c])
            printf "Target (slowdown <= 2 %%) for %s: throughput %+.2f %%, CPU per request " \
                   "%+.2f %%: %s.\n", c, (a - 1) * 100, (b - 1) * 100, \
                   (a >= 0.98 && b <= 1.02) ? "met" : "missed"
        }
    }' "$work/runs.tsv")

load_kind="closed loop"
[ "$rate" -gt 0 ] && load_kind="a fixed $rate requests/s"
header="## Server under load: ltprof-bench-kv-server, $rounds rounds of $duration s

Command: \`bench/server_overhead.sh${orig_args:+ $orig_args}\`
(finished $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, nothing pinned; load average
before the runs: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)).
Server: $workers workers${server_args:+ ($server_args)}; load: $conns connections on
$load_threads threads, $load_kind.
Ratios are per round against that round's base run; CPU is the server's getrusage (ltprof's
in-process work included); consumerd CPU is every lttng-consumerd's, per request served."
printf '%s\n\n%s\n' "$header" "$table"
if [ -n "$out_file" ]; then
    {
        printf '%s\n\n%s\n\n' "$header" "$table"
        echo "Raw runs (round, config, req/s, server requests, server CPU s, server wall s," \
             "p50 µs, p99 µs, consumerd CPU s, events, lost, switches lost, waits, calls," \
             "switches used, CTF bytes, trace.out|trace.json bytes, stop+conversion s):"
        echo; echo '```'; cat "$work/runs.tsv"; echo '```'
    } >"$out_file"
fi
