#!/usr/bin/env bash
# Configures and builds RILQ Workbench (Release) into ./build and prints how long it took.
#   bash scripts/build.sh          unity build: the fastest clean build (CI, a fresh machine)
#   bash scripts/build.sh --dev    into ./build-dev, one unit per file with a torch precompiled
#                                  header: the fastest rebuild after editing a torch file
# Uses ccache when present (shared by every checkout). `bash scripts/build-stats.sh [DIR]`
# lists the slowest compile jobs of the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
unity=ON
if [ "${1:-}" = "--dev" ]; then
  dir=build-dev
  unity=OFF
fi
start=$(date +%s)
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=$unity >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "build: $dir built in $(( $(date +%s) - start )) s (unity $unity, $(nproc) jobs)"
