#include "core/eval/tasks/sample_log.h"

#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

namespace rilq {

nlohmann::json sample_json(const TaskResult& result, const ItemRecord& item) {
    nlohmann::json j = {{"task", result.protocol.task}, {"id", item.id}};
    const bool mmlu = task_info(result.protocol.task).family == TaskFamily::Mmlu;
    if (mmlu) {
        j["shots"] = item.shots;
        j["prompt_tokens"] = item.prompt_tokens;
        j["truncated"] = item.truncated;
    } else {
        j["prompt_tokens"] = item.prompt_tokens;
    }
    j["gold"] = item.gold;
    j["pred"] = item.pred;
    j["acc"] = item.pred == item.gold ? 1 : 0;
    if (item.pred_norm >= 0) {
        j["pred_norm"] = item.pred_norm;
        j["acc_norm"] = item.pred_norm == item.gold ? 1 : 0;
    }
    if (mmlu) {
        j["probs"] = item.scores;
    } else {
        j["loglikelihoods"] = item.scores;
        j["continuation_tokens"] = item.continuation_tokens;
        j["is_greedy"] = item.is_greedy;
    }
    return j;
}

void write_sample_log(const std::string& path, const std::vector<TaskResult>& results) {
    write_file_atomic(path, [&](std::ostream& out) {
        for (const TaskResult& r : results)
            for (const ItemRecord& item : r.items)
                out << sample_json(r, item).dump() << '\n';
    });
}

} // namespace rilq
