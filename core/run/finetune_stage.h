// The runner's fine-tuning stage (RunConfig::finetune): IR-QLoRA's instruction fine-tuning of
// the student's adapters after RILQ's compensation - "compensation, then fine-tuning". The
// training itself is core/finetune/finetune.h; this file decides where the adapters come from,
// where the stage's checkpoint lives and how its curves are named in the run's metrics.
#pragma once
#include <string>

#include "core/finetune/finetune.h"
#include "core/finetune/finetune_metrics.h" // kFinetuneMetricPrefix
#include "core/run/run_config.h"

namespace rilq {
class LlamaModel;
class Tokenizer;
} // namespace rilq

namespace rilq::run {

// Inside the run's checkpoint folder (runner.h): the SFT trainer's checkpoint, and RILQ's
// compensated adapters (PEFT), written when the stage starts so that a resume during the stage
// neither retrains RILQ nor loses them, and copied into the outputs' adapter/.
std::string finetune_checkpoint_dir(const std::string& run_checkpoint_dir);
std::string compensated_adapter_dir(const std::string& run_checkpoint_dir);

// The adapters the stage trains, attached to `student`: RILQ's `compensated` ones (moved in; IEC
// gates added at 0 when finetune.train.lora.iec) when there are any, else fresh ones of
// finetune.train.lora.
LoraSet finetune_stage_adapters(LlamaModel& student, LoraSet compensated, const RunConfig& config);

// The finetune settings as core/finetune takes them. Continued adapters keep RILQ's shape (rank,
// alpha, dropout, init, targets): train.lora says what is actually trained, the same on a
// resume (a checkpoint records it).
FinetuneConfig finetune_config_of(const RunConfig& config);

// Reads and tokenizes finetune.data (resolved against data_root).
FinetuneData load_finetune_stage_data(const RunConfig& config, const Tokenizer& tokenizer);

} // namespace rilq::run
