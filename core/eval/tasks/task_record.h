// A task result as the run store keeps it (core/store/run_types.h TaskScore): the headline
// numbers, the protocol as JSON, and MMLU's category / subcategory / subject scores. A runner
// stage evaluating tasks calls this and RunStore::log_task_score.
#pragma once
#include <string>

#include "core/eval/tasks/task.h"
#include "core/store/run_types.h"

namespace rilq {

store::TaskScore task_score_record(const TaskResult& result, const std::string& stage);

} // namespace rilq
