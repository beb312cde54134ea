#include "core/finetune/finetune.h"

#include "core/finetune/sft_objective.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

namespace rilq {

FinetuneData prepare_finetune_data(const std::vector<AlpacaRecord>& records, const Tokenizer& tokenizer,
                                   const SftDataConfig& config, const std::string& source_name,
                                   const std::string& source_sha256) {
    config.validate();
    const SftTokenizer tok(tokenizer);
    FinetuneData data;
    data.records = static_cast<int64_t>(records.size());
    data.split = split_train_eval(data.records, config);
    data.source_name = source_name;
    data.source_sha256 = source_sha256;
    data.tokenizer = tokenizer.kind() + " " + tokenizer.path();
    data.pad_id = tokenizer.eos_id();
    auto tokenize = [&](const std::vector<int64_t>& rows, std::vector<SftExample>& out) {
        out.reserve(rows.size());
        for (const int64_t row : rows) {
            out.push_back(
                tok.example(records[static_cast<size_t>(row)], config.source_max_len, config.target_max_len));
            data.source_truncated += out.back().source_truncated ? 1 : 0;
            data.target_truncated += out.back().target_truncated ? 1 : 0;
        }
    };
    tokenize(data.split.train_rows, data.train);
    tokenize(data.split.eval_rows, data.eval);
    return data;
}

FinetuneData load_finetune_data(const std::string& path, const Tokenizer& tokenizer,
                                const SftDataConfig& config) {
    const auto records = read_alpaca_file(path);
    return prepare_finetune_data(records, tokenizer, config, path, sha256_file(path));
}

LoraSet finetune_adapters(LlamaModel& student, const TrainConfig& config, const std::string& continue_from) {
    if (continue_from.empty()) return attach_lora(student, config.lora);
    LoraSet loaded = load_peft_adapter(continue_from, student);
    return config.lora.iec ? add_iec_gates(student, std::move(loaded)) : loaded;
}

FinetuneResult run_finetune(LlamaModel& student, LoraSet& adapters, FinetuneData data,
                            const FinetuneConfig& config, const TrainerOptions& options) {
    config.data.validate();
    config.train.validate();
    SftObjectiveOptions o;
    o.pad_id = data.pad_id;
    o.train_on_source = config.data.train_on_source;
    o.pad_class = config.data.pad_class;
    o.group_by_length = config.data.group_by_length;
    o.data_seed = config.data.data_seed;
    o.checkpoint_layers = config.train.activation_checkpointing;
    // HF's LengthGroupedSampler gets train_batch_size * gradient_accumulation_steps.
    o.group_batch_size = config.train.approx_batch_size * config.train.gradient_accumulation_steps;
    o.resume_key = nlohmann::json{{"data", sft_data_config_json(config.data)},
                                  {"data_sha256", data.source_sha256},
                                  {"records", data.records},
                                  {"tokenizer", data.tokenizer}}
                       .dump();
    const int64_t n_train = static_cast<int64_t>(data.train.size());
    const int64_t n_eval = static_cast<int64_t>(data.eval.size());
    SftObjective objective(student, std::move(data.train), std::move(data.eval), o);
    Trainer trainer(config.train, adapters, objective, SftObjective::rows(n_train),
                    SftObjective::rows(n_eval), options);
    FinetuneResult result;
    result.train = trainer.run();
    if (result.train.status == TrainStatus::Finished || result.train.status == TrainStatus::EarlyStopped) {
        try {
            result.final_eval = trainer.evaluate();
        } catch (const Cancelled&) {
            result.train.message += "; final evaluation cancelled";
        }
    }
    return result;
}

} // namespace rilq
