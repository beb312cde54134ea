// `rilq pretrain`: trains a small Llama from scratch on a token stream (AdamW, linear warmup
// then cosine decay, gradient-norm clipping, held-out validation, checkpoints to resume).
// Quantization researchers use such tiny trained models as fast test subjects; the built-in
// demo makes its model this way from Debian's fortunes text.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/llama_model.h"
#include "core/util/progress.h"

namespace rilq {

struct PretrainConfig {
    // model shape (vocab comes from the tokenizer)
    int64_t hidden_size = 128;
    int64_t num_layers = 4;
    int64_t num_heads = 4;
    int64_t num_kv_heads = 4;
    int64_t intermediate_size = 344;
    int64_t seqlen = 128;
    // optimisation
    int64_t batch_size = 16;
    int64_t max_steps = 1000;
    double lr = 3e-3;
    double min_lr = 3e-4;
    int64_t warmup_steps = 50;
    double weight_decay = 0.1;      // on matrices only, not on norms
    double beta1 = 0.9, beta2 = 0.95;
    double grad_clip = 1.0;         // max global L2 norm, 0 = off
    int64_t eval_every = 100;       // steps between validations and checkpoints
    int64_t eval_windows = 16;      // validation windows (fixed, non-overlapping, from the val stream)
    uint64_t seed = 1337;
};

struct PretrainEvent {
    enum class Kind { Step, Validation, Finished };
    Kind kind = Kind::Step;
    int64_t step = 0;               // optimizer steps done
    int64_t max_steps = 0;
    double train_loss = 0.0;        // this step's batch loss (nats/token)
    double val_loss = 0.0;          // validation only
    double lr = 0.0;
    double tokens_per_s = 0.0;
    double eta_s = -1.0;
};

struct PretrainResult {
    int64_t steps = 0;
    double final_val_loss = 0.0;
    double best_val_loss = 0.0;
    double seconds = 0.0;
    bool resumed = false;
};

// Learning rate at `step` (0-based): linear warmup to lr, cosine decay to min_lr at max_steps.
double pretrain_lr(const PretrainConfig& config, int64_t step);

// Trains `model` in place on `train_tokens`, validating on `val_tokens`. If `checkpoint_dir`
// is non-empty, a checkpoint (weights, optimizer, step) is written there at every validation,
// and an existing one is resumed from. Cancel -> the last checkpoint stays, throws Cancelled.
PretrainResult pretrain(LlamaModel& model, const std::vector<int64_t>& train_tokens,
                        const std::vector<int64_t>& val_tokens, const PretrainConfig& config,
                        const std::string& checkpoint_dir, const std::function<void(const PretrainEvent&)>& on_event,
                        const CancelToken* cancel = nullptr);

// The model config a PretrainConfig describes for a given vocabulary.
LlamaConfig pretrain_model_config(const PretrainConfig& config, int64_t vocab_size, int64_t bos_id, int64_t eos_id);

} // namespace rilq
