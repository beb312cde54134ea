// Perplexity the way the quantization papers measure it (GPTQ / OmniQuant protocol):
// non-overlapping windows of seqlen tokens, PPL = exp(mean over windows of the window's
// mean next-token cross-entropy). Equal-length windows make this equal to exp(total NLL /
// predicted tokens), which is what GPTQ's `exp(sum(nll * seqlen) / (n * seqlen))` computes.
#pragma once
#include <cstdint>

#include "core/util/tensor.h"

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

struct PerplexityResult {
    double ppl = 0.0;
    double mean_nll = 0.0;          // nats per predicted token
    int64_t n_windows = 0;
    int64_t seqlen = 0;
    int64_t n_tokens = 0;           // tokens fed (n_windows * seqlen)
    int64_t n_predicted = 0;        // tokens scored (n_windows * (seqlen - 1))
    double seconds = 0.0;
    double tokens_per_s = 0.0;      // n_tokens / seconds
};

// windows: (N, T) int64. batch_size windows per forward. Reports progress in tokens and
// honours the cancel flag between batches (throws rilq::Cancelled).
PerplexityResult evaluate_perplexity(const LlamaModel& model, const torch::Tensor& windows,
                                     const ProgressSink& progress = {}, int64_t batch_size = 1);

// The result of N windows of T tokens whose mean NLLs sum to nll_sum (what evaluate_perplexity
// and the layer-streamed FP perplexity, core/run/streamed_preparation.h, report).
PerplexityResult perplexity_result(double nll_sum, int64_t windows, int64_t seqlen, double seconds);

// Mean next-token cross-entropy (fp32) of each window: logits (B, T, V), ids (B, T) -> (B).
torch::Tensor window_mean_nll(const torch::Tensor& logits, const torch::Tensor& ids);

} // namespace rilq
