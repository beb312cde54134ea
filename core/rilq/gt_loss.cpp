#include "core/rilq/gt_loss.h"

#include "core/model/row_parallel_mm.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

namespace {

// `what` names the scores (B, T, `last_dim`) in the error.
void check_windows(const torch::Tensor& scores, const torch::Tensor& ids, const char* what,
                   const char* last_dim) {
    if (scores.dim() != 3 || ids.dim() != 2 || scores.size(0) != ids.size(0) || scores.size(1) != ids.size(1))
        throw Error(std::string("ground-truth loss: ") + what + " " + std::string(c10::str(scores.sizes())) +
                    " do not match token ids " + std::string(c10::str(ids.sizes())) + " (expected (B, T, " +
                    last_dim + ") and (B, T))");
    if (ids.size(1) < 2) throw Error("ground-truth loss needs windows of at least 2 tokens");
}

// Mean next-token CE over chunks of rows: the logits of a chunk live only inside the loop.
class ChunkedHeadCrossEntropy : public torch::autograd::Function<ChunkedHeadCrossEntropy> {
  public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                                 const torch::Tensor& head, const torch::Tensor& ids, int64_t chunk_rows) {
        const int64_t B = hidden.size(0), T = hidden.size(1), C = hidden.size(2), N = B * (T - 1);
        const auto rows = hidden.narrow(1, 0, T - 1).reshape({N, C});
        const auto labels = ids.narrow(1, 1, T - 1).to(hidden.device(), torch::kLong).reshape({N, 1});
        auto lse = torch::empty({N}, hidden.options().dtype(torch::kFloat32));
        auto total = torch::zeros({}, lse.options());
        for (int64_t r0 = 0; r0 < N; r0 += chunk_rows) {
            const int64_t n = std::min(chunk_rows, N - r0);
            const auto logits =
                row_parallel_linear(rows.narrow(0, r0, n), head).to(torch::kFloat32); // (n, V)
            const auto chunk_lse = torch::logsumexp(logits, 1);
            lse.narrow(0, r0, n).copy_(chunk_lse);
            total += (chunk_lse - logits.gather(1, labels.narrow(0, r0, n)).squeeze(1)).sum();
        }
        ctx->saved_data["rows"] = rows;
        ctx->saved_data["head"] = head;
        ctx->saved_data["labels"] = labels;
        ctx->saved_data["lse"] = lse;
        ctx->saved_data["chunk_rows"] = chunk_rows;
        ctx->saved_data["shape"] = std::vector<int64_t>{B, T, C};
        return total / static_cast<double>(N);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto rows = ctx->saved_data["rows"].toTensor();
        const auto head = ctx->saved_data["head"].toTensor();
        const auto labels = ctx->saved_data["labels"].toTensor();
        const auto lse = ctx->saved_data["lse"].toTensor();
        const int64_t chunk_rows = ctx->saved_data["chunk_rows"].toInt();
        const auto shape = ctx->saved_data["shape"].toIntVector();
        const int64_t N = rows.size(0);
        // d mean(CE) / d logits = (softmax - onehot(label)) / N, times the incoming gradient.
        const auto scale = grads[0].to(torch::kFloat32) / static_cast<double>(N);
        auto grad_hidden = torch::zeros(shape, rows.options());
        auto grad_rows = grad_hidden.narrow(1, 0, shape[1] - 1);
        auto grad_flat = torch::empty({N, shape[2]}, rows.options());
        for (int64_t r0 = 0; r0 < N; r0 += chunk_rows) {
            const int64_t n = std::min(chunk_rows, N - r0);
            const auto logits = row_parallel_linear(rows.narrow(0, r0, n), head).to(torch::kFloat32);
            auto p = (logits - lse.narrow(0, r0, n).unsqueeze(1)).exp_();
            const auto label = labels.narrow(0, r0, n);
            p.scatter_(1, label, p.gather(1, label) - 1.0);
            p.mul_(scale);
            // The logits' gradient in their dtype, as the cast back from fp32 gives it, through the head.
            grad_flat.narrow(0, r0, n).copy_(row_parallel_mm(p.to(head.scalar_type()), head));
        }
        grad_rows.copy_(grad_flat.view({shape[0], shape[1] - 1, shape[2]}));
        return {grad_hidden, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

torch::Tensor next_token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& ids) {
    check_windows(logits, ids, "logits", "V");
    using torch::indexing::Slice;
    const int64_t V = logits.size(2);
    auto shifted =
        logits.index({Slice(), Slice(0, -1), Slice()}).to(torch::kFloat32).reshape({-1, V}); // (B*(T-1), V)
    auto labels =
        ids.index({Slice(), Slice(1, torch::indexing::None)}).to(logits.device(), torch::kLong).reshape({-1});
    return torch::cross_entropy_loss(shifted, labels);
}

torch::Tensor next_token_cross_entropy_from_hidden(const torch::Tensor& hidden, const torch::Tensor& head,
                                                   const torch::Tensor& ids, int64_t chunk_rows) {
    check_windows(hidden, ids, "hidden states", "C");
    if (head.dim() != 2 || head.size(1) != hidden.size(2))
        throw Error("ground-truth loss: head " + std::string(c10::str(head.sizes())) +
                    " does not match hidden states " + std::string(c10::str(hidden.sizes())) +
                    " (expected (V, C))");
    if (head.requires_grad()) throw Error("ground-truth loss from hidden states: the head must be frozen");
    if (chunk_rows <= 0) chunk_rows = std::max<int64_t>(1, (int64_t{32} << 20) / (4 * head.size(0)));
    return ChunkedHeadCrossEntropy::apply(hidden, head, ids, chunk_rows);
}

} // namespace rilq
