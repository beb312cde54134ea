// A micro-batch of SFT examples as DataCollatorForCausalLM pads it (irlora.py l. 497-512): each
// row is source + target, right-padded to the longest row of the batch; labels are -100 on the
// source and on the padding.
//
// irlora.py pads with the [PAD] id it adds and passes attention_mask = ids != pad. With right
// padding and causal attention no real position ever attends to a padded one, so the logits of
// every labelled position are the same whatever fills the padding: the batch is padded with
// `pad_id` (a valid id of the model) and needs no mask.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/finetune/sft_example.h"

namespace rilq {

struct SftBatch {
    torch::Tensor input_ids; // (B, L) int64, L = the longest example of the batch
    torch::Tensor labels;    // (B, L) int64, kIgnoreIndex on source (unless train_on_source) and padding
    int64_t label_count = 0; // labelled positions after the one-token shift (what the loss averages)
};

SftBatch collate_sft_batch(const std::vector<const SftExample*>& examples, int64_t pad_id,
                           bool train_on_source);

} // namespace rilq
