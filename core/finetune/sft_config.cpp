#include "core/finetune/sft_config.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace rilq {

void SftDataConfig::validate() const {
    auto at_least = [](const char* name, int64_t value, int64_t min) {
        if (value < min)
            throw Error(std::string(name) + " must be >= " + std::to_string(min) + ", found " +
                        std::to_string(value));
    };
    at_least("source_max_len", source_max_len, 1);
    at_least("target_max_len", target_max_len, 1);
    at_least("eval_dataset_size", eval_dataset_size, 1);
    at_least("max_eval_samples", max_eval_samples, 0);
    at_least("max_train_samples", max_train_samples, 0);
}

nlohmann::json SftDataConfig::to_json() const {
    return {{"source_max_len", source_max_len},
            {"target_max_len", target_max_len},
            {"eval_dataset_size", eval_dataset_size},
            {"max_eval_samples", max_eval_samples},
            {"max_train_samples", max_train_samples},
            {"group_by_length", group_by_length},
            {"train_on_source", train_on_source},
            {"split_seed", split_seed},
            {"data_seed", data_seed},
            {"pad_class", pad_class}};
}

TrainConfig irqlora_train_config() {
    TrainConfig c;
    c.lora.r = 64;
    c.lora.alpha = 16.0;
    c.lora.dropout = 0.0;
    c.lora.init = LoraInit::Kaiming;
    c.lora.iec = true;
    c.lora.targets = projection_names();
    c.approx_total_steps = 10000; // micro-steps = updates at accumulation 1
    c.approx_lr = 2e-4;
    c.approx_batch_size = 16;
    c.gradient_accumulation_steps = 1;
    c.optimizer = OptimizerKind::AdamW; // paged_adamw_32bit: the same update in 32-bit state
    c.weight_decay = 0.0;
    c.lr_schedule = LrSchedule::Constant; // HF's "constant" ignores warmup_ratio
    c.max_grad_norm = 0.3;
    c.approx_eval_steps = 1000;
    c.eval_batch_size = 4;
    c.approx_early_stop = false;
    c.restore_best = false;
    c.lora.seed = 42;
    return c;
}

FinetuneConfig irqlora_finetune_config() {
    FinetuneConfig c;
    c.train = irqlora_train_config();
    return c;
}

} // namespace rilq
