// RILQ's ground-truth term L_GT (aiha-lab/RILQ rilq_utils/utils.py get_gt_loss): next-token
// cross-entropy of the student on the calibration window itself, with no mask:
//   CE(logits[:, :-1].float(), ids[:, 1:]), averaged over all B * (T - 1) predicted tokens.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// logits (B, T, V) any float dtype, ids (B, T) int64 -> 0-dim fp32 tensor.
torch::Tensor next_token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& ids);

// The same loss of head(hidden) from the student's final hidden state (B, T, C) and a frozen head
// (V, C), without ever holding the (B * (T - 1), V) logits: `chunk_rows` predicted positions at a
// time go through the head (its GEMM, then fp32) in the forward, and again in the backward, which
// returns the hidden state's gradient only. With Llama-3's 128k vocabulary a 512-token window's
// logits and their gradient are about 1 GB in fp32; the chunks need ~32 MiB. chunk_rows 0 = that
// size. Equals next_token_cross_entropy(head(hidden), ids) up to the order of the mean's sum.
torch::Tensor next_token_cross_entropy_from_hidden(const torch::Tensor& hidden, const torch::Tensor& head,
                                                   const torch::Tensor& ids, int64_t chunk_rows = 0);

} // namespace rilq
