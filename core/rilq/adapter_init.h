// The closed-form lora_init choices on a whole quantized model (core/lora/lora_config.h LoraInit):
// every adapter attached to the student is set from the FP weights before any scope trains it.
//   loftq       LoftQ (core/lora/init/loftq.h) with the run's registered quantizer, loftq_iter
//               rounds; the student's weight of each adapted linear becomes the last Q
//   qera-exact  QERA's closed form (core/lora/init/qera.h) on E = W - Q, Q the student's weight,
//   qera-diag   with the Gram E[x x^T] of the inputs each linear sees in the FP model on the
//               calibration windows (fp64 accumulation)
// A quantizer that reads calibration inputs (GPTQ) gets, in every LoftQ round, the Gram's root
// S (S^T S = E[x x^T]) as its inputs: GPTQ's result depends on the inputs only through their
// Hessian 2 X^T X / n, and is unchanged by its scale, so this is GPTQ on the FP model's inputs
// without keeping them.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

#include "core/lora/init/qera.h"
#include "core/util/progress.h"

namespace rilq {

class LlamaModel;
class LoraSet;
struct LoraConfig;
struct QuantSpec;

struct ClosedFormInputs {
    const LlamaModel* fp = nullptr;   // the FP model the student was quantized from
    const QuantSpec* quant = nullptr; // LoftQ's quantizer (the run's quant section); null: no loftq
    torch::Tensor calib_ids;          // (N, T) int64 calibration windows (QERA, a calibrated quantizer)
    int64_t batch_windows = 8;        // windows per forward while the Grams are collected
};

// A student weight the init replaced, to put back when the student is shared by the next point.
using ReplacedWeights = std::vector<std::pair<std::string, torch::Tensor>>;

// E[x x^T] of the inputs of each linear in `names` in a forward of `model` over the windows.
std::map<std::string, InputGram> collect_input_grams(const LlamaModel& model, const torch::Tensor& ids,
                                                     const std::vector<std::string>& names,
                                                     int64_t batch_windows,
                                                     const ProgressSink& progress = {});

// Sets A and B of every adapter (attached to `student`) by config.init, which must be a closed form
// (is_closed_form). Returns the student weights LoftQ replaced; `log` gets one summary line.
// Errors: loftq without a quantizer, qera without calibration windows.
ReplacedWeights init_adapters_closed_form(LlamaModel& student, LoraSet& adapters, const LoraConfig& config,
                                          const ClosedFormInputs& inputs, std::string* log = nullptr,
                                          const ProgressSink& progress = {});

// Puts the replaced weights back (in reverse order) and empties the list.
void restore_weights(LlamaModel& model, ReplacedWeights& replaced);

} // namespace rilq
