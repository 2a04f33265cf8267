#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static analysis of every C file the build compiles (build/compile_commands.json): cppcheck
# (warnings, performance, portability; suppressions explained in scripts/cppcheck.supp) and
# clang-tidy (the checks of .clang-tidy). Prints the findings and fails when there are any.
# Usage: scripts/lint.sh [BUILD_DIR]   (configures it with compile_commands.json if needed)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
cd "$top"
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S "$top" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
# The generated protobuf code and the viewer's embedded arrays are not ours to lint.
mapfile -t files < <(python3 - "$build/compile_commands.json" "$top" <<'PY'
import json, sys
top = sys.argv[2]
seen = sorted({e['file'] for e in json.load(open(sys.argv[1]))
               if e['file'].startswith(top + '/') and '/gen/' not in e['file']
               and not e['file'].startswith(top + '/build')})
print('\n'.join(seen))
PY
)
echo "lint: ${#files[@]} C files"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== cppcheck $(cppcheck --version | cut -d' ' -f2)"
cppcheck --project="$build/compile_commands.json" --enable=warning,performance,portability \
    --inline-suppr --suppressions-list="$top/scripts/cppcheck.supp" --quiet -j"$(nproc)" \
    --error-exitcode=0 --template='{file}:{line}: {severity}: {message} [{id}]' \
    -i"$build" 2>"$out/cppcheck" || true
grep -v "^$build" "$out/cppcheck" >"$out/cppcheck.ours" || true
cat "$out/cppcheck.ours"
n_cpp=$(grep -c ': ' "$out/cppcheck.ours" || true)

echo "== clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
printf '%s\n' "${files[@]}" | xargs -P"$(nproc)" -n4 clang-tidy -p "$build" --quiet \
    >"$out/tidy" 2>/dev/null || true
grep -E '^/.*(warning|error):' "$out/tidy" | sort -u >"$out/tidy.ours" || true
cat "$out/tidy.ours"
n_tidy=$(wc -l <"$out/tidy.ours")

echo "lint: $n_cpp cppcheck finding(s), $n_tidy clang-tidy finding(s)"
[ "$n_cpp" -eq 0 ] && [ "$n_tidy" -eq 0 ]
