#include "core/run/sample_comparison.h"

#include <filesystem>
#include <limits>

#include "core/eval/generate.h"
#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace rilq::run {

namespace {

double mean_compensated_ppl(const RunOutcome& outcome) {
    double sum = 0.0;
    int n = 0;
    for (const auto& e : outcome.evals)
        if (e.stage == "compensated") sum += e.ppl, ++n;
    return n > 0 ? sum / n : std::numeric_limits<double>::infinity();
}

std::string continue_text(const LlamaModel& model, const Tokenizer& tokenizer, const std::string& prompt,
                          int64_t max_new_tokens) {
    GenerateOptions options;
    options.max_new_tokens = max_new_tokens;
    return tokenizer.decode(generate(model, tokenizer.encode(prompt, true), options));
}

} // namespace

std::vector<SampleText> compare_samples(const std::string& fp_model_path, const std::vector<RunOutcome>& outcomes,
                                        const std::string& prompt, int64_t max_new_tokens) {
    const RunOutcome* any = nullptr;
    const RunOutcome* best = nullptr;
    for (const auto& o : outcomes) {
        if (o.output_dir.empty() || !fs::exists(fs::path(o.output_dir) / "quantized")) continue;
        if (any == nullptr) any = &o;
        const bool finished_with_adapter =
            o.status == store::RunStatus::Finished && fs::exists(fs::path(o.output_dir) / "adapter");
        if (finished_with_adapter && (best == nullptr || mean_compensated_ppl(o) < mean_compensated_ppl(*best)))
            best = &o;
    }
    if (any == nullptr) throw Error("no run saved its outputs: nothing to generate samples from");
    const std::string quantized_dir = (fs::path(any->output_dir) / "quantized").string();
    const auto tokenizer = find_tokenizer(quantized_dir);

    std::vector<SampleText> samples;
    samples.push_back({"FP", continue_text(load_model(fp_model_path), *tokenizer, prompt, max_new_tokens)});
    samples.push_back({"Quantized, no compensation",
                       continue_text(load_model(quantized_dir), *tokenizer, prompt, max_new_tokens)});
    if (best != nullptr) {
        LlamaModel compensated = load_model((fs::path(best->output_dir) / "quantized").string());
        load_peft_adapter((fs::path(best->output_dir) / "adapter").string(), compensated);
        samples.push_back({"RILQ (" + best->name + ")", continue_text(compensated, *tokenizer, prompt, max_new_tokens)});
    }
    return samples;
}

std::string format_samples(const std::vector<SampleText>& samples) {
    std::string out;
    for (const auto& s : samples) out += "### " + s.label + "\n" + s.text + "\n\n";
    return out;
}

} // namespace rilq::run
