#include "core/eval/tasks/task_record.h"

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

} // namespace rilq
