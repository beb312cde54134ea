// The table printed after an experiment runs (`rilq run`, the demo's --headless mode): the
// default export of its sweep. One swept field: rows = its values, columns = eval datasets.
// Two or more: rows = the last swept field (typically the rank), columns = the values of the
// first (typically the scope or the bit-width), cells the PPL averaged over eval datasets.
// Above the table, the FP and quantized baselines, which no sweep point changes.
#pragma once
#include <string>

#include "core/report/store_pivot.h"

namespace rilq::run {
struct ExperimentConfig;
}
namespace rilq::store {
class RunStore;
}

namespace rilq::report {

ExportRequest default_export_request(const run::ExperimentConfig& experiment);

// Markdown: baseline lines, a blank line, the pivot table with its protocol footer. Problems
// building the pivot (no finished run yet) are written as a line instead of thrown.
std::string experiment_markdown(store::RunStore& store, const run::ExperimentConfig& experiment);

} // namespace rilq::report
