// Layer-streamed preparation (issue 15): the FP model is never held whole. One pass over the
// checkpoint loads decoder layer i (core/io/layer_stream.h), runs every activation stream through
// it - the teacher-target windows of both splits, the FP perplexity windows, the quantizer's
// calibration windows - then quantizes the layer in place (quant.storage "packed" keeps it at
// ~0.33 B/weight for W2 g64) and moves on. After the last layer the final norm and head turn the
// streams into teacher targets and FP perplexities.
//
// Every stream is batched exactly as the whole-model path batches it (cache_teacher_targets by
// approx_batch_size, evaluate_perplexity one window at a time, quantize_model all calibration
// windows at once) and each layer step is LlamaModel::forward()'s own code, so targets, student
// and perplexities equal the whole-model path bit for bit.
//
// Peak memory = the student (packed linears + embedding, norms, head) + targets + one layer's FP
// weights + the streams' hidden states (windows x seqlen x hidden each) + the quantizer's scratch.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/tensor.h"

#include "core/eval/perplexity.h"
#include "core/model/llama_model.h"
#include "core/quant/quantize_model.h"
#include "core/rilq/compensation.h"
#include "core/util/progress.h"

namespace rilq {

struct StreamedPreparationPlan {
    // Teacher targets of both splits (scope "model"); undefined train_ids = none.
    torch::Tensor train_ids, val_ids; // (N, T) int64
    TargetType target_type = TargetType::Hidden;
    int64_t target_batch = 1; // windows per batch (TrainConfig::approx_batch_size)
    TargetCachePolicy target_policy;
    // FP perplexity of each (N, T) set of windows, as evaluate_perplexity computes it.
    std::vector<torch::Tensor> fp_ppl_windows;
    // The student's quantization (calib_ids in quant_options as quantize_model takes them).
    QuantSpec quant;
    QuantizeModelOptions quant_options;
};

struct StreamedStageSeconds {
    double load = 0.0;     // reading + converting layers (and the embedding / head)
    double targets = 0.0;  // the target windows through the layers and the head
    double fp_ppl = 0.0;   // the FP perplexity windows through the layers and the head
    double quantize = 0.0; // the quantizer (its calibration forward included)
};

struct StreamedPreparation {
    std::unique_ptr<LlamaModel> student; // quantized, in quant.storage form
    std::optional<CachedTargets> targets;
    std::vector<PerplexityResult> fp_ppl; // one per fp_ppl_windows entry
    ModelQuantResult quant;
    StreamedStageSeconds seconds;
    int64_t largest_layer_bytes = 0; // the most FP layer weights held at once
};

// Cancellable between layers and batches (throws rilq::Cancelled).
StreamedPreparation prepare_streamed(const std::string& model_dir, const ModelOptions& options,
                                     const StreamedPreparationPlan& plan, const ProgressSink& progress = {});

} // namespace rilq
