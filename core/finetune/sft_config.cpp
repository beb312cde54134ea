#include "core/finetune/sft_config.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace rilq {

const std::vector<config::Field<SftDataConfig>>& sft_data_config_fields() {
    using namespace config;
    using D = SftDataConfig;
    static const std::vector<Field<D>> fields = {
        integer<D>("source_max_len", at(&D::source_max_len), 1, kIntMax)
            .titled("Source tokens")
            .official()
            .help("BOS text + prompt tokens kept (irlora.py `--source_max_len`; finetune.sh 384)"),
        integer<D>("target_max_len", at(&D::target_max_len), 1, kIntMax)
            .titled("Target tokens")
            .official()
            .help("output + EOS text tokens kept (`--target_max_len`; finetune.sh 128)"),
        integer<D>("eval_dataset_size", at(&D::eval_dataset_size), 1, kIntMax)
            .titled("Held-out records")
            .official()
            .help("records held out by `train_test_split` (seed `split_seed`); must be below the record "
                  "count"),
        integer<D>("max_eval_samples", at(&D::max_eval_samples), 0, kIntMax,
                   "a non-negative integer (0 = all)")
            .titled("Eval records")
            .official()
            .help("the first this many held-out records are evaluated; 0 = all"),
        integer<D>("max_train_samples", at(&D::max_train_samples), 0, kIntMax,
                   "a non-negative integer (0 = all)")
            .titled("Train records")
            .official()
            .help("the first this many training records are used; 0 = all"),
        boolean<D>("group_by_length", at(&D::group_by_length))
            .titled("Group by length")
            .official()
            .help("HF's length-grouped batches (by characters); off: a plain shuffle per pass"),
        boolean<D>("train_on_source", at(&D::train_on_source))
            .titled("Loss on prompt")
            .official()
            .help("put the loss on the prompt tokens too (irlora.py default false)"),
        integer<D>("split_seed", at(&D::split_seed), 0, kInt64Max)
            .titled("Split seed")
            .workbench()
            .help("seed of the held-out split (irlora.py fixes 42)"),
        integer<D>("data_seed", at(&D::data_seed), 0, kInt64Max)
            .titled("Data seed")
            .official()
            .help("seed of the batch order (`--data_seed`)"),
        boolean<D>("pad_class", at(&D::pad_class))
            .titled("[PAD] class")
            .workbench()
            .help("softmax over the vocabulary plus irlora.py's added [PAD] token (its embedding row = the "
                  "mean of the others); off: the model's vocabulary only"),
    };
    return fields;
}

nlohmann::json sft_data_config_json(const SftDataConfig& config) {
    return config::write_fields(sft_data_config_fields(), config);
}

std::vector<config::Problem> SftDataConfig::problems(const std::string& path) const {
    return config::field_problems(sft_data_config_fields(), *this, path);
}

void SftDataConfig::validate() const {
    const auto found = problems();
    if (!found.empty()) throw Error(config::describe_problems("fine-tuning data settings", found));
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
