// The loss IR-QLoRA fine-tunes on: LlamaForCausalLM's next-token cross-entropy with labels
// shifted by one, averaged over the labelled positions of the micro-batch (labels != -100:
// the target tokens, EOS included), in fp32:
//   L = mean_{(b,t): labels[b,t+1] != -100}  logsumexp_c(logits[b,t,c]) - logits[b,t,labels[b,t+1]]
// irlora.py grows the vocabulary by its [PAD] token, whose output row is the mean of the other
// rows (smart_tokenizer_and_embedding_resize, l. 442-462): the softmax then has V + 1 classes,
// the extra logit being h . mean_row. With pad_row given, that class joins the logsumexp; the
// model itself is left as it is (the pad id is never a label nor seen by a labelled position).
#pragma once
#include <torch/types.h>

#include "core/finetune/sft_batch.h"

namespace rilq {

class LlamaModel;

// The [PAD] class's output row: the mean of lm_head's rows (the embedding's when tied), (C) fp32.
torch::Tensor pad_class_row(const LlamaModel& model);

// One forward of the (adapted) model on the batch; 0-dim fp32, carrying the graph to the adapters.
// Only the labelled positions go through lm_head. `pad_row` undefined: V classes.
// `checkpoint_layers`: ForwardOptions::checkpoint_layers (activation checkpointing).
torch::Tensor sft_loss(const LlamaModel& model, const SftBatch& batch, const torch::Tensor& pad_row,
                       bool checkpoint_layers = false);

} // namespace rilq
