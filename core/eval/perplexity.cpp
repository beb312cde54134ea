#include "core/eval/perplexity.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

namespace rilq {

torch::Tensor window_mean_nll(const torch::Tensor& logits, const torch::Tensor& ids) {
    const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
    // Position t predicts token t+1: drop the last logit and the first id.
    auto shift_logits = logits.narrow(1, 0, T - 1).to(torch::kFloat32).reshape({B * (T - 1), V});
    auto shift_ids = ids.narrow(1, 1, T - 1).to(logits.device(), torch::kInt64).reshape({B * (T - 1)});
    auto nll = torch::nn::functional::cross_entropy(
        shift_logits, shift_ids, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    return nll.view({B, T - 1}).mean(1);                                   // (B)
}

PerplexityResult evaluate_perplexity(const LlamaModel& model, const torch::Tensor& windows,
                                     const ProgressSink& progress, int64_t batch_size) {
    if (windows.dim() != 2 || windows.size(0) == 0)
        throw Error("perplexity: expected a non-empty (N, T) tensor of windows");
    if (windows.size(1) < 2) throw Error("perplexity: windows need at least 2 tokens");
    if (batch_size < 1) batch_size = 1;
    torch::NoGradGuard no_grad;

    const int64_t N = windows.size(0), T = windows.size(1);
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

    double nll_sum = 0.0;   // sum over windows of each window's mean NLL (double: no drift over many windows)
    for (int64_t first = 0; first < N; first += batch_size) {
        progress.check_cancel();
        const int64_t b = std::min(batch_size, N - first);
        auto ids = windows.narrow(0, first, b);
        ForwardOptions opts;
        auto logits = model.forward(ids, opts).logits;                       // (b, T, V)
        nll_sum += window_mean_nll(logits, ids).to(torch::kFloat64).sum().item<double>();

        const double t = elapsed();
        const int64_t done = (first + b) * T;
        progress.report({"perplexity", done, N * T, "tokens", t, t / static_cast<double>(done) * static_cast<double>(N * T - done)});
    }

    return perplexity_result(nll_sum, N, T, elapsed());
}

PerplexityResult perplexity_result(double nll_sum, int64_t windows, int64_t seqlen, double seconds) {
    PerplexityResult r;
    r.n_windows = windows;
    r.seqlen = seqlen;
    r.n_tokens = windows * seqlen;
    r.n_predicted = windows * (seqlen - 1);
    r.mean_nll = nll_sum / static_cast<double>(windows);
    r.ppl = std::exp(r.mean_nll);
    r.seconds = seconds;
    r.tokens_per_s = r.seconds > 0 ? static_cast<double>(r.n_tokens) / r.seconds : 0.0;
    return r;
}

} // namespace rilq
