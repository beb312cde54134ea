#include "core/run/config_document.h"

#include "core/run/config_schema.h"
#include "core/run/experiment_config.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace rilq::run {

using json = nlohmann::json;

namespace {

// The document with every field, or (settings_only) only the fields that change results and
// whose phase is at most `up_to`.
json build_document(const RunConfig& c, bool settings_only, config::Phase up_to = config::Phase::Training) {
    json doc = json::object();
    for (const auto& section : run_sections()) {
        json& target = section.key.empty() ? doc : doc[section.key];
        if (!section.key.empty()) target = json::object();
        for (const auto& field : section.fields) {
            if (settings_only && (!field.setting || field.phase > up_to)) continue;
            target[field.key] = field.write(c);
        }
    }
    std::vector<std::string> used;
    if (settings_only) {
        used = split_dataset_list(c.calib.datasets);
        used.insert(used.end(), c.eval.datasets.begin(), c.eval.datasets.end());
    }
    json datasets = json::object();
    for (const auto& [name, spec] : c.datasets) {
        if (settings_only && std::find(used.begin(), used.end(), name) == used.end()) continue;
        json entry = json::object();
        for (const auto& field : dataset_fields()) {
            if (settings_only && !field.setting) continue;
            entry[field.key] = field.write(spec);
        }
        datasets[name] = entry;
    }
    doc["datasets"] = datasets;
    return doc;
}

void flatten(const json& node, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
    if (node.is_object()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
        }
        return;
    }
    out.emplace_back(prefix, node.is_string() ? node.get<std::string>() : node.dump());
}

} // namespace

json run_document(const RunConfig& config) {
    return build_document(config, false);
}

std::string run_document_text(const RunConfig& config) {
    return run_document(config).dump();
}

std::string canonical_settings(const RunConfig& config) {
    return build_document(config, true).dump();
}

std::string phase_settings(const RunConfig& config, config::Phase phase) {
    return build_document(config, true, phase).dump();
}

std::string compute_config_hash(const RunConfig& config) {
    return sha256_hex(canonical_settings(config));
}

std::vector<std::pair<std::string, std::string>> run_params(const RunConfig& config) {
    json doc = run_document(config);
    // Identity fields are the run's columns (experiment, name), not parameters.
    doc.erase("name");
    doc.erase("description");
    doc.erase("format_version");
    doc["rilq"]["output_dir"] = config.output_dir();
    std::vector<std::pair<std::string, std::string>> out;
    flatten(doc, "", out);
    return out;
}

bool is_setting_param(const std::string& key) {
    if (key.rfind("datasets.", 0) == 0) { // datasets.<name>.<field>
        const auto* field = config::find_field(dataset_fields(), key.substr(key.rfind('.') + 1));
        return !field || field->setting;
    }
    const auto* field = find_run_field(key);
    return !field || field->setting;
}

RunConfig run_config_from_document(const std::string& document_json, const std::string& run_name, int index) {
    ExperimentConfig experiment = parse_experiment_text(document_json, {}, "stored run " + run_name);
    if (experiment.runs.size() != 1) {
        throw Error("stored run " + run_name + ": expected a single-point document, found a sweep of " +
                    std::to_string(experiment.runs.size()));
    }
    RunConfig config = experiment.runs.front();
    config.run_name = run_name;
    config.index = index;
    return config;
}

} // namespace rilq::run
