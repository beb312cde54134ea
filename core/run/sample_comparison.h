// Greedy continuations of one prompt by the FP model, the quantized model and the best
// compensated model of a sweep, side by side: what compensation does, in words. Read from
// the runs' saved outputs (quantized/ and adapter/), so it shows what was really saved.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/run/runner.h"

namespace rilq::run {

struct SampleText {
    std::string label; // "FP", "2-bit (no compensation)", "RILQ r=16"
    std::string text;  // prompt + continuation
};

// The best compensated run is the finished one with the lowest mean compensated PPL. Error when
// no outcome has saved outputs.
std::vector<SampleText> compare_samples(const std::string& fp_model_path, const std::vector<RunOutcome>& outcomes,
                                        const std::string& prompt, int64_t max_new_tokens = 48);

// "### FP\n<text>\n\n### ..." for terminals and the README.
std::string format_samples(const std::vector<SampleText>& samples);

} // namespace rilq::run
