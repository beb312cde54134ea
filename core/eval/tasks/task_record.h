// Task results as the run store keeps them (core/store/run_types.h TaskScore): the headline
// numbers, the protocol as JSON, and MMLU's category / subcategory / subject scores; and one
// evaluation (`rilq eval --record`) recorded as a run of its own.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/eval/tasks/task.h"
#include "core/store/run_types.h"

namespace rilq {

namespace store {
class RunStore;
}

store::TaskScore task_score_record(const TaskResult& result, const std::string& stage);

// A finished evaluation as a run: what was evaluated (params) and under which stage its scores go.
struct TaskEvaluationRun {
    std::string experiment; // created on first use
    std::string name;       // the run's name ("stories260K.bin")
    std::string stage;      // fp | quantized | compensated
    std::vector<std::pair<std::string, std::string>> params;
};

// What a run list shows of a run's task scores: per task "<task>" = acc and, where the task
// defines it, "<task> acc_norm", taken from the run's last stage that scored the task
// (compensated, else quantized, else fp: the model the run produced). In task_infos() order.
std::vector<std::pair<std::string, double>> task_score_columns(const std::vector<store::TaskScore>& scores);

// Creates the run (tag kind=eval), logs every task result and perplexity (their stage is set to
// run.stage) and marks it FINISHED; returns its uuid. Called once the evaluation is complete, so
// a failed or cancelled evaluation leaves no half-recorded run; a store error while logging
// marks the run FAILED and is rethrown.
std::string record_task_evaluation(store::RunStore& store, const TaskEvaluationRun& run,
                                   const std::vector<TaskResult>& results,
                                   std::vector<store::EvalResult> perplexity = {});

} // namespace rilq
