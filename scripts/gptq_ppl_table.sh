#!/usr/bin/env bash
# GPTQ next to RTN (issue "The methods researchers compare RILQ against"): the text file is cut
# into two halves at a line start (as the experiments' "range": [0, 0.5] / [0.5, 1] cut it), GPTQ
# calibrates on the first half and every model is evaluated on the second. Each quantized model
# is saved as an HF folder and reloaded by `rilq eval`. Prints a Markdown table (method x bits).
# Usage: bash scripts/gptq_ppl_table.sh MODEL TEXT_FILE [SEQLEN] [GROUP] [OUT]
#   e.g. bash scripts/gptq_ppl_table.sh ../shared/data/stories260K/stories260K.bin \
#          ../shared/data/tinystories/tinystories_val.txt 256 64
set -euo pipefail
model=$1
text=$2
seqlen=${3:-256}
group=${4:-64}
out=${5:-$(mktemp -d)}
rilq=${RILQ:-./build/app/rilq}
mkdir -p "$out"

# The first line start at or after byte floor(size / 2) (core/data slice_text's rule).
size=$(stat -c %s "$text")
# (awk alone: under pipefail a grep cut short by awk's exit would end the script silently)
cut=$(LC_ALL=C awk -v half=$((size / 2)) '{ if (pos >= half) { print pos; exit } pos += length($0) + 1 }' "$text")
head -c "$cut" "$text" > "$out/calib_half.txt"
tail -c +"$((cut + 1))" "$text" > "$out/eval_half.txt"

ppl() { "$rilq" eval "$1" --dataset "text=$out/eval_half.txt" --seqlen "$seqlen" --json 2>/dev/null |
        sed -n 's/^  "ppl": \([0-9.e+-]*\),$/\1/p'; }
row() { # label, then the quantize arguments
  local label=$1; shift
  local line="| $label |"
  for bits in 2 3 4; do
    local dir=$out/$(echo "$label" | tr -c 'a-zA-Z0-9' '_')-w$bits
    "$rilq" quantize "$model" --bits "$bits" --group "$group" --out "$dir" --stats "$dir.stats.json" --quiet "$@" \
      > "$dir.log" 2>&1
    line="$line $(printf '%.2f' "$(ppl "$dir")") |"
  done
  echo "$line"
}

printf 'FP: %.2f\n\n' "$(ppl "$model")"
printf '| method | W2 | W3 | W4 |\n|---|---|---|---|\n'
row "rtn (OmniQuant asym)" --method rtn
row "rtn (GPTQ grid)" --method rtn --variant gptq
calib=(--calib "text=$out/calib_half.txt" --calib-samples 128 --calib-seqlen 2048)
row "gptq" --method gptq "${calib[@]}"
row "gptq act-order" --method gptq --set gptq_act_order=true "${calib[@]}"
echo
echo "group $group; GPTQ calibration: 128 windows of min(2048, context) tokens from the first half;"
echo "PPL on the second half, seqlen $seqlen; models under $out"
