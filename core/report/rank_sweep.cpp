#include "core/report/rank_sweep.h"

#include "core/report/store_pivot.h"
#include "core/report/task_metric.h"
#include "core/rilq/train_config.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <algorithm>

namespace rilq::report {

namespace {

const char* const kScopeKey = "rilq.scope";

const char* const kRankKey = "rilq.lora_r";

// The scopes of the experiment's finished runs in run order; empty when no run records one (runs
// recorded before the scope existed, which were all RILQ's model scope). NoValuesError when no
// finished run has a rank (task evaluations, fine-tuning runs): not a rank sweep.
std::vector<std::string> finished_scopes(store::RunStore& store, const std::string& experiment) {
    store::RunFilter filter;
    filter.experiment = experiment;
    filter.status = store::RunStatus::Finished;
    filter.with_params = true;
    std::vector<std::string> scopes;
    bool ranked = false;
    for (const auto& run : store.list_runs(filter)) {
        ranked = ranked || run.params.count(kRankKey) > 0;
        const auto it = run.params.find(kScopeKey);
        if (it != run.params.end() && std::find(scopes.begin(), scopes.end(), it->second) == scopes.end())
            scopes.push_back(it->second);
    }
    if (!ranked)
        throw NoValuesError("no finished run of \"" + experiment + "\" has a " + kRankKey +
                            ": not a rank sweep");
    return scopes;
}

// rows rilq.lora_r, one column per eval dataset, the runs of one scope ("" = all runs).
ExportRequest by_dataset(const std::string& experiment, const std::string& metric, const std::string& scope,
                         const std::string& stage) {
    ExportRequest request;
    request.experiment = experiment;
    request.rows = kRankKey;
    request.metric = metric;
    request.stage = stage;
    if (!scope.empty()) request.where.push_back({kScopeKey, scope});
    return request;
}

} // namespace

RankSweep rank_sweep_from_store(store::RunStore& store, const std::string& experiment,
                                const std::string& metric) {
    std::vector<std::string> scopes = finished_scopes(store, experiment);
    const bool scoped = !scopes.empty();
    if (!scoped) scopes.push_back("");
    const auto task_metric = parse_task_metric(metric);
    RankSweep sweep;
    sweep.metric = metric;
    sweep.metric_label = task_metric ? task_metric->label : metric == "ppl" ? "perplexity" : metric;
    // The column the protocol line's table (columns = scopes) shows: PPL its first dataset, as
    // before; an accuracy its average ("" = the average in pivot_from_store).
    std::string protocol_column;
    bool have_protocol_column = false;
    for (const auto& scope : scopes) {
        const PivotTable table =
            pivot_from_store(store, by_dataset(experiment, metric, scope, "compensated"));
        if (sweep.protocol.empty()) sweep.protocol = table.footer;
        const std::string scope_name = scoped ? scope : to_string(TrainConfig{}.scope);
        if (!have_protocol_column && !table.column_keys.empty()) {
            const bool average_last = table.column_is_average.back();
            protocol_column = task_metric && average_last ? "" : table.column_keys.front();
            have_protocol_column = true;
        }
        for (size_t c = 0; c < table.column_keys.size(); ++c) {
            const bool average = table.column_is_average[c];
            for (size_t r = 0; r < table.row_keys.size(); ++r) {
                const PivotCell& cell = table.cells[r][c];
                if (!cell.present) continue;
                sweep.points.push_back({table.column_labels[c], scope_name, std::stoll(table.row_keys[r]),
                                        cell.mean, cell.n, average});
            }
        }
        try { // the FP model is the same in every cell: any present one
            const PivotTable fp = pivot_from_store(store, by_dataset(experiment, metric, scope, "fp"));
            for (size_t c = 0; c < fp.column_keys.size(); ++c)
                for (const auto& row : fp.cells)
                    if (row[c].present && !sweep.fp_value.count(fp.column_labels[c]))
                        sweep.fp_value[fp.column_labels[c]] = row[c].mean;
        } catch (const Error&) {
            // eval.stages without "fp": no reference line
        }
    }
    // The protocol line of the export table the Compare tab stands for (rows rank, columns scope).
    if (scoped && have_protocol_column) {
        ExportRequest by_scope;
        by_scope.experiment = experiment;
        by_scope.rows = kRankKey;
        by_scope.cols = kScopeKey;
        by_scope.metric = metric;
        by_scope.dataset = protocol_column;
        sweep.protocol = pivot_from_store(store, by_scope).footer;
    }
    return sweep;
}

} // namespace rilq::report
