#include "core/eval/tasks/task_record.h"

#include "core/store/run_stages.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace rilq {

store::TaskScore task_score_record(const TaskResult& r, const std::string& stage) {
    store::TaskScore t;
    t.task = r.protocol.task;
    t.stage = stage;
    t.n = r.n;
    t.acc = r.acc;
    t.acc_stderr = r.acc_stderr;
    t.acc_norm = r.acc_norm;
    t.acc_norm_stderr = r.acc_norm_stderr;
    t.shots = r.protocol.shots;
    t.data_sha256 = r.protocol.data_sha256;
    t.tokenizer = r.protocol.tokenizer_kind + ":" + r.protocol.tokenizer_path;
    t.bos = r.protocol.bos_rule;
    t.max_length = r.protocol.max_length;
    t.protocol_json = nlohmann::json(r.protocol).dump();
    for (const auto& [kind, groups] :
         {std::make_pair("category", &r.categories), std::make_pair("subcategory", &r.subcategories),
          std::make_pair("subject", &r.subjects)})
        for (const GroupScore& g : *groups)
            t.groups.push_back({kind, g.name, g.n, g.acc});
    return t;
}

std::vector<std::pair<std::string, double>> task_score_columns(const std::vector<store::TaskScore>& scores) {
    const auto& stages = store::run_stages();
    const auto stage_rank = [&](const std::string& stage) {
        return std::find(stages.begin(), stages.end(), stage) - stages.begin();
    };
    std::vector<std::pair<std::string, double>> columns;
    for (const TaskInfo& info : task_infos()) {
        const store::TaskScore* chosen = nullptr;
        for (const store::TaskScore& s : scores)
            if (s.task == info.name && (!chosen || stage_rank(s.stage) > stage_rank(chosen->stage)))
                chosen = &s;
        if (!chosen) continue;
        columns.emplace_back(info.name, chosen->acc);
        if (!std::isnan(chosen->acc_norm)) columns.emplace_back(info.name + " acc_norm", chosen->acc_norm);
    }
    return columns;
}

std::string record_task_evaluation(store::RunStore& store, const TaskEvaluationRun& run,
                                   const std::vector<TaskResult>& results,
                                   std::vector<store::EvalResult> perplexity) {
    if (run.experiment.empty()) throw Error("recording an evaluation needs an experiment name");
    // The stage is checked before a run exists, so a bad one leaves nothing behind.
    store::check_run_stage(run.stage, "evaluation");
    std::vector<store::TaskScore> scores;
    for (const TaskResult& r : results)
        scores.push_back(task_score_record(r, run.stage));
    for (store::EvalResult& e : perplexity)
        e.stage = run.stage;
    store::NewRun created;
    created.experiment = run.experiment;
    created.name = run.name;
    created.params = run.params;
    created.tags = {{"kind", "eval"}};
    const std::string uuid = store.create_run(created);
    store.start_run(uuid);
    try {
        for (const store::EvalResult& e : perplexity)
            store.log_eval_result(uuid, e);
        for (const store::TaskScore& s : scores)
            store.log_task_score(uuid, s);
        store.end_run(uuid, store::RunStatus::Finished);
    } catch (const std::exception& e) {
        store.end_run(uuid, store::RunStatus::Failed, e.what());
        throw;
    }
    return uuid;
}

} // namespace rilq
