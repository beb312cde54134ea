// Every knob of IR-QLoRA's instruction fine-tuning (htqin/IR-QLoRA irlora.py with
// scripts/finetune.sh; shared/data/mmlu/PROTOCOL.md section 2, METHODS.md section 4), by
// irlora.py's argument names. The optimisation half is the trainer's TrainConfig (shared with
// RILQ); irqlora_train_config() fills it with the script's recipe.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/rilq/train_config.h"

namespace rilq {

// How the Alpaca records become training and evaluation examples. Defaults: finetune.sh where it
// sets a value, else irlora.py's dataclass defaults.
struct SftDataConfig {
    int64_t source_max_len = 384;     // "<s>" + prompt tokens kept (irlora default 1024)
    int64_t target_max_len = 128;     // output + "</s>" tokens kept (irlora default 256)
    int64_t eval_dataset_size = 1024; // rows held out by train_test_split (must be < the records)
    int64_t max_eval_samples = 1000;  // the first this many held-out rows are evaluated; 0 = all
    int64_t max_train_samples = 0;    // the first this many training rows are used; 0 = all
    bool group_by_length = true;      // length-grouped batches (else a plain shuffle per pass)
    bool train_on_source = false;     // labels on the prompt too (irlora default False)
    uint64_t split_seed = 42;         // train_test_split's seed, fixed in irlora.py l. 660
    uint64_t data_seed = 42;          // the sampler's torch generator (finetune.sh --data_seed 42)
    // irlora.py adds a [PAD] token and grows the vocabulary by one row set to the mean of the
    // others (smart_tokenizer_and_embedding_resize, l. 442-462), so the softmax has V + 1 classes.
    bool pad_class = true;

    // Throws rilq::Error naming the field ("source_max_len must be >= 1, found 0").
    void validate() const;
    nlohmann::json to_json() const; // every field under its name above
};

struct FinetuneConfig {
    SftDataConfig data;
    TrainConfig train; // the trainer's settings; irqlora_train_config() for the recipe
};

// finetune.sh's optimisation: LoRA r 64, alpha 16, dropout 0 on all seven projections, PEFT's
// default (Kaiming) init, IEC on; AdamW lr 2e-4 constant, weight decay 0, max grad-norm 0.3,
// batch 16 x accumulation 1, 10,000 updates; eval loss every 1,000 updates on batches of 4; no
// early stopping; the last adapters are kept; seed 42.
TrainConfig irqlora_train_config();
FinetuneConfig irqlora_finetune_config();

} // namespace rilq
