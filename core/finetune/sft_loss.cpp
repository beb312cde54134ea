#include "core/finetune/sft_loss.h"

#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

torch::Tensor pad_class_row(const LlamaModel& model) {
    torch::NoGradGuard no_grad;
    return model.lm_head_weight().to(torch::kFloat32).mean(0); // (C)
}

torch::Tensor sft_loss(const LlamaModel& model, const SftBatch& batch, const torch::Tensor& pad_row,
                       bool checkpoint_layers) {
    const int64_t width = batch.input_ids.size(1);
    if (width < 2)
        throw Error("sft_loss: examples need at least 2 tokens, found a batch of width " +
                    std::to_string(width));
    ForwardOptions options;
    options.want_logits = false;
    options.want_hidden = true;
    options.checkpoint_layers = checkpoint_layers;
    const auto hidden = model.forward(batch.input_ids, options).hidden; // (B, L, C)
    // Position t predicts the token at t + 1.
    const auto labels = batch.labels.slice(1, 1, width);        // (B, L-1)
    const auto keep = labels.ne(kIgnoreIndex);                  // (B, L-1)
    const auto h = hidden.slice(1, 0, width - 1).index({keep}); // (N, C)
    const auto targets = labels.index({keep});                  // (N)
    if (targets.numel() == 0) throw Error("sft_loss: the batch has no labelled token");
    const auto logits = model.lm_head_forward(h).to(torch::kFloat32); // (N, V)
    auto lse = torch::logsumexp(logits, -1);                          // (N)
    if (pad_row.defined()) lse = torch::logaddexp(lse, h.to(torch::kFloat32).matmul(pad_row));
    const auto picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1); // (N)
    return (lse - picked).mean();
}

} // namespace rilq
