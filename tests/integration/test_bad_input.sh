#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bad_input: `ltprof convert` on inputs that are not usable ltprof traces (missing dir, empty
# dir, random files, random metadata, truncated stream, truncated metadata, an event class
# without a field ltprof needs, no ltprof events, unknown schema version) must fail cleanly: exit status 1..127, exactly one stderr line
# "ltprof: ..." (or "ltprof convert: ..."), within 60 s. A real trace is converted first to
# prove the command works.
source "$(dirname "$0")/lib.sh"

require_built
ensure_sessiond

# expect_error NAME INPUT [REGEX]: the clean-failure contract; REGEX must match the message.
expect_error() {
    local name=$1 input=$2 regex=${3:-} rc=0 out=$IT_TMP/conv-$1
    # Under ASan, full unwinding at each malloc lets lsan.supp see babeltrace2's own leaks on
    # broken traces through its code without frame pointers (these inputs are small).
    ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:fast_unwind_on_malloc=0} \
        run_limited 60 "$LTPROF_BIN" convert "$input" -o "$out" >"$out.stdout" 2>"$out.stderr" || rc=$?
    local nlines msg
    nlines=$(wc -l <"$out.stderr")
    msg=$(sed -n 1p "$out.stderr" | cut -c1-300)
    printf '%-18s exit=%-3s stderr lines=%s: %s\n' "$name" "$rc" "$nlines" "$msg"
    [ "$rc" -ne 0 ] || { soft_fail "$name: exit status 0"; return; }
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        soft_fail "$name: hung (killed after 60 s)"
        return
    fi
    [ "$rc" -lt 128 ] || soft_fail "$name: crashed (exit $rc, signal $((rc - 128)))"
    [ "$nlines" -eq 1 ] || soft_fail "$name: $nlines lines on stderr, want 1"
    # "ltprof: ..." per the contract; "ltprof convert: ..." is accepted too.
    grep -Eq '^ltprof( convert)?: .' <<<"$msg" ||
        soft_fail "$name: message does not start with 'ltprof: '"
    if [ -n "$regex" ] && ! grep -Eqi -- "$regex" <<<"$msg"; then
        soft_fail "$name: message does not mention /$regex/"
    fi
    [ ! -e "$out/cpu.pb.gz" ] || soft_fail "$name: left $out/cpu.pb.gz behind after failing"
}

step "a real trace (stacks_fp, short), converted successfully"
LTPROF_TEST_SCALE=0.3 ltprof_record "$IT_TMP/good" "$LTPROF_PROGRAMS/stacks_fp"
run_limited 60 "$LTPROF_BIN" convert "$IT_TMP/good/ctf" -o "$IT_TMP/good-conv" ||
    fail "ltprof convert of a good trace failed"
require_file "$IT_TMP/good-conv/cpu.pb.gz"
meta=$(find "$IT_TMP/good/ctf" -name metadata | sed -n 1p)
[ -n "$meta" ] || fail "no metadata file in the recorded trace"

step "--outputs: what is asked for, nothing else; a bad list is refused"
run_limited 60 "$LTPROF_BIN" convert "$IT_TMP/good/ctf" -o "$IT_TMP/json-only" --outputs json ||
    fail "ltprof convert --outputs json failed"
require_file "$IT_TMP/json-only/trace.json"
[ ! -e "$IT_TMP/json-only/cpu.pb.gz" ] && [ ! -e "$IT_TMP/json-only/trace.out" ] ||
    soft_fail "--outputs json wrote more than trace.json"
for list in bogus pprof,bogus '' ,; do
    rc=0
    run_limited 60 "$LTPROF_BIN" convert "$IT_TMP/good/ctf" -o "$IT_TMP/bad-list" \
        --outputs "$list" >/dev/null 2>"$IT_TMP/bad-list.err" || rc=$?
    [ "$rc" -eq 2 ] || soft_fail "--outputs '$list': exit $rc, want 2 (usage error)"
    grep -q -- '--outputs needs a comma-separated list of pprof, trace, json, all' "$IT_TMP/bad-list.err" ||
        soft_fail "--outputs '$list': no message naming the choices"
    [ ! -e "$IT_TMP/bad-list" ] || soft_fail "--outputs '$list': wrote output anyway"
done

step "bad inputs"
expect_error missing-dir "$IT_TMP/does-not-exist" 'does-not-exist|no such|not found|exist'

mkdir "$IT_TMP/empty"
expect_error empty-dir "$IT_TMP/empty"

mkdir "$IT_TMP/random"
for i in 1 2 3; do head -c $((4096 * i)) /dev/urandom >"$IT_TMP/random/file$i"; done
expect_error random-files "$IT_TMP/random"

mkdir "$IT_TMP/random-ctf"
head -c 8192 /dev/urandom >"$IT_TMP/random-ctf/metadata"
head -c 65536 /dev/urandom >"$IT_TMP/random-ctf/channel0_0"
expect_error random-metadata "$IT_TMP/random-ctf"

cp -r "$IT_TMP/good/ctf" "$IT_TMP/trunc-stream"
stream=$(find "$IT_TMP/trunc-stream" -type f ! -name metadata ! -path '*/index/*' \
         -printf '%s %p\n' | sort -rn | sed -n 1p | cut -d' ' -f2-)
[ -n "$stream" ] || fail "no data stream file in the recorded trace"
size=$(stat -c %s "$stream")
truncate -s $((size / 2 + 13)) "$stream"
echo "truncated $(basename "$stream") from $size to $((size / 2 + 13)) bytes"
expect_error truncated-stream "$IT_TMP/trunc-stream"

# LTTng writes metadata in 4 KiB packets: cut one inside a packet (babeltrace2 2.0.4 alone
# would loop forever there) and one at a packet boundary (incomplete TSDL).
cp -r "$IT_TMP/good/ctf" "$IT_TMP/trunc-meta"
m2=$(find "$IT_TMP/trunc-meta" -name metadata | sed -n 1p)
[ "$(stat -c %s "$m2")" -gt 4200 ] || fail "metadata of the good trace is unexpectedly small"
truncate -s 4196 "$m2"
expect_error truncated-metadata "$IT_TMP/trunc-meta" 'truncated|cut short'
cp -r "$IT_TMP/good/ctf" "$IT_TMP/trunc-meta-packet"
m3=$(find "$IT_TMP/trunc-meta-packet" -name metadata | sed -n 1p)
truncate -s 4096 "$m3"
expect_error truncated-metadata-boundary "$IT_TMP/trunc-meta-packet"

# An event class without a field ltprof needs (a tracer of another schema): the metadata's
# cpu_sample declares weight_xx instead of weight_ns, same size, so babeltrace2 still decodes
# every event and only the converter can object.
cp -r "$IT_TMP/good/ctf" "$IT_TMP/missing-field"
m4=$(find "$IT_TMP/missing-field" -name metadata | sed -n 1p)
python3 - "$m4" <<'PY' || fail "could not rename a field in the metadata"
import sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
at = data.index(b'name = "ltprof:cpu_sample";')
field = data.index(b'_weight_ns;', at)
data[field:field + 11] = b'_weight_xx;'
open(path, 'wb').write(data)
PY
run_limited 60 babeltrace2 "$IT_TMP/missing-field" >"$IT_TMP/missing-field.txt" 2>&1 ||
    fail "babeltrace2 cannot read the trace with the renamed field"
grep -q 'weight_xx = ' "$IT_TMP/missing-field.txt" ||
    fail "babeltrace2 does not show the renamed field"
expect_error missing-field "$IT_TMP/missing-field" 'cpu_sample has no field "weight_ns"'

step "a trace without ltprof events (liblttng-ust-libc-wrapper on /bin/ls)"
wrapper=$(find /usr/lib -name 'liblttng-ust-libc-wrapper.so*' 2>/dev/null | sed -n 1p)
[ -n "$wrapper" ] || fail "liblttng-ust-libc-wrapper.so not found"
new_session nolt "$IT_TMP/nolt"
s=$SESSION
lttng enable-event -u -s "$s" 'lttng_ust_libc:*' >/dev/null
lttng enable-event -u -s "$s" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$s" -t vpid -t vtid >/dev/null
run_tracked "$s" env LD_PRELOAD="$wrapper" ls / >/dev/null || fail "ls under the libc wrapper"
lttng destroy "$s" >/dev/null
trace_event_counts "$IT_TMP/nolt" | sed -n 1,5p
expect_error no-ltprof-events "$IT_TMP/nolt"

step "a trace with schema_version 999 (synth_trace)"
new_session schema "$IT_TMP/schema"
s=$SESSION
lttng enable-event -u -s "$s" 'ltprof:*' >/dev/null
lttng enable-event -u -s "$s" 'lttng_ust_statedump:*' >/dev/null
lttng add-context -u -s "$s" -t vpid -t vtid >/dev/null
run_tracked "$s" env -u LD_PRELOAD "$LTPROF_PROGRAMS/synth_trace" 999 || fail "synth_trace failed"
lttng destroy "$s" >/dev/null
trace_event_counts "$IT_TMP/schema"
run_limited 60 babeltrace2 "$IT_TMP/schema" 2>/dev/null | grep 'schema_version = 999' >/dev/null ||
    fail "the synth_trace trace holds no process_info with schema_version 999"
expect_error unknown-schema "$IT_TMP/schema" 'schema|version|999'

step "babeltrace2 with sink.ltprof.pprof on the unknown schema"
rc=0
mkdir -p "$IT_TMP/bt2-schema"
run_limited 60 babeltrace2 --plugin-path="$LTPROF_PLUGIN_DIR" convert "$IT_TMP/schema" \
    -c sink.ltprof.pprof -p "path=\"$IT_TMP/bt2-schema\"" >/dev/null 2>"$IT_TMP/bt2.err" || rc=$?
echo "babeltrace2 exit=$rc;" \
     "$(grep -ci 'schema' "$IT_TMP/bt2.err" || true) stderr lines mention the schema"
if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
    soft_fail "babeltrace2 sink on an unknown schema: exit $rc"
fi
it_finish
