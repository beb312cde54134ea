#include "core/rilq/gt_loss.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

torch::Tensor next_token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& ids) {
    if (logits.dim() != 3 || ids.dim() != 2 || logits.size(0) != ids.size(0) || logits.size(1) != ids.size(1))
        throw Error("ground-truth loss: logits " + std::string(c10::str(logits.sizes())) + " do not match token ids " +
                    std::string(c10::str(ids.sizes())) + " (expected (B, T, V) and (B, T))");
    if (ids.size(1) < 2) throw Error("ground-truth loss needs windows of at least 2 tokens");
    using torch::indexing::Slice;
    const int64_t V = logits.size(2);
    auto shifted = logits.index({Slice(), Slice(0, -1), Slice()}).to(torch::kFloat32).reshape({-1, V}); // (B*(T-1), V)
    auto labels = ids.index({Slice(), Slice(1, torch::indexing::None)}).to(logits.device(), torch::kLong).reshape({-1});
    return torch::cross_entropy_loss(shifted, labels);
}

} // namespace rilq
