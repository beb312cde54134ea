// IR-QLoRA's Alpaca prompt, byte for byte (htqin/IR-QLoRA irlora.py ALPACA_PROMPT_DICT and
// extract_alpaca_dataset, l. 534-552; shared/data/mmlu/PROTOCOL.md section 2). Note the space
// after "### Response:", which Stanford Alpaca's own train.py does not have.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/finetune/alpaca_data.h"

namespace rilq {

enum class AlpacaTemplate {
    Input,   // "prompt_input": the record's input is not "" (whitespace only counts as input)
    NoInput, // "prompt_no_input"
};

AlpacaTemplate alpaca_template_of(const AlpacaRecord& record);
// The formatted prompt (the `input` column irlora.py trains on); instruction and input verbatim.
std::string alpaca_prompt(const AlpacaRecord& record);

// group_by_length's length: len(prompt) + len(output) in Python characters, i.e. Unicode code
// points of the formatted strings, not tokens (irlora.py l. 668-675).
int64_t alpaca_length_chars(const AlpacaRecord& record);
// len() of a Python str holding this valid UTF-8 text.
int64_t code_point_count(std::string_view utf8_text);

} // namespace rilq
