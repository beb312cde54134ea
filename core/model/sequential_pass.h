// Calibration windows through a Llama one decoder layer and one "true-sequential" stage at a time,
// as IST-DASLab's llama.py llama_sequential walks a model for GPTQ:
//
//   h_j = embed(window j)                                   for every window j
//   for each decoder layer i:
//       for each stage s of the layer ([k, v, q] -> [o] -> [up, gate] -> [down]):
//           for each window j: run layer i on h_j up to stage s, observe(i, s, stage input)
//           finish_stage(i, s)          may replace the stage's weights: later stages see them
//       h_j = layer i (h_j)             with every weight the stages left, for the next layer
//
// The linears of a stage share one input (q, k and v read the same normed hidden state), so it is
// observed once per window. Windows go through one at a time (batch 1, as llama.py), each only as
// far as the stage needs. What to accumulate and what to replace is the caller's: GPTQ builds a
// Hessian and quantizes (core/quant/gptq_model.h); a calibrated LoRA initialisation builds Gram
// matrices and leaves the weights alone, so every input is the FP model's.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/util/progress.h"

namespace rilq {

class LlamaModel;

// The stages of one decoder layer in order, each the projection names ("self_attn.k_proj", ...)
// in llama.py's order within the stage.
const std::vector<std::vector<std::string>>& true_sequential_stages();

struct SequentialPassCallbacks {
    std::string label = "calibration pass"; // progress text: "<label> layers.3 [k_proj,v_proj,q_proj]"
    // Whether stage `stage` of layer `layer` needs a pass at all (e.g. it holds a target linear).
    std::function<bool(size_t layer, size_t stage)> wanted;
    // The stage's input for one window, (1, T, I), in the model's compute dtype.
    std::function<void(size_t layer, size_t stage, const torch::Tensor& x)> observe;
    // Called after every window went through the stage.
    std::function<void(size_t layer, size_t stage)> finish_stage;
};

// ids: (N, T) int64 windows. Progress reports one unit per (layer, stage) pass; cancellable
// between windows (rilq::Cancelled). Memory: two (N, T, C) hidden-state sets.
void run_sequential_pass(const LlamaModel& model, const torch::Tensor& ids, const SequentialPassCallbacks& callbacks,
                         const ProgressSink& progress = {});

} // namespace rilq
