// A RunConfig written back as JSON: the full single-point document stored with each run (it
// parses back to the same RunConfig, which is how a run is resumed), the canonical settings
// text whose sha256 identifies identical settings, and the flat params recorded in the store.
#pragma once
#include "core/run/run_config.h"
#include "core/util/config_fields.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <utility>
#include <vector>

namespace rilq::run {

// Every field with its value (defaults filled in, data_root absolute), nothing swept.
nlohmann::json run_document(const RunConfig& config);
std::string run_document_text(const RunConfig& config); // compact dump of run_document

// The settings only: no name, description, data_root, output_dir or dataset labels, and only
// the datasets the run uses; keys sorted, compact. Two runs with equal text ran identically
// (given the same data files, whose hashes the eval results record).
std::string canonical_settings(const RunConfig& config);
// The same restricted to the fields whose phase is at most `phase` (Preparation < Targets <
// Training): points of a sweep with equal text share that much work (run_preparation.h).
std::string phase_settings(const RunConfig& config, config::Phase phase);
std::string compute_config_hash(const RunConfig& config); // sha256_hex(canonical_settings)

// Flat parameters, one per field: ("rilq.lora_r", "16"), ("datasets.c4.path", "c4/x.jsonl"),
// ("eval.datasets", "[\"wiki\",\"c4\"]"). Strings bare, numbers and lists as JSON.
std::vector<std::pair<std::string, std::string>> run_params(const RunConfig& config);

// False for params that locate or label a run rather than change what it computes
// (data_root, rilq.output_dir, datasets.*.label).
bool is_setting_param(const std::string& key);

// The RunConfig stored as `document` (run_document of an earlier run), for resuming it.
RunConfig run_config_from_document(const std::string& document_json, const std::string& run_name, int index);

} // namespace rilq::run
