// What a run leaves in its output_dir, written as one atomic replacement (a temp folder beside
// it, renamed over it), so a crash never leaves a half-written run folder in place of a good one:
//   adapter/            PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json)
//   finetuned_adapter/  PEFT adapter after the fine-tuning stage (IEC folded in), when it ran
//   quantized/          the fake-quantized base as an HF folder (config.json, model.safetensors,
//                       the tokenizer) - PEFT's base for adapter/
//   merged/             optional: base + adapters merged, as an HF folder
//   quant_stats.json    every per-linear quantization metric (histograms included)
//   run.json            config, status, training summary, PPL table, versions
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/store/run_types.h"

namespace rilq {
class LlamaModel;
class LoraSet;
} // namespace rilq

namespace rilq::run {

struct RunOutputContent {
    const LlamaModel* student = nullptr; // quantized base; adapters attached (not merged) or none
    const LoraSet* adapters = nullptr;   // may be empty (rank 0)
    // RILQ's adapters already saved as a PEFT folder (the fine-tuning stage changed `adapters`
    // since): copied to adapter/ in place of `adapters`.
    std::string adapter_dir;
    const LoraSet* finetuned = nullptr;  // after the SFT stage: finetuned_adapter/; merged/ merges it
    std::string tokenizer_file;          // copied into quantized/ (and merged/) when not empty
    const nlohmann::json* quant_stats = nullptr; // may be null (ready q_model)
    const nlohmann::json* run_summary = nullptr;
    bool save_merged = false;
};

// One written file or folder as the store records it: `final_path` is where it ends up, `written`
// where it is now (the same, or inside an atomic write's temp folder); a file gets its sha256, a
// folder the total size of its files.
store::Artifact artifact_record(const std::string& kind, const std::filesystem::path& final_path,
                                const std::filesystem::path& written);

// Returns the artifacts written (paths inside the final output_dir, with sha256 and size).
std::vector<store::Artifact> write_run_outputs(const std::string& output_dir, const RunOutputContent& content);

} // namespace rilq::run
