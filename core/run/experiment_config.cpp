#include "core/run/experiment_config.h"

#include "core/demo/demo_cache.h"

#include "core/run/config_document.h"
#include "core/run/config_schema.h"
#include "core/util/config_fields.h"
#include "core/util/did_you_mean.h"
#include "core/eval/tasks/task.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace rilq::run {

using json = nlohmann::json;
using namespace config;

namespace {

// Sweeps larger than this are almost certainly a mistake (a list where a scalar was meant).
constexpr size_t kMaxSweepRuns = 100000;

class IssueList {
  public:
    // Messages of list fields start with "[i]: " naming the bad element: moved into the path.
    void add(std::string path, std::string message) { add(problem_at(std::move(path), std::move(message))); }
    void add(Problem problem) {
        for (const auto& existing : items_) {
            if (existing.path == problem.path && existing.message == problem.message)
                return; // repeated by every sweep point
        }
        items_.push_back(std::move(problem));
    }
    bool empty() const { return items_.empty(); }
    const std::vector<ConfigIssue>& items() const { return items_; }

  private:
    std::vector<ConfigIssue> items_;
};

std::string child_path(const std::string& parent, const std::string& key) {
    return parent + "." + key;
}

std::string section_path(const std::string& section) {
    return section.empty() ? "$" : "$." + section;
}

void check_unknown_keys(const json& object, const std::string& path, const std::vector<std::string>& known,
                        IssueList& issues) {
    for (auto& problem : unknown_key_problems(object, known, path))
        issues.add(std::move(problem));
}

std::map<std::string, DatasetEntry> parse_datasets(const json& document, IssueList& issues) {
    std::map<std::string, DatasetEntry> registry;
    if (!document.contains("datasets")) return registry;
    const json& all = document.at("datasets");
    if (!all.is_object()) {
        issues.add("$.datasets", expected("an object of named datasets", all));
        return registry;
    }
    const auto& fields = dataset_fields();
    for (auto it = all.begin(); it != all.end(); ++it) {
        const std::string path = "$.datasets." + it.key();
        if (it.key().empty() || it.key().find_first_of(", \t") != std::string::npos) {
            issues.add(path, "expected a dataset name without commas or spaces, found \"" + it.key() + "\"");
            continue;
        }
        if (!it.value().is_object()) {
            issues.add(path, expected("an object with \"type\" and \"path\"", it.value()));
            continue;
        }
        check_unknown_keys(it.value(), path, keys_of(fields), issues);
        DatasetEntry spec;
        spec.name = it.key();
        spec.label = it.key();
        for (const auto& f : fields) {
            if (!it.value().contains(f.key)) continue;
            const std::string message = f.read(it.value().at(f.key), spec);
            if (!message.empty()) issues.add(child_path(path, f.key), message);
        }
        if (!it.value().contains("path"))
            issues.add(child_path(path, "path"), "missing: expected the data file's path");
        registry[spec.name] = spec;
    }
    return registry;
}

std::string resolve_data_root(const json& document, const ParseOptions& options) {
    const fs::path base = options.base_dir.empty() ? fs::current_path() : fs::absolute(options.base_dir);
    fs::path root;
    if (!options.data_root_override.empty()) {
        root = fs::absolute(options.data_root_override);
    } else if (document.contains("data_root") && document.at("data_root").is_string() &&
               !document.at("data_root").get<std::string>().empty()) {
        root = document.at("data_root").get<std::string>();
        if (root == kDemoDataRoot) root = default_demo_cache_dir();
        if (root.is_relative()) root = base / root;
    } else {
        root = base;
    }
    std::string text = root.lexically_normal().string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

// A field given where the experiment varies it: a list for a scalar field, a list of lists
// for a list-valued one.
bool is_sweep_shape(const Field<RunConfig>& field, const json& value) {
    if (!value.is_array()) return false;
    if (!field.list_valued) return true;
    if (value.empty()) return false;
    return std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_array(); });
}

struct PresentField {
    const Field<RunConfig>* field = nullptr;
    std::string key;  // "rilq.lora_r"
    std::string path; // "$.rilq.lora_r"
    const json* value = nullptr;
    int axis = -1; // index into the sweep axes, -1 when not swept
};

struct Axis {
    std::string key;
    std::string path;
    std::vector<json> values;
};

std::string display_value(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array()) {
        std::string out;
        for (const auto& item : v)
            out += (out.empty() ? "" : "+") + display_value(item);
        return out;
    }
    return v.dump();
}

std::string leaf(const std::string& dotted) {
    const size_t dot = dotted.rfind('.');
    return dot == std::string::npos ? dotted : dotted.substr(dot + 1);
}

std::string make_run_name(const std::vector<Axis>& axes, const std::vector<size_t>& choice) {
    std::string name;
    for (size_t a = 0; a < axes.size(); ++a) {
        // Leaf names read best ("lora_r=16"); the full key only where two axes share a leaf.
        bool clash = false;
        for (size_t b = 0; b < axes.size(); ++b)
            clash = clash || (b != a && leaf(axes[b].key) == leaf(axes[a].key));
        std::string value = display_value(axes[a].values[choice[a]]);
        std::replace(value.begin(), value.end(), '/', '_'); // run names become folder names
        name += (name.empty() ? "" : ",") + (clash ? axes[a].key : leaf(axes[a].key)) + "=" + value;
    }
    return name;
}

// eval.tasks: names from core's task list; what each task accepts.
void check_tasks(const RunConfig& c, const std::string& tasks_path, IssueList& issues) {
    std::vector<std::string> names;
    for (const TaskInfo& info : task_infos())
        names.push_back(info.name);
    for (const auto& [name, spec] : c.eval.tasks) {
        const std::string path = tasks_path + "." + name;
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            const std::string hint = closest_match(name, names);
            issues.add(path, "unknown task \"" + name + "\"" +
                                 (hint.empty() ? "" : ", did you mean \"" + hint + "\"?") + " (expected " +
                                 one_of_text(names) + ")");
            continue;
        }
        const TaskInfo& info = task_info(name);
        if (spec.path.empty())
            issues.add(path + ".path", "missing: expected the task's data (" + info.data_format + ")");
        if (info.family != TaskFamily::Mmlu && spec.shots > 0)
            issues.add(path + ".shots", "expected 0 or -1 (" + name + " is zero-shot only), found " +
                                            std::to_string(spec.shots));
        if (info.family != TaskFamily::Mmlu && !spec.subjects.empty())
            issues.add(path + ".subjects", "expected no subjects (they apply to mmlu only), found " +
                                               std::to_string(spec.subjects.size()));
    }
}

// The finetune section: its own fields' ranges, and adapters for it to train.
template <class PathOf, class AddAtSweptPath>
void check_finetune(const RunConfig& c, PathOf path_of, AddAtSweptPath add_at_swept_path, IssueList& issues) {
    if (!c.finetunes()) return;
    for (auto& problem : c.finetune.sft.problems("$.finetune"))
        add_at_swept_path(std::move(problem));
    for (auto& problem : c.finetune.train.problems("$.finetune"))
        add_at_swept_path(std::move(problem));
    if (is_closed_form(c.finetune.train.lora.init))
        issues.add(path_of("finetune.lora_init"),
                   "expected a random init for fine-tuning's fresh adapters (the closed forms initialise "
                   "the compensation: rilq.lora_init), found \"" +
                       to_string(c.finetune.train.lora.init) + "\"");
    if (c.train.lora.r == 0 && c.finetune.train.lora.r == 0)
        issues.add(
            path_of("finetune.lora_r"),
            "expected a positive rank for fresh adapters (rilq.lora_r is 0, so fine-tuning starts from "
            "none), found 0");
}

// Checks that involve several fields. `path_of` gives a field's JSON path, with the sweep
// index when that field is swept at this point.
template <class PathOf>
void check_cross_fields(RunConfig& c, const json& document, PathOf path_of, IssueList& issues) {
    // With no usable $.datasets every reference would fail too: one message is enough.
    const bool registry_ok = !document.contains("datasets") || document.at("datasets").is_object();
    const json& rilq =
        document.contains("rilq") && document.at("rilq").is_object() ? document.at("rilq") : json();
    if (c.model.base_model.empty()) {
        issues.add(path_of("rilq.base_model"), rilq.contains("base_model")
                                                   ? "expected a path to the full-precision model, found \"\""
                                                   : "missing: expected a path to the full-precision model");
    }
    const std::string& method = c.quant.method;
    if (!c.quantizes() && c.model.q_model.empty()) {
        issues.add(path_of("rilq.q_model"),
                   "missing: expected a fake-quantized model when $.quant.method is \"none\" (or set "
                   "$.quant.method to quantize on the fly)");
    }
    if (c.quantizes() && !c.model.q_model.empty()) {
        issues.add(path_of("rilq.q_model"), "expected no q_model when $.quant.method is \"" + method +
                                                "\" (the quantized model is made on the fly), found \"" +
                                                c.model.q_model + "\"");
    }
    if (!c.quantizes() && c.train.lora.init == LoraInit::Loftq && c.train.lora.r > 0) {
        issues.add(path_of("rilq.lora_init"),
                   "expected a quantizer for \"loftq\" (it re-quantizes W - s B A every round with "
                   "$.quant.method), found $.quant.method \"none\" with a fixed q_model");
    }
    if (!c.quantizes() && !c.quant.variant.empty()) {
        issues.add(path_of("quant.variant"),
                   "expected no variant when $.quant.method is \"none\", found \"" + c.quant.variant + "\"");
    }
    // What the method accepts (variants, bits, grouping) and what the trainer accepts, with the
    // JSON path of the swept value where the field is swept.
    const auto add_at_swept_path = [&](Problem problem) {
        std::string key = problem.path.substr(2); // "$.quant.bits[2]" -> "quant.bits[2]"
        const size_t bracket = key.find('[');
        const std::string rest = bracket == std::string::npos ? "" : key.substr(bracket);
        if (bracket != std::string::npos) key.resize(bracket);
        issues.add(path_of(key) + rest, problem.message);
    };
    if (c.quantizes()) {
        for (auto& problem : c.quant.problems("$.quant"))
            add_at_swept_path(std::move(problem));
        c.quant.variant = c.quant.resolved_variant();
    }
    for (auto& problem : c.train.problems("$.rilq"))
        add_at_swept_path(std::move(problem));
    check_finetune(c, path_of, add_at_swept_path, issues);
    check_tasks(c, path_of("eval.tasks"), issues);

    std::vector<std::string> names;
    for (const auto& [name, spec] : c.datasets)
        names.push_back(name);
    const auto unknown_dataset = [&](const std::string& name) {
        const std::string hint = closest_match(name, names);
        std::string message = "unknown dataset \"" + name + "\"";
        if (!hint.empty()) message += ", did you mean \"" + hint + "\"?";
        message += names.empty() ? " (define it in $.datasets)"
                                 : " (expected a name from $.datasets: " + one_of_text(names).substr(7) + ")";
        return message;
    };
    for (const auto& name : split_dataset_list(c.calib.datasets)) {
        if (registry_ok && !c.datasets.count(name))
            issues.add(path_of("rilq.calib_dataset"), unknown_dataset(name));
    }
    for (size_t i = 0; i < c.eval.datasets.size(); ++i) {
        const auto& name = c.eval.datasets[i];
        const std::string path = path_of("eval.datasets") + "[" + std::to_string(i) + "]";
        if (registry_ok && !c.datasets.count(name)) issues.add(path, unknown_dataset(name));
        if (std::find(c.eval.datasets.begin(), c.eval.datasets.begin() + static_cast<long>(i), name) !=
            c.eval.datasets.begin() + static_cast<long>(i)) {
            issues.add(path, "expected each dataset once, found \"" + name + "\" again");
        }
    }

    // The official split: the last floor(N * ratio) windows validate, the rest train.
    const auto n_val = static_cast<int64_t>(
        std::floor(static_cast<double>(c.calib.num_samples) * c.calib.options.val_ratio));
    const int64_t n_train = c.calib.num_samples - n_val;
    if (c.train.approx_early_stop && n_val == 0) {
        std::ostringstream found;
        found << c.calib.options.val_ratio;
        issues.add(path_of("rilq.calib_val_ratio"),
                   "expected a ratio that leaves validation windows for early stopping (floor(" +
                       std::to_string(c.calib.num_samples) + " x ratio) = 0), found " + found.str());
    }
    if (c.train.approx_batch_size > n_train) {
        issues.add(path_of("rilq.approx_batch_size"), "expected at most the " + std::to_string(n_train) +
                                                          " training windows, found " +
                                                          std::to_string(c.train.approx_batch_size));
    }
}

struct Expansion {
    ExperimentConfig experiment;
    IssueList issues;
};

Expansion expand(const json& given, const ParseOptions& options) {
    Expansion out;
    IssueList& issues = out.issues;
    json document = given;
    for (const auto& assignment : options.overrides) {
        try {
            apply_override(document, assignment);
        } catch (const Error& e) {
            issues.add("--set " + assignment, e.what());
        }
    }
    if (!document.is_object()) {
        issues.add("$", expected("an object", document));
        return out;
    }
    out.experiment.document_json = document.dump();
    out.experiment.data_root = resolve_data_root(document, options);

    check_unknown_keys(document, "$", top_level_keys(), issues);
    const auto registry = parse_datasets(document, issues);

    // The fields present in the document, in schema order, and the sweep axes among them.
    std::vector<PresentField> present;
    std::vector<Axis> axes;
    for (const auto& section : run_sections()) {
        const json* object = &document;
        if (!section.key.empty()) {
            if (!document.contains(section.key)) continue;
            object = &document.at(section.key);
            if (!object->is_object()) {
                issues.add(section_path(section.key), expected("an object", *object));
                continue;
            }
            check_unknown_keys(*object, section_path(section.key), keys_of(section.fields), issues);
        }
        for (const auto& field : section.fields) {
            if (!object->contains(field.key)) continue;
            PresentField p;
            p.field = &field;
            p.key = section.key.empty() ? field.key : section.key + "." + field.key;
            p.path = "$." + p.key;
            p.value = &object->at(field.key);
            if (is_sweep_shape(field, *p.value)) {
                if (!field.sweepable) {
                    RunConfig scratch;
                    issues.add(p.path, field.read(*p.value, scratch) + " (this field cannot be swept)");
                    continue;
                }
                if (p.value->empty()) {
                    issues.add(p.path, expected("a value or a non-empty list of values to sweep", *p.value));
                    continue;
                }
                Axis axis{p.key, p.path, {}};
                for (size_t i = 0; i < p.value->size(); ++i) {
                    const json& v = (*p.value)[i];
                    for (size_t j = 0; j < i; ++j) {
                        if ((*p.value)[j] == v) {
                            issues.add(p.path + "[" + std::to_string(i) + "]",
                                       "expected distinct sweep values, found " + found_text(v) +
                                           " again (as [" + std::to_string(j) + "])");
                        }
                    }
                    axis.values.push_back(v);
                }
                p.axis = static_cast<int>(axes.size());
                axes.push_back(std::move(axis));
            }
            present.push_back(p);
        }
    }

    size_t total = 1;
    for (const auto& axis : axes) {
        total *= axis.values.size();
        if (total > kMaxSweepRuns) {
            issues.add("$", "expected at most " + std::to_string(kMaxSweepRuns) +
                                " runs in one experiment, found a sweep of more (check the lists)");
            return out;
        }
    }

    if (!document.contains("name")) issues.add("$.name", "missing: expected the experiment's name");
    for (size_t point = 0; point < total; ++point) {
        // Mixed-radix digits of `point`, the first axis the most significant (varies slowest).
        std::vector<size_t> choice(axes.size());
        size_t rest = point;
        for (size_t a = axes.size(); a-- > 0;) {
            choice[a] = rest % axes[a].values.size();
            rest /= axes[a].values.size();
        }
        RunConfig c;
        c.datasets = registry;
        for (const auto& p : present) {
            const json& value =
                p.axis >= 0 ? axes[static_cast<size_t>(p.axis)].values[choice[static_cast<size_t>(p.axis)]]
                            : *p.value;
            const std::string path =
                p.axis >= 0 ? p.path + "[" + std::to_string(choice[static_cast<size_t>(p.axis)]) + "]"
                            : p.path;
            const std::string message = p.field->read(value, c);
            if (!message.empty()) issues.add(path, message);
        }
        c.data_root = out.experiment.data_root;
        const auto path_of = [&](const std::string& key) {
            for (size_t a = 0; a < axes.size(); ++a) {
                if (axes[a].key == key) return axes[a].path + "[" + std::to_string(choice[a]) + "]";
            }
            return "$." + key;
        };
        check_cross_fields(c, document, path_of, issues);
        c.index = static_cast<int>(point);
        c.run_name = axes.empty() ? c.experiment : make_run_name(axes, choice);
        for (size_t a = 0; a < axes.size(); ++a)
            c.swept.emplace_back(axes[a].key, display_value(axes[a].values[choice[a]]));
        if (issues.empty()) c.config_hash = compute_config_hash(c);
        out.experiment.runs.push_back(std::move(c));
    }

    if (!out.experiment.runs.empty()) {
        out.experiment.name = out.experiment.runs.front().experiment;
        out.experiment.description = out.experiment.runs.front().description;
    }
    for (const auto& axis : axes) {
        SweepAxis s{axis.key, {}};
        for (const auto& v : axis.values)
            s.values.push_back(v.dump());
        out.experiment.sweep.push_back(std::move(s));
    }
    return out;
}

} // namespace

ConfigError::ConfigError(const std::string& source, std::vector<ConfigIssue> issues)
    : Error(describe_problems(source, issues)), issues_(std::move(issues)) {}

std::vector<ConfigIssue> validate_experiment(const json& document, const ParseOptions& options) {
    return expand(document, options).issues.items();
}

ExperimentConfig parse_experiment(const json& document, const ParseOptions& options) {
    Expansion e = expand(document, options);
    if (!e.issues.empty()) throw ConfigError("experiment", e.issues.items());
    return std::move(e.experiment);
}

ExperimentConfig parse_experiment_text(const std::string& json_text, const ParseOptions& options,
                                       const std::string& source_name) {
    json document;
    try {
        document = parse_json(json_text, source_name); // nesting depth bounded (core/util/json_read.h)
    } catch (const JsonParseError& e) {
        throw ConfigError(source_name, {{"$", "invalid JSON: " + e.detail()}});
    }
    Expansion e = expand(document, options);
    if (!e.issues.empty()) throw ConfigError(source_name, e.issues.items());
    return std::move(e.experiment);
}

ExperimentConfig parse_experiment_file(const std::string& path, ParseOptions options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open experiment file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (options.base_dir.empty()) options.base_dir = fs::absolute(path).parent_path().string();
    ExperimentConfig experiment = parse_experiment_text(text.str(), options, path);
    experiment.source_path = path;
    return experiment;
}

void apply_override(json& document, const std::string& assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw Error("expected key=value (e.g. rilq.lora_r=16), found \"" + assignment + "\"");
    }
    const std::string key = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    json value;
    try {
        value = parse_json(text, "--set " + key);
    } catch (const JsonParseError&) {
        if (json::accept(text)) throw; // valid but nested too deeply
        value = text;                  // a bare word is a string: rilq.a_type=logit
    }

    if (!document.is_object()) document = json::object();
    json* node = &document;
    std::string path = "$";
    size_t start = 0;
    while (true) {
        const size_t dot = key.find('.', start);
        const std::string part =
            key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty()) throw Error("expected a dotted key like rilq.lora_r, found \"" + key + "\"");
        path += "." + part;
        if (dot == std::string::npos) {
            (*node)[part] = value;
            return;
        }
        json& child = (*node)[part];
        if (child.is_null()) child = json::object();
        if (!child.is_object()) throw Error(path + " is " + found_text(child) + ", not an object");
        node = &child;
        start = dot + 1;
    }
}

} // namespace rilq::run
