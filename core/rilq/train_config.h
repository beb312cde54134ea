// Every knob of one RILQ compensation run, by the names of the official code's arguments
// (aiha-lab/RILQ main.py argparse; METHODS.md 3). Defaults are the official script's values
// (rilq-llama2_7b-r64.sh): r 64, alpha 16, lr 1e-4, micro-batch 1, accumulation 8,
// 10,000 micro-steps, validation every 25 updates, early stop with patience 5.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/lora/lora_config.h"

namespace rilq {

// Where the model-level discrepancy is measured (a_type).
enum class TargetType {
    Hidden, // "hid": last hidden state after the final RMSNorm (B, T, C)
    Logit,  // "logit": the logits (B, T, V)
};

// What the adapters are fitted to (the comparison the RILQ paper plots against rank).
enum class Scope {
    Model,     // "model": RILQ, discrepancy at the model output + ground-truth CE
    WeightSvd, // "weight-svd": no training; top-r SVD of W - Q(W), or a closed-form lora_init's adapters
    Linear,    // "linear": each linear's output error on the FP model's calibration inputs
    Layer,     // "layer": each decoder layer's output error against the FP model's
};

enum class OptimizerKind { Adam, AdamW };
enum class LrSchedule { Constant, Cosine };

// Each enum's names as the experiment spells them, in declaration order.
const std::vector<std::pair<TargetType, std::string>>& target_type_names(); // hid, logit
const std::vector<std::pair<Scope, std::string>>& scope_names(); // model, weight-svd, linear, layer
const std::vector<std::pair<OptimizerKind, std::string>>& optimizer_names(); // adam, adamw
const std::vector<std::pair<LrSchedule, std::string>>& lr_schedule_names();  // constant, cosine
std::string to_string(TargetType t);
std::string to_string(Scope s);
std::string to_string(OptimizerKind o);
std::string to_string(LrSchedule s);

struct TrainConfig {
    LoraConfig lora; // the adapters: rank, alpha, dropout, init, IEC, targets, seed

    // objective
    Scope scope = Scope::Model;
    TargetType a_type = TargetType::Hidden;
    double a_dis_weight = 0.5; // weight of the model-level MSE
    double gt_weight = 0.5;    // weight of the next-token cross-entropy

    // optimisation
    int64_t approx_total_steps = 10000; // micro-steps (forward + backward on one micro-batch)
    double approx_lr = 1e-4;
    int64_t approx_batch_size = 1;           // windows per micro-batch
    int64_t gradient_accumulation_steps = 8; // micro-steps per optimizer update
    OptimizerKind optimizer = OptimizerKind::Adam;
    double weight_decay = 0.0;                     // Adam: L2 term; AdamW: decoupled decay
    LrSchedule lr_schedule = LrSchedule::Constant; // cosine: lr * (1 + cos(pi * update / updates)) / 2
    // Before each update the adapters' gradient is scaled to at most this L2 norm (torch's
    // clip_grad_norm_, as HF Trainer's max_grad_norm); 0 = off. RILQ's loop does not clip;
    // IR-QLoRA's fine-tuning uses 0.3.
    double max_grad_norm = 0.0;

    // validation and early stopping
    int64_t approx_eval_steps = 25; // validate every this many optimizer updates
    int64_t eval_batch_size = 0;    // rows per validation batch; 0 = approx_batch_size
    bool approx_early_stop = true;
    int64_t approx_es_patience = 5; // validations in a row without improvement
    double approx_es_delta = 0.0;   // official: a non-improvement counts when |v - best| >= delta
    // End with the best validation's adapters (RILQ restores its best snapshot); false keeps the
    // last ones (HF Trainer without load_best_model_at_end, as IR-QLoRA trains).
    bool restore_best = true;

    // Recompute each decoder layer's forward in the backward instead of keeping its activations
    // (scope model): less memory for long windows and big batches, about one more forward of time.
    bool activation_checkpointing = false;

    // Teacher-target cache: targets above this many bytes go to a memory-mapped temp file.
    int64_t target_memory_budget_bytes = int64_t{4} << 30;

    int64_t total_updates() const { return approx_total_steps / gradient_accumulation_steps; }
    int64_t validation_batch_size() const {
        return eval_batch_size > 0 ? eval_batch_size : approx_batch_size;
    }
    // Every problem, each with its key under `path` ("$.rilq" in experiments): field ranges, LoRA
    // targets listed twice, a loss whose two weights are both 0.
    std::vector<config::Problem> problems(const std::string& path = "") const;
    // Throws rilq::Error listing problems(), e.g.
    // "gradient_accumulation_steps: expected a positive integer, found 0".
    void validate() const;
};

// The experiment's rilq.* keys for these members (plus the LoRA fields and the top-level seed),
// with what each changes and whether it may change when a run is resumed.
const std::vector<config::Field<TrainConfig>>& train_config_fields();
// Every field under its key: what a checkpoint records and a resume compares.
nlohmann::json train_config_json(const TrainConfig& config);
// False for fields that may differ between a run and its resume (more steps, other patience).
bool must_match_on_resume(const std::string& key);

// The learning rate for optimizer update `update` (0-based) of `total_updates`.
double learning_rate_at(const TrainConfig& config, int64_t update);

} // namespace rilq
