#include "core/report/rank_sweep.h"

#include "core/report/store_pivot.h"
#include "core/rilq/train_config.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <algorithm>

namespace rilq::report {

namespace {

const char* const kScopeKey = "rilq.scope";

// The scopes of the experiment's finished runs in run order; empty when no run records one (runs
// recorded before the scope existed, which were all RILQ's model scope).
std::vector<std::string> finished_scopes(store::RunStore& store, const std::string& experiment) {
    store::RunFilter filter;
    filter.experiment = experiment;
    filter.status = store::RunStatus::Finished;
    filter.with_params = true;
    std::vector<std::string> scopes;
    for (const auto& run : store.list_runs(filter)) {
        const auto it = run.params.find(kScopeKey);
        if (it != run.params.end() && std::find(scopes.begin(), scopes.end(), it->second) == scopes.end())
            scopes.push_back(it->second);
    }
    return scopes;
}

// rows rilq.lora_r, one column per eval dataset, the runs of one scope ("" = all runs).
ExportRequest by_dataset(const std::string& experiment, const std::string& scope, const std::string& stage) {
    ExportRequest request;
    request.experiment = experiment;
    request.rows = "rilq.lora_r";
    request.stage = stage;
    if (!scope.empty()) request.where.push_back({kScopeKey, scope});
    return request;
}

} // namespace

RankSweep rank_sweep_from_store(store::RunStore& store, const std::string& experiment) {
    std::vector<std::string> scopes = finished_scopes(store, experiment);
    const bool scoped = !scopes.empty();
    if (!scoped) scopes.push_back("");
    RankSweep sweep;
    std::string first_dataset;
    for (const auto& scope : scopes) {
        const PivotTable table = pivot_from_store(store, by_dataset(experiment, scope, "compensated"));
        if (sweep.protocol.empty()) sweep.protocol = table.footer;
        const std::string scope_name = scoped ? scope : to_string(TrainConfig{}.scope);
        for (size_t c = 0; c < table.column_keys.size(); ++c) {
            if (table.column_is_average[c]) continue;
            if (first_dataset.empty()) first_dataset = table.column_keys[c];
            for (size_t r = 0; r < table.row_keys.size(); ++r) {
                const PivotCell& cell = table.cells[r][c];
                if (!cell.present) continue;
                sweep.points.push_back(
                    {table.column_labels[c], scope_name, std::stoll(table.row_keys[r]), cell.mean, cell.n});
            }
        }
        try { // the FP model is the same in every cell: any present one
            const PivotTable fp = pivot_from_store(store, by_dataset(experiment, scope, "fp"));
            for (size_t c = 0; c < fp.column_keys.size(); ++c)
                for (const auto& row : fp.cells)
                    if (!fp.column_is_average[c] && row[c].present &&
                        !sweep.fp_value.count(fp.column_labels[c]))
                        sweep.fp_value[fp.column_labels[c]] = row[c].mean;
        } catch (const Error&) {
            // eval.stages without "fp": no reference line
        }
    }
    // The protocol line of the export table the Compare tab stands for (rows rank, columns scope).
    if (scoped && !first_dataset.empty()) {
        ExportRequest by_scope;
        by_scope.experiment = experiment;
        by_scope.rows = "rilq.lora_r";
        by_scope.cols = kScopeKey;
        by_scope.dataset = first_dataset;
        sweep.protocol = pivot_from_store(store, by_scope).footer;
    }
    return sweep;
}

} // namespace rilq::report
