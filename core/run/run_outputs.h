// What a run leaves in its output_dir, written as one atomic replacement (a temp folder beside
// it, renamed over it), so a crash never leaves a half-written run folder in place of a good one:
//   adapter/            PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json)
//   quantized/          the fake-quantized base as an HF folder (config.json, model.safetensors,
//                       the tokenizer) - PEFT's base for adapter/
//   merged/             optional: base + adapters merged, as an HF folder
//   quant_stats.json    every per-linear quantization metric (histograms included)
//   run.json            config, status, training summary, PPL table, versions
#pragma once
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
    std::string tokenizer_file;          // copied into quantized/ (and merged/) when not empty
    const nlohmann::json* quant_stats = nullptr; // may be null (ready q_model)
    const nlohmann::json* run_summary = nullptr;
    bool save_merged = false;
};

// Returns the artifacts written (paths inside the final output_dir, with sha256 and size).
std::vector<store::Artifact> write_run_outputs(const std::string& output_dir, const RunOutputContent& content);

} // namespace rilq::run
