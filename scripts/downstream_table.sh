#!/usr/bin/env bash
# Downstream accuracy of the FP, RTN 2-bit and RILQ r16 models (issue "Downstream accuracy"): runs
# experiments/stories260k-downstream.json, then the built-in demo experiment with the same rank,
# stages and tasks (its model is pretrained into the demo cache on first use), into one store, and
# prints per model and stage the MMLU table (four categories + all questions), the zero-shot
# accuracies (acc and acc_norm, with their average) and the perplexity.
# Usage: bash scripts/downstream_table.sh [DB] [SHARED_DATA]
#   e.g. bash scripts/downstream_table.sh /tmp/downstream.sqlite ../shared/data
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-$(mktemp -d)/downstream.sqlite}
data=$(realpath "${2:-../shared/data}")
rilq=${RILQ:-./build/app/rilq}

"$rilq" run experiments/stories260k-downstream.json --db "$db" --no-outputs --quiet
# The demo experiment's data root is the demo cache: the task data are given by absolute path.
tasks="{\"mmlu\":{\"path\":\"$data/mmlu\",\"shots\":5},\"arc_easy\":{\"path\":\"$data/tasks/arc\"},"
tasks+="\"arc_challenge\":{\"path\":\"$data/tasks/arc\"},\"piqa\":{\"path\":\"$data/tasks/piqa\"}}"
"$rilq" run experiments/demo.json --db "$db" --no-outputs --quiet --set name=demo-downstream \
  --set rilq.lora_r=16 --set 'eval.stages=["fp","quantized","compensated"]' --set "eval.tasks=$tasks"

for experiment in stories260k-downstream demo-downstream; do
  for stage in fp quantized compensated; do
    echo "## $experiment, stage $stage"
    for metric in mmlu acc acc_norm ppl; do
      "$rilq" export --db "$db" --experiment "$experiment" --stage "$stage" --metric "$metric"
      echo
    done
  done
done
echo "store: $db"
