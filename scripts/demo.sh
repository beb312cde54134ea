#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job.
# Until the GUI demo lands, the main job is the CLI on a real small model (stories260K from
# ../shared/data): model summary, greedy story, perplexity on TinyStories.
# Usage: bash scripts/demo.sh [--headless]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
rilq=./build/app/rilq
data=${RILQ_SHARED_DATA:-../shared/data}
model=$data/stories260K/stories260K.bin
if [ ! -f "$model" ]; then
  echo "demo: $model not found; point RILQ_SHARED_DATA at the shared data folder" >&2
  exit 1
fi
$rilq info "$model"
echo
echo "== greedy story from BOS"
$rilq generate "$model" --max-new-tokens 120
echo
echo "== perplexity on TinyStories validation text, seqlen 256"
$rilq eval "$model" --dataset text="$data/tinystories/tinystories_val.txt" --seqlen 256
