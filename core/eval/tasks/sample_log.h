// The per-item log (`rilq eval --log-samples FILE.jsonl`), like lm-eval's --log_samples: one
// JSON object per line and item, so every accuracy can be audited:
//   mmlu              {"task","id","shots","prompt_tokens","truncated","gold","pred","acc","probs":[A..D]}
//   multiple choice   {"task","id","prompt_tokens","gold","pred","acc",["pred_norm","acc_norm",]
//                      "loglikelihoods":[...],"continuation_tokens":[...],"is_greedy":[...]}
// gold and pred are 0-based choice indices. The file is written whole or not at all.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/eval/tasks/task.h"

namespace rilq {

nlohmann::json sample_json(const TaskResult& result, const ItemRecord& item);
void write_sample_log(const std::string& path, const std::vector<TaskResult>& results);

} // namespace rilq
