// What a run leaves in its output_dir, written as one atomic replacement (a temp folder beside
// it swapped in, core/util/atomic_dir.h), so a crash never leaves a half-written run folder in
// place of a good one:
//   adapter/            PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json)
//   finetuned_adapter/  PEFT adapter after the fine-tuning stage (IEC folded in), when it ran
//   quantized/          the fake-quantized base as an HF folder (config.json, model.safetensors,
//                       the tokenizer) - PEFT's base for adapter/
//   merged/             optional: base + adapters merged, as an HF folder
//   quant_stats.json    every per-linear quantization metric (histograms included)
//   run.json            config, status, training summary, PPL table, versions
//   .rilq-run           the uuid of the run the folder belongs to
//
// Ownership. A run writes only into a folder that is its own: before any work it claims its
// output folder (creates it holding just .rilq-run, atomically, so two runs can never claim the
// same one), and only a folder carrying its uuid (or, for folders written before markers
// existed, a run.json with its uuid) is ever replaced. A folder of another run is left alone
// and the new run writes beside it (`<dir>-<uuid prefix>`); a folder that is no run's at all
// (the user's files, the working directory) is an error naming it, raised before anything runs.
// The checkpoint folder `<dir>.checkpoint` belongs to whoever owns `<dir>`.
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

constexpr const char* kRunMarkerFile = ".rilq-run";

// The uuid of the run that owns `dir` (its .rilq-run, else its run.json's run.uuid); "" when
// neither says (absent, empty, or not a run folder).
std::string output_dir_owner(const std::string& dir);

// `output_dir` (placeholders filled) made absolute against `base` ("" = the working directory).
// A relative path must stay strictly inside `base` ("../x" and "." are errors naming it); an
// absolute path is the user's explicit choice and is taken as given.
std::string resolve_output_dir(const std::string& output_dir, const std::string& base);

std::string checkpoint_dir_of(const std::string& output_dir); // "<output_dir>.checkpoint"

// Before a sweep starts: Error naming the folder when `dir` or its checkpoint folder exists and
// belongs to no run (a folder of the user's would be lost). Folders of runs pass.
void check_output_dir(const std::string& dir);

// Makes `dir` run `uuid`'s output folder (absolute; created holding only the marker) and
// returns it. When another run owns `dir`: with `may_move` the run takes `<dir>-<uuid[0:8]>`
// instead, else Error. A folder or checkpoint folder that is no run's: Error. With
// `adopt_checkpoint` an existing `<dir>.checkpoint` is this run's (a resume); otherwise any
// checkpoint there belongs to an earlier run and the name counts as taken.
std::string claim_output_dir(const std::string& dir, const std::string& uuid, bool may_move,
                             bool adopt_checkpoint = false);

// Removes `dir` when it is run `uuid`'s and holds nothing but the marker (no outputs written).
void release_output_dir(const std::string& dir, const std::string& uuid);

struct RunOutputContent {
    std::string run_uuid;                // the owner: an existing folder must carry it
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
