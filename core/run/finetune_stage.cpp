#include "core/run/finetune_stage.h"

#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"

namespace rilq::run {

std::string finetune_checkpoint_dir(const std::string& run_checkpoint_dir) {
    return run_checkpoint_dir + "/sft";
}

std::string compensated_adapter_dir(const std::string& run_checkpoint_dir) {
    return run_checkpoint_dir + "/compensated_adapter";
}

LoraSet finetune_stage_adapters(LlamaModel& student, LoraSet compensated, const RunConfig& config) {
    if (compensated.empty()) return attach_lora(student, config.finetune.train.lora);
    return config.finetune.train.lora.iec ? add_iec_gates(student, std::move(compensated))
                                          : std::move(compensated);
}

FinetuneConfig finetune_config_of(const RunConfig& config) {
    FinetuneConfig c;
    c.data = config.finetune.sft;
    c.train = config.finetune.train;
    const LoraConfig& compensation = config.train.lora;
    if (compensation.r > 0) { // continuing: RILQ's adapters keep their shape; the gates are the SFT's choice
        c.train.lora.r = compensation.r;
        c.train.lora.alpha = compensation.alpha;
        c.train.lora.dropout = compensation.dropout;
        c.train.lora.init = compensation.init;
        c.train.lora.targets = compensation.targets;
        c.train.lora.iec = config.finetune.train.lora.iec || compensation.iec;
    }
    return c;
}

FinetuneData load_finetune_stage_data(const RunConfig& config, const Tokenizer& tokenizer) {
    return load_finetune_data(config.resolve(config.finetune.data), tokenizer, config.finetune.sft);
}

} // namespace rilq::run
