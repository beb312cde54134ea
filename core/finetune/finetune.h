// IR-QLoRA's instruction fine-tuning in one place, on plain inputs: Alpaca records and a
// tokenizer become SFT examples (split, tokenized, truncated; sft_split.h, sft_example.h), then
// the RILQ trainer (core/rilq/trainer.h) trains the student's adapters on sft_objective.h.
// Loading, quantizing and saving stay with the caller (`rilq finetune`, the run pipeline), as for
// core/rilq/compensation.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/finetune/alpaca_data.h"
#include "core/finetune/sft_config.h"
#include "core/finetune/sft_example.h"
#include "core/finetune/sft_split.h"
#include "core/lora/lora_set.h"
#include "core/rilq/trainer.h"

namespace rilq {

class LlamaModel;
class Tokenizer;

struct FinetuneData {
    std::vector<SftExample> train, eval;
    SftSplit split; // record indices of both
    int64_t records = 0;
    int64_t source_truncated = 0; // examples (train + eval) whose source was cut at source_max_len
    int64_t target_truncated = 0; // ... whose target was cut at target_max_len (EOS lost)
    std::string source_name;      // the data file (or a name for in-memory records)
    std::string source_sha256;    // of the file's bytes; empty for in-memory records
    std::string tokenizer;        // kind and path
    int64_t pad_id = 0;           // what pads the batches (the tokenizer's EOS)
};

// Split and tokenize. `source_name` / `source_sha256` are recorded (and checked on resume).
FinetuneData prepare_finetune_data(const std::vector<AlpacaRecord>& records, const Tokenizer& tokenizer,
                                   const SftDataConfig& config, const std::string& source_name = "",
                                   const std::string& source_sha256 = "");
// The same from a file (read_alpaca_file, sha256 of its bytes).
FinetuneData load_finetune_data(const std::string& path, const Tokenizer& tokenizer,
                                const SftDataConfig& config);

// The adapters an SFT run trains: fresh ones from config.lora, or those of the PEFT
// adapter folder `continue_from` (e.g. a RILQ run's adapter/: "compensation, then fine-tuning"),
// with IEC gates added at 0 when config.iec (the same function to start from).
LoraSet finetune_adapters(LlamaModel& student, const TrainConfig& config,
                          const std::string& continue_from = "");

struct FinetuneResult {
    TrainResult train;
    ValidationLosses final_eval; // eval loss of the adapters the run ends with (irlora.py's
                                 // trainer.evaluate() after training); not measured when killed
};

// Trains `adapters` (attached to `student`) with config.train; events through options.on_event.
FinetuneResult run_finetune(LlamaModel& student, LoraSet& adapters, FinetuneData data,
                            const FinetuneConfig& config, const TrainerOptions& options = {});

} // namespace rilq
