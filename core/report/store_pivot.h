// The pivot table of an experiment, read from the run store: what `rilq export` and the GUI's
// export view print.
//
// Rows are the values of one param (e.g. rilq.lora_r; "lora_r" is enough when unambiguous),
// columns the eval datasets (labels from the runs' configs), the values of another param, or the
// combinations of several ("quant.method,scope,lora_init": "rtn / model / loftq").
// Cells are PPL from eval_results at the chosen stage ("compensated"; runs without one, like
// rank 0 which trains nothing, fall back to "quantized"), task accuracy in percent from
// task_results at that stage, by the same rule (task_metric.h: acc, acc_norm, one task, mmlu's
// categories), or a logged metric's min/max/last.
// Only FINISHED runs count by default; a point run twice (same config hash) counts once, its
// latest run. Runs sharing a cell must differ only in seed: anything else is an error that
// names the param, so a table never silently averages different settings.
#pragma once
#include "core/report/pivot.h"
#include "core/util/error.h"

#include <string>
#include <utility>
#include <vector>

namespace rilq::store {
class RunStore;
}

namespace rilq::report {

struct ExportRequest {
    std::string experiment;
    std::string rows = "lora_r";
    std::string cols = "dataset";      // "dataset", a param, or params separated by commas
    std::string metric = "ppl";        // "ppl", a task metric (task_metric.h) or a logged metric ("v_loss")
    std::string stage = "compensated"; // ppl and tasks: a run_stages() name
    std::string metric_stat = "min";   // logged metrics: min | max | last
    std::string dataset; // param columns: one dataset / task / mmlu category ("" = their average)
    std::vector<std::pair<std::string, std::string>> where; // keep runs whose param equals the value
    bool include_unfinished = false;
    bool mark_best = false;
    bool higher_is_better = false;
    int decimals = 2;
};

// The selected runs hold no value of the metric (an experiment without task scores, say);
// callers that draw what exists (the Compare tab) skip such a metric.
class NoValuesError : public Error {
  public:
    using Error::Error;
};

// Accuracy metrics are higher-is-better whatever `higher_is_better` says.
PivotTable pivot_from_store(store::RunStore& store, const ExportRequest& request);

// "key=value" -> (key, value); Error without '='.
std::pair<std::string, std::string> parse_where(const std::string& assignment);

} // namespace rilq::report
