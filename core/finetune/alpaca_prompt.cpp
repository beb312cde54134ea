#include "core/finetune/alpaca_prompt.h"

namespace rilq {

namespace {

// The two halves around {instruction} (and {input}) of each template.
constexpr std::string_view kInputHead =
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n";
constexpr std::string_view kInputMiddle = "\n\n### Input:\n";
constexpr std::string_view kNoInputHead = "Below is an instruction that describes a task. "
                                          "Write a response that appropriately completes the request.\n\n"
                                          "### Instruction:\n";
constexpr std::string_view kResponse = "\n\n### Response: ";

} // namespace

AlpacaTemplate alpaca_template_of(const AlpacaRecord& record) {
    return record.input.empty() ? AlpacaTemplate::NoInput : AlpacaTemplate::Input;
}

std::string alpaca_prompt(const AlpacaRecord& record) {
    std::string p;
    if (alpaca_template_of(record) == AlpacaTemplate::Input) {
        p.reserve(kInputHead.size() + record.instruction.size() + kInputMiddle.size() + record.input.size() +
                  kResponse.size());
        p.append(kInputHead).append(record.instruction).append(kInputMiddle).append(record.input);
    } else {
        p.reserve(kNoInputHead.size() + record.instruction.size() + kResponse.size());
        p.append(kNoInputHead).append(record.instruction);
    }
    p.append(kResponse);
    return p;
}

int64_t code_point_count(std::string_view utf8_text) {
    int64_t n = 0;
    for (const char c : utf8_text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n; // every byte but continuation bytes
    return n;
}

int64_t alpaca_length_chars(const AlpacaRecord& record) {
    return code_point_count(alpaca_prompt(record)) + code_point_count(record.output);
}

} // namespace rilq
