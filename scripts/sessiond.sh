#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes sure an LTTng session daemon runs (starts `lttng-sessiond --daemonize --no-kernel` when
# `lttng list` finds none). Used by the demo and the tests; `ltprof record` does the same itself.
set -euo pipefail
if ! lttng list >/dev/null 2>&1; then
  echo "ltprof: starting lttng-sessiond"
  lttng-sessiond --daemonize --no-kernel
fi
