#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# converter_memcheck: the converter under Valgrind's memcheck on real traces (an execution trace
# of tests/programs/trace_mix, the heap profile of heap_sites with every allocation sampled,
# the annotations of annotate) and on broken ones (a truncated stream, random metadata, a
# truncated metadata file): `ltprof convert` with every output, and babeltrace2 with the
# plugin's sinks, must show no invalid read or write, no use of uninitialised values and no
# definitely lost block. The broken traces must still fail cleanly (exit 1, not a crash).
source "$(dirname "$0")/lib.sh"

skip_under address "Valgrind cannot run programs built with ASan; the plain build runs it"
require_built
ensure_sessiond
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps.sh)"
VG=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --track-origins=yes -q
    --suppressions="$IT_DIR/valgrind.supp")

# memcheck NAME WANT_RC CMD...: CMD under memcheck exits WANT_RC, with no error reported.
memcheck() {
    local name=$1 want=$2 rc=0
    shift 2
    run_limited 600 "${VG[@]}" --log-file="$IT_TMP/vg-$name.log" "$@" \
        >"$IT_TMP/out-$name" 2>&1 || rc=$?
    if [ "$rc" -eq 99 ] || [ -s "$IT_TMP/vg-$name.log" ]; then
        soft_fail "$name: memcheck found errors:"
        head -40 "$IT_TMP/vg-$name.log" >&2
    elif [ "$rc" -ne "$want" ]; then
        soft_fail "$name: exit $rc, want $want ($(tail -2 "$IT_TMP/out-$name"))"
    else
        echo "ok: $name: exit $rc, memcheck clean"
    fi
}

ltprof_record "$IT_TMP/mix" "$LTPROF_PROGRAMS/trace_mix" >/dev/null
LTPROF_MEMPROFILE_RATE=1 ltprof_record "$IT_TMP/heap" "$LTPROF_PROGRAMS/heap_sites" >/dev/null
ltprof_record "$IT_TMP/ann" "$LTPROF_PROGRAMS/annotate" >/dev/null

step "real traces"
for t in mix heap ann; do
    memcheck "convert-$t" 0 "$LTPROF_BIN" convert "$IT_TMP/$t/ctf" -o "$IT_TMP/vg-out-$t" --outputs all
done
memcheck bt2-pprof 0 babeltrace2 --plugin-path="$LTPROF_PLUGIN_DIR" convert "$IT_TMP/mix/ctf" \
    -c sink.ltprof.pprof -p "path=\"$IT_TMP/bt2-pprof\""
memcheck bt2-gotrace 0 babeltrace2 --plugin-path="$LTPROF_PLUGIN_DIR" convert "$IT_TMP/mix/ctf" \
    -c sink.ltprof.gotrace -p "path=\"$IT_TMP/bt2-gotrace\",json=yes"

step "broken traces"
cp -r "$IT_TMP/mix/ctf" "$IT_TMP/trunc"
stream=$(find "$IT_TMP/trunc" -type f ! -name metadata ! -path '*/index/*' -printf '%s %p\n' |
         sort -rn | sed -n 1p | cut -d' ' -f2-)
[ -n "$stream" ] || fail "no stream file to truncate"
truncate -s $(($(stat -c %s "$stream") / 2 + 13)) "$stream"
memcheck truncated-stream 1 "$LTPROF_BIN" convert "$IT_TMP/trunc" -o "$IT_TMP/vg-trunc"
mkdir -p "$IT_TMP/random"
head -c 8192 /dev/urandom >"$IT_TMP/random/metadata"
head -c 65536 /dev/urandom >"$IT_TMP/random/channel0_0"
memcheck random-metadata 1 "$LTPROF_BIN" convert "$IT_TMP/random" -o "$IT_TMP/vg-random"
cp -r "$IT_TMP/mix/ctf" "$IT_TMP/tmeta"
meta=$(find "$IT_TMP/tmeta" -type f -name metadata | head -1)
truncate -s 4196 "$meta"
memcheck truncated-metadata 1 "$LTPROF_BIN" convert "$IT_TMP/tmeta" -o "$IT_TMP/vg-tmeta"
it_finish
