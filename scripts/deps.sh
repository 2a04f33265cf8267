#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages ltprof needs to build, run and test (Debian 12).
# As root: installs whatever is missing with apt-get. Otherwise: prints the exact apt-get line
# and fails when something is missing. Usage: scripts/deps.sh
set -euo pipefail

packages=(
  build-essential cmake pkg-config                 # toolchain
  lttng-tools liblttng-ust-dev liblttng-ctl-dev   # recording
  babeltrace2 libbabeltrace2-dev                   # trace processing
  libprotobuf-c-dev protobuf-c-compiler zlib1g-dev # pprof files
  libdw-dev libelf-dev libc6-dbg                   # symbolization (elfutils; libc debug info)
  libmicrohttpd-dev                                # in-process HTTP server
  golang-go                                        # go tool pprof, for tests and for users
  python3 python3-bt2 procps time binutils curl    # test scripts (curl: the HTTP tests, the demo)
  libjemalloc2                                     # tests: another malloc preloaded with ours
  heaptrack                                        # benchmarks: a peer heap profiler
  libgoogle-perftools4 linux-perf                  # benchmarks: peer CPU profilers (gperftools, perf)
  chromium nodejs                                  # viewer tests: headless Chromium, driven from Node.js
  cppcheck clang-tidy                              # static analysis (scripts/lint.sh)
  clang libclang-rt-14-dev                         # fuzzing: libFuzzer (scripts/fuzz.sh)
  libasan8 libubsan1 libtsan2                      # sanitizer runtimes (build-asan/, build-tsan/)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with some builds of nodejs (NodeSource's) and is a package of its own in Debian's.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "ltprof: missing Debian packages; install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "ltprof: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
