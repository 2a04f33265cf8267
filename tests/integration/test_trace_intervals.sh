#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_intervals: a thread that sleeps 50 ms, waits about 30 ms for a mutex and blocks about
# 20 ms in read() (tests/programs/trace_intervals.c measures each itself) shows those intervals
# in the Go execution trace, as Go 1.19's `go tool trace -d` lists them, within 1 ms each, with
# the mutex wait ended by the main thread's unlock; and mutex.pb.gz and block.pb.gz give that
# mutex wait, at timed_lock, within 10 % (and 1 ms) of what the program measured.
source "$(dirname "$0")/lib.sh"
prog=$LTPROF_PROGRAMS/trace_intervals

require_built
ensure_sessiond
ltprof_record "$IT_TMP/rec" "$prog" >"$IT_TMP/record.out"
cat "$IT_TMP/record.out"
truth=$(grep -o 'sleep_ms=.*' "$IT_TMP/record.out") || fail "the program printed no measurements"
run_limited 120 go tool trace -d "$IT_TMP/rec/trace.out" >"$IT_TMP/events.txt" 2>"$IT_TMP/d.err" ||
    { cat "$IT_TMP/d.err"; fail "go tool trace -d rejects the trace"; }
"${GTCHECK[@]}" intervals "$IT_TMP/events.txt" timed "$truth" 1.0 || soft_fail "intervals"

# sample_of RAW_LISTING FUNCTION: "count delay" of the samples whose leaf is FUNCTION.
sample_of() {
    awk -v fn="$2" '
        /^Samples:/ { s = 1; next }
        /^Locations/ { s = 0; l = 1; next }
        /^Mappings/ { l = 0 }
        s && $2 ~ /:$/ { n++; cnt[n] = $1; dly[n] = $2 + 0; leaf[n] = $3 }
        l && $1 ~ /:$/ { sub(":", "", $1); name[$1] = $4 }
        END { for (i = 1; i <= n; i++) if (name[leaf[i]] == fn) { c += cnt[i]; d += dly[i] }
              printf "%d %d\n", c, d }' "$1"
}
want_ms=$(sed 's/.*mutex_ms=\([0-9.]*\).*/\1/' <<<"$truth")
for kind in mutex block; do
    step "$kind.pb.gz: the mutex wait at timed_lock, against the program's $want_ms ms"
    pprof_text go "$IT_TMP/$kind.txt" -raw "$IT_TMP/rec/$kind.pb.gz"
    read -r count delay <<<"$(sample_of "$IT_TMP/$kind.txt" timed_lock)"
    echo "$kind: $count contention(s) at timed_lock, $delay ns"
    [ "$count" = 1 ] || soft_fail "$kind: $count contentions at timed_lock, want 1"
    awk -v d="$delay" -v w="$want_ms" 'BEGIN {
        e = d / 1e6 - w; if (e < 0) e = -e
        exit !(e <= 0.1 * w && e <= 1.0) }' ||
        soft_fail "$kind: delay $delay ns, not within 10 % and 1 ms of $want_ms ms"
done
grep -q 'PeriodType: contentions count' "$IT_TMP/mutex.txt" ||
    soft_fail "mutex.pb.gz is not a contentions profile"
it_finish
