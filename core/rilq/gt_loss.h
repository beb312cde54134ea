// RILQ's ground-truth term L_GT (aiha-lab/RILQ rilq_utils/utils.py get_gt_loss): next-token
// cross-entropy of the student on the calibration window itself, with no mask:
//   CE(logits[:, :-1].float(), ids[:, 1:]), averaged over all B * (T - 1) predicted tokens.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// logits (B, T, V) any float dtype, ids (B, T) int64 -> 0-dim fp32 tensor.
torch::Tensor next_token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& ids);

} // namespace rilq
