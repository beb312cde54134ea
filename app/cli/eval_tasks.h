// The task half of `rilq eval`: --task NAME=PATH (repeatable) with --shots, --limit, --subjects,
// --bos, --log-samples, --no-prefix-reuse; and --record EXPERIMENT [--stage S] [--db F], which
// records the finished evaluation as a run. Parsing here, evaluation in core/eval/tasks.
#pragma once
#include <QCommandLineParser>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/eval/tasks/task.h"
#include "core/eval/tasks/task_record.h"

namespace rilq::cli {

void add_task_options(QCommandLineParser& parser);
// The --task specs with the shared options applied; Error naming a bad value.
std::vector<TaskSpec> task_specs_from(const QCommandLineParser& parser);

// Reads and checks every task's data (done before the model is loaded, so bad input fails fast).
std::vector<std::unique_ptr<Task>> load_tasks(const std::vector<TaskSpec>& specs);

// Evaluates each task, prints a summary per task (unless as_json), writes --log-samples at the
// end (whole or not at all) and returns the results.
std::vector<TaskResult> run_task_evaluation(const QCommandLineParser& parser,
                                            const std::vector<std::unique_ptr<Task>>& tasks,
                                            const LlamaModel& model, const Tokenizer& tokenizer,
                                            bool as_json);

// --record, --stage, --db.
void add_record_options(QCommandLineParser& parser);
// The run to record (nothing without --record); Error for a bad --stage, before any model work.
// Params: the command's model, adapter, tokenizer and each --task / --dataset as given.
std::optional<TaskEvaluationRun> record_request_from(const QCommandLineParser& parser);

} // namespace rilq::cli
