#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# newer_go: the record_c_nofp and record_cpp assertions with a current Go's pprof (1.24, from
# shared/tools/newer-go.sh beside the clone). Skipped (exit 77) when that Go is unavailable.
source "$(dirname "$0")/lib.sh"

script=${LTPROF_NEWER_GO_SCRIPT:-$LTPROF_SOURCE_DIR/../shared/tools/newer-go.sh}
if [ ! -x "$script" ]; then
    echo "SKIP: $script not found (newer Go unavailable)"
    exit 77
fi
step "$script"
newgo=$(run_limited 600 "$script") || { echo "SKIP: $script failed"; exit 77; }
[ -x "$newgo" ] || { echo "SKIP: $script printed no go binary ($newgo)"; exit 77; }
echo "using $("$newgo" version)"

require_built
ensure_sessiond
ltprof_record "$IT_TMP/c" "$LTPROF_PROGRAMS/stacks_nofp"
check_stacks_profile "$newgo" "$IT_TMP/c/cpu.pb.gz" stacks_nofp c
ltprof_record "$IT_TMP/cpp" "$LTPROF_PROGRAMS/stacks_cpp"
check_stacks_profile "$newgo" "$IT_TMP/cpp/cpu.pb.gz" stacks_cpp cpp
it_finish
