#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what the viewer's browser tests run with: playwright-core, at the version pinned in
# tests/viewer/package-lock.json, from the npm registry into tests/viewer/node_modules (no
# browser download: the tests drive Debian's /usr/bin/chromium). Needs Node.js and npm
# (scripts/deps.sh installs them). Usage: scripts/viewer_test_deps.sh
set -euo pipefail
dir=$(cd "$(dirname "$0")/../tests/viewer" && pwd)
want=$(sed -n 's/.*"playwright-core": "\([0-9.]*\)".*/\1/p' "$dir/package.json")
have=$(sed -n 's/.*"version": "\([0-9.]*\)".*/\1/p' "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
[ -n "$want" ] && [ "$have" = "$want" ] && exit 0
echo "ltprof: installing playwright-core $want for the viewer tests (npm ci in tests/viewer)"
cd "$dir"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
