#include "core/lora/init/loftq.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

LoftqResult loftq(const torch::Tensor& weight, const WeightQuantizer& quantize, int64_t rank, double scale,
                  int iterations) {
    if (iterations < 1) throw Error("LoftQ: iterations must be >= 1, found " + std::to_string(iterations));
    if (!weight.defined() || weight.dim() != 2)
        throw Error("LoftQ: the weight must be a 2-D (out, in) tensor");
    torch::NoGradGuard no_grad;
    const auto W = weight.detach().to(torch::kFloat32).contiguous(); // (O, I)
    const double w_norm = W.norm().item<double>();
    LoftqResult result;
    auto residual = W; // what the next quantization sees
    for (int t = 0; t < iterations; ++t) {
        result.base = quantize(residual).to(torch::kFloat32);
        result.factors = svd_factors(W - result.base, rank, scale);
        const auto approx = low_rank_product(result.factors, scale); // s B A
        residual = W - approx;
        const double err = (residual - result.base).norm().item<double>();
        result.error_norms.push_back(w_norm > 0.0 ? err / w_norm : err);
    }
    return result;
}

} // namespace rilq
