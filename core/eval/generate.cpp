#include "core/eval/generate.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

std::vector<int64_t> generate(const LlamaModel& model, const std::vector<int64_t>& prompt, const GenerateOptions& options,
                              const std::function<void(int64_t)>& on_token, const ProgressSink& progress) {
    if (prompt.empty()) throw Error("generate: the prompt has no tokens (add BOS)");
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator(options.seed);
    const int64_t context = model.config().max_position_embeddings;
    std::vector<int64_t> ids = prompt;
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
        progress.check_cancel();
        // Keep the most recent `context` tokens when the sequence outgrows the model.
        const int64_t begin = std::max<int64_t>(0, static_cast<int64_t>(ids.size()) - context);
        auto window = torch::tensor(std::vector<int64_t>(ids.begin() + begin, ids.end()), torch::kInt64).unsqueeze(0);
        auto last = model.forward(window).logits.select(1, -1).squeeze(0).to(torch::kFloat32);  // (V)
        int64_t next = 0;
        if (options.temperature <= 0.0) {
            next = last.argmax().item<int64_t>();
        } else {
            auto probs = torch::softmax(last / options.temperature, -1);
            next = torch::multinomial(probs, 1, /*replacement=*/false, gen).item<int64_t>();
        }
        ids.push_back(next);
        if (on_token) on_token(next);
        progress.report({"generate", step + 1, options.max_new_tokens, "tokens", 0.0, -1.0});
        if (options.stop_at_eos && next == model.config().eos_token_id) break;
    }
    return ids;
}

} // namespace rilq
