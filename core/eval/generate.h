// Autoregressive decoding: greedy (temperature 0) or temperature sampling with a seed.
// No KV cache: each step re-runs the window, which is fine for the small models the
// workbench generates with (demo samples, checks) and keeps the model code single-path.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

struct GenerateOptions {
    int64_t max_new_tokens = 64;
    double temperature = 0.0;     // 0 = greedy (argmax)
    uint64_t seed = 0;
    bool stop_at_eos = true;
};

// Returns prompt + generated ids. `on_token` (optional) sees each new id as it comes.
std::vector<int64_t> generate(const LlamaModel& model, const std::vector<int64_t>& prompt, const GenerateOptions& options,
                              const std::function<void(int64_t)>& on_token = {}, const ProgressSink& progress = {});

} // namespace rilq
