// Downstream-task accuracy as a table metric (`rilq export --metric`, the GUI's Export and Compare
// tabs): the metric names (one list, built from task_infos()), what each means, and a run's cells
// for one, read from the store's task_results by (task, stage). Cells are percent.
//
//   acc, acc_norm     every zero-shot multiple-choice task the runs scored, one column each, plus
//                     their per-run average "CSQA avg." (the RILQ paper's rank figure). acc_norm:
//                     a task without it (winogrande, boolq) contributes its acc, as lm-eval
//                     papers tabulate them.
//   <task>            that task's acc ("arc_easy"); "mmlu" gives IR-QLoRA's table: its four
//                     categories and, as the average, the micro accuracy over all questions
//   <task>.acc_norm   that task's acc_norm
//
// With a param as columns (`--cols rilq.scope`) a cell is the run's average (CSQA avg., MMLU
// overall), or one column's value with `--dataset <task or category>`.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rilq::store {
class RunStore;
}

namespace rilq::report {

struct TaskMetric {
    std::string name;           // as given: "acc", "arc_easy.acc_norm", "mmlu"
    bool suite = false;         // acc / acc_norm: every multiple-choice task
    std::string task;           // one task (suite false)
    bool norm = false;          // acc_norm (where the task has it)
    std::string label;          // "CSQA avg.", "ARC-e", "ARC-e acc_norm", "MMLU"
    std::string average_label;  // the table's average column; "" for a single task
    std::string average_column; // a measured column that is the average (mmlu: "all"), else ""
};

// nullopt when `metric` names no task metric (then it is "ppl" or a logged metric); rilq::Error for
// "<task>.acc_norm" of a task without acc_norm.
std::optional<TaskMetric> parse_task_metric(const std::string& metric);

struct MetricChoice {
    std::string name; // "ppl", "acc", "arc_easy", ...
    std::string help; // one line
};

// Every metric an export can tabulate by name: "ppl", then the task metrics in task_infos() order
// (logged metrics such as v_loss come from the runs and are accepted too).
const std::vector<MetricChoice>& export_metric_choices();
// The task metrics the Compare tab plots against rank: the common-sense average, then MMLU.
std::vector<std::string> rank_plot_task_metrics();

// One metric's cells, run by run, at a stage ("compensated": runs without it - rank 0, which
// compensates nothing - stand in with "quantized", as the PPL tables do).
class TaskMetricReader {
  public:
    TaskMetricReader(store::RunStore& store, TaskMetric metric, std::string stage);
    // Column key -> percent for one run: task names, or mmlu's category names and "all".
    std::map<std::string, double> columns(const std::string& run_uuid);
    // The run's one value for param columns: `column` when given, else the average (a suite's
    // mean needs every column in `all_columns`); nullopt when the run lacks it.
    std::optional<double> value(const std::map<std::string, double>& run_columns, const std::string& column,
                                const std::vector<std::string>& all_columns) const;
    const TaskMetric& metric() const { return metric_; }
    std::vector<std::string> column_order() const; // task_infos() / categories.py order
    std::map<std::string, std::string> column_labels() const;
    // "accuracy % (compensated; quantized where nothing was compensated): ARC-e 0-shot n=2376, ...; BOS none"
    std::string protocol() const;

  private:
    store::RunStore& store_;
    TaskMetric metric_;
    std::string stage_;
    bool used_stand_in_ = false;
    // task -> distinct "shots/n" and BOS rules of the scores read, for the protocol line
    std::map<std::string, std::vector<std::string>> seen_;
    std::vector<std::string> bos_rules_;
};

} // namespace rilq::report
