// The seven linear projections of a Llama decoder layer by their short names, in the order PEFT
// lists them for RILQ: the one list LoRA targets, quantization targets and the schema read.
#pragma once
#include <string>
#include <vector>

namespace rilq {

inline const std::vector<std::string>& projection_names() {
    static const std::vector<std::string> names = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                   "gate_proj", "up_proj", "down_proj"};
    return names;
}

} // namespace rilq
