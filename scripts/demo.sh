#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: the workbench GUI with the built-in
# demo experiment loaded and started (experiments/demo.json: a small Llama pretrained on
# Debian's fortunes on first use, broken by 2-bit RTN, repaired by RILQ at ranks 0-16).
# With --headless (or when there is no display) the same experiment runs in the terminal and
# prints the results table and generated text from the FP, 2-bit and RILQ models.
# Usage: bash scripts/demo.sh [--headless]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
workbench=./build/app/rilq-workbench
if [ "${1:-}" = "--headless" ]; then
  exec "$workbench" --headless experiments/demo.json
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "demo: no display found, running headless (xvfb-run $workbench shows the window off-screen)" >&2
  exec "$workbench" --headless experiments/demo.json
fi
exec "$workbench" --run-demo
