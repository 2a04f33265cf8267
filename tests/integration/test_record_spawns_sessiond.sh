#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# record_spawns_sessiond: `ltprof record` starts an lttng-sessiond when none runs, like the
# lttng command. Runs in a private mount namespace with empty tmpfs over /var/run/lttng and
# /dev/shm, so the machine's own daemon is invisible and untouched; the daemon spawned there
# is killed at the end. Needs root (unshare); skipped otherwise.
source "$(dirname "$0")/lib.sh"

require_built
if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
    echo "SKIP: needs root and a private mount namespace (unshare -m)"
    exit 77
fi

cat >"$IT_TMP/inner.sh" <<'INNER'
set -euo pipefail
mount -t tmpfs none /var/run/lttng
mount -t tmpfs none /dev/shm
out=$1; shift
if lttng list >/dev/null 2>&1; then echo "a session daemon is still visible"; exit 3; fi
rc=0
timeout --kill-after=10 120 "$@" >"$out/record.out" 2>&1 || rc=$?
pidfile=/var/run/lttng/lttng-sessiond.pid
if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    echo "spawned sessiond pid: $pid" >>"$out/record.out"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
else
    echo "no lttng-sessiond pid file" >>"$out/record.out"
fi
exit "$rc"
INNER

mkdir -p /var/run/lttng /dev/shm # mount points (a fresh machine may never have run lttng)
rc=0
unshare -m --propagation private bash "$IT_TMP/inner.sh" "$IT_TMP" \
    "$LTPROF_BIN" record -o "$IT_TMP/rec" -- "$LTPROF_PROGRAMS/stacks_nofp" || rc=$?
cat "$IT_TMP/record.out"
[ "$rc" -ne 3 ] || fail "could not hide the machine's session daemon"
[ "$rc" -eq 0 ] || fail "ltprof record exited with $rc"
grep -q 'starting lttng-sessiond' "$IT_TMP/record.out" || soft_fail "no message about starting a daemon"
grep -q 'spawned sessiond pid' "$IT_TMP/record.out" || soft_fail "no daemon was spawned"
require_file "$IT_TMP/rec/cpu.pb.gz" "the profile"
pprof_text "$GO" "$IT_TMP/raw.txt" -symbolize=none -raw "$IT_TMP/rec/cpu.pb.gz"
"${CHECK[@]}" check-raw "$IT_TMP/raw.txt" --program stacks_nofp --min-samples 50 \
    --func leaf_spin --func main || soft_fail "profile checks"
it_finish
