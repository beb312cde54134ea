#include "core/report/experiment_table.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "core/report/table_writers.h"
#include "core/run/experiment_config.h"
#include "core/store/run_store.h"

namespace rilq::report {

ExportRequest default_export_request(const run::ExperimentConfig& experiment) {
    ExportRequest request;
    request.experiment = experiment.name;
    request.rows = "rilq.lora_r";
    request.cols = "dataset";
    if (!experiment.sweep.empty()) request.rows = experiment.sweep.back().key;
    if (experiment.sweep.size() >= 2) request.cols = experiment.sweep.front().key;
    return request;
}

namespace {

// "fp: TinyStories 5.85 | quantized: TinyStories 477.41" from the latest finished run.
std::string baselines(store::RunStore& store, const std::string& experiment) {
    store::RunFilter filter;
    filter.experiment = experiment;
    filter.status = store::RunStatus::Finished;
    const auto runs = store.list_runs(filter);
    if (runs.empty()) return "";
    std::map<std::string, std::vector<std::pair<std::string, double>>> by_stage;
    for (const auto& e : store.eval_results(runs.front().uuid))
        if (e.stage != "compensated") by_stage[e.stage].emplace_back(e.dataset, e.ppl);
    std::ostringstream out;
    for (const char* stage : {"fp", "quantized"}) {
        const auto it = by_stage.find(stage);
        if (it == by_stage.end()) continue;
        out << (stage == std::string("fp") ? "FP model" : "Quantized, no compensation") << ":";
        for (const auto& [dataset, ppl] : it->second) {
            char value[32];
            std::snprintf(value, sizeof value, "%.2f", ppl);
            out << " " << dataset << " PPL " << value;
        }
        out << "\n";
    }
    return out.str();
}

} // namespace

std::string experiment_markdown(store::RunStore& store, const run::ExperimentConfig& experiment) {
    std::ostringstream out;
    out << baselines(store, experiment.name) << "\n";
    try {
        out << write_markdown(pivot_from_store(store, default_export_request(experiment)));
    } catch (const std::exception& e) {
        out << "(no table: " << e.what() << ")\n";
    }
    return out.str();
}

} // namespace rilq::report
