// The experiment JSON schema as tables of fields (config_fields.h). Internal to core/run.
//
//   {                                      top-level fields: format_version, name, description,
//     "name": "...", "data_root": "...",   data_root, seed, device
//     "datasets": { "c4": {"type": "c4", "path": "c4/c4_demo.jsonl"}, ... },
//     "rilq":  { seed argument names: base_model, lora_r, approx_lr, ... },
//     "quant": { method, bits, group_size, variant, ... },
//     "eval":  { datasets, seqlen, stages }
//   }
#pragma once
#include "core/run/config_fields.h"
#include "core/run/run_config.h"

#include <string>
#include <vector>

namespace rilq::run::detail {

struct Section {
    std::string key; // "" for the top level
    std::vector<Field<RunConfig>> fields;
};

constexpr int kExperimentFormatVersion = 1;

// Top level first, then rilq, quant, eval: also the order of sweep axes and of params.
const std::vector<Section>& run_sections();
// The fields of one entry of "datasets".
const std::vector<Field<DatasetSpec>>& dataset_fields();

// Keys allowed at the top level (fields plus section names plus "datasets").
std::vector<std::string> top_level_keys();

// Every quantizer method an experiment may name, "none" first: the list the form offers.
const std::vector<QuantMethod>& quant_methods();

// Variants each quantizer accepts; the first is the default.
std::vector<std::string> quant_variants(QuantMethod method);

} // namespace rilq::run::detail
