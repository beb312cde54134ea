#!/usr/bin/env bash
# Perplexity of a model fake-quantized by every method at 2, 3 and 4 bits (issue "Quantization
# lab"): each quantized model is saved as an HF folder, reloaded and evaluated by `rilq eval`.
# Prints a Markdown table (method x bits) and keeps the models under OUT.
# Usage: bash scripts/quant_ppl_table.sh MODEL TEXT_FILE [SEQLEN] [OUT]
#   e.g. bash scripts/quant_ppl_table.sh ../shared/data/stories260K/stories260K.bin \
#          ../shared/data/tinystories/tinystories_val.txt 256
set -euo pipefail
model=$1
text=$2
seqlen=${3:-256}
out=${4:-$(mktemp -d)}
rilq=${RILQ:-./build/app/rilq}
ppl() { "$rilq" eval "$1" --dataset "text=$text" --seqlen "$seqlen" --json 2>/dev/null |
        sed -n 's/^  "ppl": \([0-9.e+-]*\),$/\1/p'; }
printf 'FP: %.4f\n\n' "$(ppl "$model")"
printf '| method | 2 bits | 3 bits | 4 bits |\n|---|---|---|---|\n'
for method in rtn nf icq-nf icq-int; do
  row="| $method |"
  for bits in 2 3 4; do
    dir=$out/$method-w$bits
    "$rilq" quantize "$model" --method "$method" --bits "$bits" --group 64 --out "$dir" \
      --stats "$dir.stats.json" > /dev/null 2>&1
    row="$row $(printf '%.3f' "$(ppl "$dir")") |"
  done
  echo "$row"
done
echo
echo "models and stats under $out; PPL on $text, seqlen $seqlen, group/block 64"
