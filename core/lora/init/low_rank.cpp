#include "core/lora/init/low_rank.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

LowRankFactors factors_from_svd(const torch::Tensor& U, const torch::Tensor& S, const torch::Tensor& Vh,
                                int64_t rank, double scale) {
    if (rank < 1) throw Error("low-rank factors: rank must be >= 1, found " + std::to_string(rank));
    if (!(scale > 0.0))
        throw Error("low-rank factors: the LoRA scale must be > 0, found " + std::to_string(scale));
    const int64_t k = std::min<int64_t>(rank, S.size(0));
    const auto root = torch::sqrt(S.slice(0, 0, k) / scale); // (k)
    LowRankFactors f;
    f.A = torch::zeros({rank, Vh.size(1)}, torch::kFloat32);
    f.B = torch::zeros({U.size(0), rank}, torch::kFloat32);
    f.A.slice(0, 0, k).copy_(root.unsqueeze(1) * Vh.slice(0, 0, k));
    f.B.slice(1, 0, k).copy_(U.slice(1, 0, k) * root.unsqueeze(0));
    return f;
}

LowRankFactors svd_factors(const torch::Tensor& M, int64_t rank, double scale) {
    const auto [U, S, Vh] = torch::linalg_svd(M.to(torch::kFloat32), /*full_matrices=*/false);
    return factors_from_svd(U, S, Vh, rank, scale);
}

torch::Tensor low_rank_product(const LowRankFactors& f, double scale) {
    return f.B.matmul(f.A) * scale;
}

} // namespace rilq
