#include "core/run/prepared_artifact.h"

#include "core/io/hf_checkpoint.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/run/run_settings.h"
#include "core/util/atomic_dir.h"
#include "core/util/checked_file.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;

namespace rilq::run {

namespace {

constexpr int kPreparedFormat = 1;

nlohmann::json evals_json(const std::vector<store::EvalResult>& evals) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : evals)
        out.push_back({{"dataset", e.dataset},
                       {"stage", e.stage},
                       {"file_sha256", e.file_sha256},
                       {"tokenizer", e.tokenizer},
                       {"seqlen", e.seqlen},
                       {"n_windows", e.n_windows},
                       {"n_tokens", e.n_tokens},
                       {"ppl", e.ppl}});
    return out;
}

std::vector<store::EvalResult> evals_from(const nlohmann::json& j) {
    std::vector<store::EvalResult> out;
    for (const auto& e : j) {
        store::EvalResult r;
        r.dataset = e.at("dataset").get<std::string>();
        r.stage = e.at("stage").get<std::string>();
        r.file_sha256 = e.at("file_sha256").get<std::string>();
        r.tokenizer = e.at("tokenizer").get<std::string>();
        r.seqlen = e.at("seqlen").get<int>();
        r.n_windows = e.at("n_windows").get<int64_t>();
        r.n_tokens = e.at("n_tokens").get<int64_t>();
        r.ppl = e.at("ppl").get<double>();
        out.push_back(r);
    }
    return out;
}

// NaN (a metric the task does not define) is null in JSON and NaN again when read back.
nlohmann::json number_or_null(double v) {
    return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

double number_from(const nlohmann::json& j) {
    return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

nlohmann::json task_scores_json(const std::vector<store::TaskScore>& scores) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : scores) {
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& g : t.groups)
            groups.push_back(
                {{"kind", g.kind}, {"name", g.name}, {"n", g.n}, {"acc", number_or_null(g.acc)}});
        out.push_back({{"task", t.task},
                       {"stage", t.stage},
                       {"n", t.n},
                       {"acc", number_or_null(t.acc)},
                       {"acc_stderr", number_or_null(t.acc_stderr)},
                       {"acc_norm", number_or_null(t.acc_norm)},
                       {"acc_norm_stderr", number_or_null(t.acc_norm_stderr)},
                       {"shots", t.shots},
                       {"data_sha256", t.data_sha256},
                       {"tokenizer", t.tokenizer},
                       {"bos", t.bos},
                       {"max_length", t.max_length},
                       {"protocol_json", t.protocol_json},
                       {"groups", groups}});
    }
    return out;
}

std::vector<store::TaskScore> task_scores_from(const nlohmann::json& j) {
    std::vector<store::TaskScore> out;
    for (const auto& e : j) {
        store::TaskScore t;
        t.task = e.at("task").get<std::string>();
        t.stage = e.at("stage").get<std::string>();
        t.n = e.at("n").get<int64_t>();
        t.acc = number_from(e.at("acc"));
        t.acc_stderr = number_from(e.at("acc_stderr"));
        t.acc_norm = number_from(e.at("acc_norm"));
        t.acc_norm_stderr = number_from(e.at("acc_norm_stderr"));
        t.shots = e.at("shots").get<int64_t>();
        t.data_sha256 = e.at("data_sha256").get<std::string>();
        t.tokenizer = e.at("tokenizer").get<std::string>();
        t.bos = e.at("bos").get<std::string>();
        t.max_length = e.at("max_length").get<int64_t>();
        t.protocol_json = e.at("protocol_json").get<std::string>();
        for (const auto& g : e.at("groups"))
            t.groups.push_back({g.at("kind").get<std::string>(), g.at("name").get<std::string>(),
                                g.at("n").get<int64_t>(), number_from(g.at("acc"))});
        out.push_back(t);
    }
    return out;
}

TargetType prepared_target_type(const std::string& name) {
    for (const auto& [type, spelled] : target_type_names())
        if (spelled == name) return type;
    throw Error("unknown targets_type \"" + name + "\"");
}

std::string dtype_name(torch::Dtype dtype) {
    if (dtype == torch::kBFloat16) return "bfloat16";
    if (dtype == torch::kFloat16) return "float16";
    return "float32";
}

} // namespace
void save_preparation(const Preparation& p, const std::string& dir) {
    if (!p.student) throw Error("save_preparation: the preparation has no student model");
    nlohmann::json stats = nlohmann::json::array();
    for (const auto& s : p.quantized_stats)
        stats.push_back({s.stage, s.layer, s.module, s.metric, s.value});
    nlohmann::json doc = {{"format", kPreparedFormat},
                          {"key", p.key},
                          {"targets_key", p.targets_key},
                          {"base_model", p.base_model},
                          {"calibration", p.calibration_description},
                          {"fp_evals", evals_json(p.fp_evals)},
                          {"quantized_evals", evals_json(p.quantized_evals)},
                          {"fp_tasks", task_scores_json(p.fp_tasks)},
                          {"quantized_tasks", task_scores_json(p.quantized_tasks)},
                          {"quantized_stats", stats},
                          {"quant_stats", p.quant_stats_json ? *p.quant_stats_json : nlohmann::json()},
                          {"targets_type", p.targets ? to_string(p.targets->train.type()) : std::string()}};
    // A folder of the job's own; never written over (ReplaceRule without a recogniser).
    write_dir_atomic(dir, ReplaceRule{"a shared preparation", nullptr}, [&](const std::string& tmp) {
        save_hf_model(*p.student, tmp + "/student", dtype_name(p.student->options().compute_dtype));
        std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"train_ids", p.train_ids},
                                                                      {"val_ids", p.val_ids}};
        if (p.targets) {
            tensors.emplace_back("targets.train", p.targets->train.all());
            tensors.emplace_back("targets.val", p.targets->val.all());
        }
        save_safetensors(tmp + "/tensors.safetensors", tensors);
        write_file_checked(tmp + "/preparation.json", doc.dump(1) + "\n");
    });
}

std::unique_ptr<Preparation> load_preparation(const std::string& dir, const RunConfig& config,
                                              const ProgressSink& progress) {
    const std::string manifest = dir + "/preparation.json";
    std::ifstream in(manifest);
    if (!in) throw Error(manifest + ": no prepared folder here (did the preparation job finish?)");
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in);
        if (doc.at("format").get<int>() != kPreparedFormat)
            throw Error("format " + doc.at("format").dump() + ", this rilq reads " +
                        std::to_string(kPreparedFormat));
    } catch (const std::exception& e) {
        throw Error(manifest + ": unreadable: " + e.what());
    }
    std::unique_ptr<Preparation> p = prepare_inputs(config, progress);
    if (doc.at("key").get<std::string>() != p->key)
        throw Error(dir + " was prepared for other settings than run " + config.run_name +
                    " (model, quantizer, calibration or eval differ)");
    const SafetensorsFile tensors(dir + "/tensors.safetensors");
    for (const auto& [name, mine] :
         {std::pair{"train_ids", &p->train_ids}, std::pair{"val_ids", &p->val_ids}})
        if (!torch::equal(tensors.tensor(name), *mine))
            throw Error(dir + ": its " + name +
                        " are not the calibration windows this run builds (the data changed?)");
    try {
        p->calibration_description = doc.at("calibration").get<std::string>();
        p->fp_evals = evals_from(doc.at("fp_evals"));
        p->quantized_evals = evals_from(doc.at("quantized_evals"));
        p->fp_tasks = task_scores_from(doc.at("fp_tasks"));
        p->quantized_tasks = task_scores_from(doc.at("quantized_tasks"));
        for (const auto& s : doc.at("quantized_stats"))
            p->quantized_stats.push_back({s.at(0).get<std::string>(), s.at(1).get<int>(),
                                          s.at(2).get<std::string>(), s.at(3).get<std::string>(),
                                          s.at(4).get<double>()});
        if (!doc.at("quant_stats").is_null()) p->quant_stats_json = doc.at("quant_stats");
        const std::string targets_type = doc.at("targets_type").get<std::string>();
        if (!targets_type.empty()) {
            const TargetType type = prepared_target_type(targets_type);
            p->targets = CachedTargets{TeacherTargets::from_tensor(tensors.tensor("targets.train"), type),
                                       TeacherTargets::from_tensor(tensors.tensor("targets.val"), type)};
            p->targets_key = doc.at("targets_key").get<std::string>();
        }
    } catch (const std::exception& e) {
        throw Error(manifest + ": unreadable: " + e.what());
    }
    p->student =
        std::make_unique<LlamaModel>(load_model(dir + "/student", model_options_of(config), progress));
    return p;
}

} // namespace rilq::run
