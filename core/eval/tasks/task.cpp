// The task list, spec parsing, the shared protocol fields and the JSON form of results (task.h);
// load_task is in load_task.cpp (it reaches the torch side).
#include "core/eval/tasks/task.h"

#include "core/eval/tasks/task_files.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/did_you_mean.h"
#include "core/util/error.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace rilq {

const std::vector<TaskInfo>& task_infos() {
    static const std::vector<TaskInfo> infos = {
        {"mmlu", TaskFamily::Mmlu,
         "MMLU k-shot, IR-QLoRA's evaluate_mmlu.py protocol (57 subjects, 4 letters)",
         "folder with dev/<subject>_dev.csv and test/<subject>_test.csv (MMLU's data.tar)", "", "mmlu", 5,
         false, true},
        {"arc_easy", TaskFamily::MultipleChoice, "ARC-Easy test, zero-shot (lm-eval arc_easy)",
         "AI2 ARC JSON Lines (ARC-Easy-Test.jsonl) or its folder", "ARC-Easy-Test.jsonl",
         "tasks/arc/ARC-Easy-Test.jsonl", 0, true, false},
        {"arc_challenge", TaskFamily::MultipleChoice, "ARC-Challenge test, zero-shot (lm-eval arc_challenge)",
         "AI2 ARC JSON Lines (ARC-Challenge-Test.jsonl) or its folder", "ARC-Challenge-Test.jsonl",
         "tasks/arc/ARC-Challenge-Test.jsonl", 0, true, false},
        {"piqa", TaskFamily::MultipleChoice, "PIQA validation, zero-shot (lm-eval piqa)",
         "valid.jsonl with valid-labels.lst beside it (or \"label\" fields), or their folder", "valid.jsonl",
         "tasks/piqa/valid.jsonl", 0, true, false},
        {"hellaswag", TaskFamily::MultipleChoice, "HellaSwag validation, zero-shot (lm-eval hellaswag)",
         "rowanz/hellaswag hellaswag_val.jsonl or its folder", "hellaswag_val.jsonl", "", 0, true, false},
        {"winogrande", TaskFamily::MultipleChoice,
         "WinoGrande (xl) validation, zero-shot, partial scoring (acc only)",
         "winogrande_1.1 dev.jsonl or its folder", "dev.jsonl", "", 0, false, false},
        {"boolq", TaskFamily::MultipleChoice,
         "BoolQ validation, zero-shot (lm-eval super_glue boolq, acc only)",
         "SuperGLUE BoolQ val.jsonl or its folder", "val.jsonl", "", 0, false, false},
    };
    return infos;
}

const TaskInfo& task_info(const std::string& name) {
    std::vector<std::string> names;
    for (const TaskInfo& info : task_infos()) {
        if (info.name == name) return info;
        names.push_back(info.name);
    }
    std::string known;
    for (const auto& n : names)
        known += (known.empty() ? "" : ", ") + n;
    const std::string close = closest_match(name, names);
    throw Error("unknown task \"" + name + "\"" +
                (close.empty() ? "" : " (did you mean \"" + close + "\"?)") + "; known tasks: " + known);
}

TaskSpec parse_task_spec(const std::string& arg) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos)
        throw Error("task \"" + arg + "\": expected NAME=PATH (for example mmlu=DIR)");
    TaskSpec spec;
    spec.name = task_info(arg.substr(0, eq)).name;
    spec.path = arg.substr(eq + 1);
    if (spec.path.empty()) throw Error("task \"" + arg + "\": empty PATH");
    return spec;
}

TaskProtocol base_protocol(const TaskInfo& info, const TaskSpec& spec,
                           const std::vector<std::pair<std::string, std::string>>& files,
                           const Tokenizer& tokenizer, int64_t shots, int64_t n_items, int64_t max_length,
                           std::string scoring) {
    TaskProtocol p;
    p.task = info.name;
    p.path = spec.path;
    p.files = files;
    p.data_sha256 = combined_sha256(files);
    p.shots = shots;
    p.limit = spec.limit;
    p.n_items = n_items;
    p.tokenizer_kind = tokenizer.kind();
    p.tokenizer_path = tokenizer.path();
    p.bos_rule = spec.bos.value_or(info.default_bos) ? "bos" : "none";
    p.max_length = max_length;
    p.scoring = std::move(scoring);
    return p;
}

namespace {

// JSON has no NaN: a metric a task does not define is null.
nlohmann::json json_number_or_null(double v) {
    return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

nlohmann::json group_scores_json(const std::vector<GroupScore>& groups) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& g : groups)
        out.push_back({{"name", g.name}, {"n", g.n}, {"acc", g.acc}});
    return out;
}

} // namespace

void to_json(nlohmann::json& j, const TaskProtocol& p) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& [file, sha] : p.files)
        files.push_back({{"file", file}, {"sha256", sha}});
    j = {{"task", p.task},
         {"path", p.path},
         {"data_sha256", p.data_sha256},
         {"files", files},
         {"shots", p.shots},
         {"limit", p.limit},
         {"n_items", p.n_items},
         {"tokenizer_kind", p.tokenizer_kind},
         {"tokenizer_path", p.tokenizer_path},
         {"bos", p.bos_rule},
         {"max_length", p.max_length},
         {"scoring", p.scoring}};
    // Items whose prompt or continuation was cut to max_length (every task can have them).
    j["n_truncated"] = p.n_truncated;
    if (!p.subjects.empty()) {
        j["subjects"] = p.subjects;
        j["n_fewer_shots"] = p.n_fewer_shots;
    }
}

void to_json(nlohmann::json& j, const TaskResult& r) {
    j = {{"task", r.protocol.task},
         {"n", r.n},
         {"acc", json_number_or_null(r.acc)},
         {"acc_stderr", json_number_or_null(r.acc_stderr)},
         {"acc_norm", json_number_or_null(r.acc_norm)},
         {"acc_norm_stderr", json_number_or_null(r.acc_norm_stderr)},
         {"seconds", r.seconds},
         {"items_per_s", r.items_per_s},
         {"protocol", r.protocol}};
    if (!r.categories.empty() || !r.subjects.empty()) {
        j["categories"] = group_scores_json(r.categories);
        j["subcategories"] = group_scores_json(r.subcategories);
        j["subjects"] = group_scores_json(r.subjects);
    }
}

} // namespace rilq
