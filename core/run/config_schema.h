// The experiment JSON schema: the tables of the structs a RunConfig composes, placed in the
// experiment's sections.
//
//   {                                      top-level fields: format_version, name, description,
//     "name": "...", "data_root": "...",   data_root, seed, device
//     "datasets": { "c4": {"type": "c4", "path": "c4/c4_demo.jsonl"}, ... },
//     "rilq":  { the model, calibration, LoRA and training fields (official argument names) },
//     "quant": { QuantSpec's fields: method, bits, group_size, variant, the methods' knobs },
//     "eval":  { datasets, seqlen, stages }
//   }
//
// Parsing, validation, sweeps, the canonical document and hash, the stored params, the form
// (widgets/experiment_form) and the README reference (`rilq schema --markdown`) all read it.
#pragma once
#include "core/run/run_config.h"
#include "core/util/config_fields.h"

#include <string>
#include <vector>

namespace rilq::run {

struct SchemaSection {
    std::string key;   // "" for the top level
    std::string title; // the README heading: "Top level", "`rilq`"
    std::string doc;   // the README paragraph under the heading ("" = none)
    std::vector<config::Field<RunConfig>> fields;
};

constexpr int kExperimentFormatVersion = 1;

// Top level first, then rilq, quant, eval: also the order of sweep axes and of params.
const std::vector<SchemaSection>& run_sections();
// The fields of one entry of "datasets", and that section's README heading and paragraph.
const std::vector<config::Field<DatasetEntry>>& dataset_fields();
const SchemaSection& datasets_section_doc();

// Keys allowed at the top level (fields plus section names plus "datasets").
std::vector<std::string> top_level_keys();

// The field at "rilq.lora_r" ("seed" for a top-level one); nullptr when there is none.
const config::Field<RunConfig>* find_run_field(const std::string& dotted_key);

} // namespace rilq::run
