#include "core/report/rank_sweep.h"

#include "core/report/store_pivot.h"
#include "core/util/error.h"

namespace rilq::report {

namespace {

ExportRequest request_for(const std::string& experiment, const std::string& dataset,
                          const std::string& stage) {
    ExportRequest request;
    request.experiment = experiment;
    request.rows = "rilq.lora_r";
    request.cols = "rilq.scope";
    request.stage = stage;
    request.dataset = dataset;
    return request;
}

} // namespace

RankSweep rank_sweep_from_store(store::RunStore& store, const std::string& experiment) {
    ExportRequest by_dataset;
    by_dataset.experiment = experiment;
    by_dataset.rows = "rilq.lora_r";
    const PivotTable datasets = pivot_from_store(store, by_dataset); // the datasets, their labels and order
    RankSweep sweep;
    for (size_t c = 0; c < datasets.column_keys.size(); ++c) {
        if (datasets.column_is_average[c]) continue;
        const std::string& key = datasets.column_keys[c];
        const std::string& label = datasets.column_labels[c];
        const PivotTable table = pivot_from_store(store, request_for(experiment, key, "compensated"));
        if (sweep.protocol.empty()) sweep.protocol = table.footer;
        for (size_t r = 0; r < table.row_keys.size(); ++r)
            for (size_t s = 0; s < table.column_keys.size(); ++s) {
                const PivotCell& cell = table.cells[r][s];
                if (!cell.present || table.column_is_average[s]) continue;
                sweep.points.push_back(
                    {label, table.column_keys[s], std::stoll(table.row_keys[r]), cell.mean, cell.n});
            }
        try { // the FP model is the same in every cell: any present one
            const PivotTable fp = pivot_from_store(store, request_for(experiment, key, "fp"));
            for (const auto& row : fp.cells)
                for (const auto& cell : row)
                    if (cell.present && !sweep.fp_value.count(label)) sweep.fp_value[label] = cell.mean;
        } catch (const Error&) {
            // eval.stages without "fp": no reference line
        }
    }
    return sweep;
}

} // namespace rilq::report
