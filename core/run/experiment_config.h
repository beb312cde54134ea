// Experiment definitions: a JSON file parsed and validated into one RunConfig per sweep point.
//
// Any sweepable field may be given as a list; the experiment is the cartesian product of
// all lists. Axes follow the schema's field order (core/run/config_schema.cpp: top level, then
// rilq, quant, eval, each in its declared order), not the file's key order, the first axis
// varying slowest; so a rank sweep always groups by lora_r (`"lora_r": [0, 16, 32, 64, 128]` gives
// five runs, rank 0 being the uncompensated baseline). A field whose natural value is a
// list (rilq.lora_targets) is swept by a list of lists.
//
// Every problem is reported with its JSON path, what was expected and what was found:
//   $.rilq.lora_r[2]: expected a non-negative integer, found -4
//   $.rilq.lora_rank: unknown key, did you mean "lora_r"?
// Relative paths resolve against data_root, which itself is relative to the file's folder.
#pragma once
#include "core/run/run_config.h"
#include "core/util/error.h"
#include "core/util/problem.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace rilq::run {

// data_root "@demo": the built-in demo's cache folder (core/demo/demo_model.h), which holds
// model/ and corpus/{train,valid,test}.txt; the Runner builds the demo model there first.
inline constexpr const char* kDemoDataRoot = "@demo";

// path "$.rilq.lora_r[2]", message "expected a non-negative integer, found -4"
using ConfigIssue = config::Problem;

// Thrown by parse_*: what() lists every issue, one per line, after the source name.
class ConfigError : public Error {
  public:
    ConfigError(const std::string& source, std::vector<ConfigIssue> issues);
    const std::vector<ConfigIssue>& issues() const { return issues_; }

  private:
    std::vector<ConfigIssue> issues_;
};

struct ParseOptions {
    std::string base_dir;           // folder relative data_root resolves against; "" = file's folder or cwd
    std::string data_root_override; // replaces $.data_root when not empty (--data-root, GUI setting)
    std::vector<std::string> overrides; // "rilq.lora_r=[16,32]": value is JSON, or a bare string
};

struct SweepAxis {
    std::string key;                 // "rilq.lora_r"
    std::vector<std::string> values; // each as compact JSON text: "16", "\"nf\"", "[\"q_proj\"]"
};

struct ExperimentConfig {
    std::string name;
    std::string description;
    std::string source_path;      // the file it came from, "" when parsed from memory
    std::string document_json;    // the document as given (after --set overrides), compact
    std::string data_root;        // absolute
    std::vector<SweepAxis> sweep; // empty when nothing is swept
    std::vector<RunConfig> runs;  // the validated points, in sweep order
};

// Every issue in the document, without throwing (the GUI shows them next to the fields).
std::vector<ConfigIssue> validate_experiment(const nlohmann::json& document,
                                             const ParseOptions& options = {});

// Parse, validate and expand. Throw ConfigError listing every issue.
ExperimentConfig parse_experiment(const nlohmann::json& document, const ParseOptions& options = {});
ExperimentConfig parse_experiment_text(const std::string& json_text, const ParseOptions& options = {},
                                       const std::string& source_name = "<experiment>");
ExperimentConfig parse_experiment_file(const std::string& path, ParseOptions options = {});

// Applies one "dotted.key=value" override to a document (creating objects on the way).
// The value is parsed as JSON when it is valid JSON, else taken as a string.
void apply_override(nlohmann::json& document, const std::string& assignment);

} // namespace rilq::run
