#include "app/gui/store_bridge.h"
#include "app/gui/qt_text.h"

#include <map>

#include "core/eval/tasks/task_record.h" // task_score_columns
#include "core/report/rank_sweep.h"
#include "core/report/store_pivot.h"
#include "core/report/task_metric.h"
#include "core/report/train_tokens.h"
#include "core/run/config_document.h" // is_setting_param: locations are not settings
#include "core/run/layer_stats.h"
#include "core/store/run_stages.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rilq::gui {

namespace {

store::RunStore open_read_only(const QString& path) {
    store::StoreOptions options;
    options.mode = store::Database::Mode::ReadOnly;
    return store::RunStore(path.toStdString(), options);
}

// The Runs table's PPL columns of one run: "PPL <dataset label> · <stage>", datasets in the
// order the run evaluated them, stages in core's order (fp, quantized, compensated, finetuned).
// The label is the run's datasets.<name>.label param (what export tables head columns with).
void append_perplexities(const std::map<std::string, std::string>& params,
                         const std::vector<store::EvalResult>& results,
                         QVector<QPair<QString, double>>& out) {
    std::vector<std::string> datasets;
    for (const auto& r : results)
        if (std::find(datasets.begin(), datasets.end(), r.dataset) == datasets.end())
            datasets.push_back(r.dataset);
    for (const std::string& dataset : datasets) {
        const auto label = params.find("datasets." + dataset + ".label");
        const QString shown = qt(label != params.end() && !label->second.empty() ? label->second : dataset);
        for (const std::string& stage : store::run_stages())
            for (const auto& r : results)
                if (r.dataset == dataset && r.stage == stage)
                    out.push_back({QStringLiteral("PPL %1 · %2").arg(shown, qt(stage)), r.ppl});
    }
}

} // namespace

bool StoreBridge::exists() const {
    return !path_.isEmpty() && QFileInfo::exists(path_);
}

QVector<widgets::BrowserRun> StoreBridge::listRuns() const {
    QVector<widgets::BrowserRun> rows;
    if (!exists()) return rows;
    auto store = open_read_only(path_);
    store::RunFilter filter;
    filter.with_params = true;
    for (const auto& s : store.list_runs(filter)) {
        widgets::BrowserRun row;
        row.uuid = qt(s.uuid);
        row.experiment = qt(s.experiment);
        row.name = qt(s.name);
        row.status = to_widget(s.status);
        row.message = qt(s.status_message);
        if (s.start_time_ms) row.started = QDateTime::fromMSecsSinceEpoch(*s.start_time_ms);
        if (s.start_time_ms && s.end_time_ms)
            row.duration_s = double(*s.end_time_ms - *s.start_time_ms) / 1000.0;
        for (const auto& [key, value] : s.params)
            if (run::is_setting_param(key)) row.params.insert(qt(key), qt(value));
        for (const auto& [key, m] : s.metrics)
            if (m.has_best) row.best.insert(qt(key), m.min);
        append_perplexities(s.params, store.eval_results(s.uuid), row.perplexity);
        for (const auto& [column, value] : task_score_columns(store.task_scores(s.uuid)))
            row.accuracy.push_back({qt(task_score_column_label(column)), value});
        rows.push_back(row);
    }
    return rows;
}

void StoreBridge::deleteRun(const QString& uuid) const {
    store::StoreOptions options;
    options.detect_interrupted = false; // deleting must not change other runs' status
    store::RunStore store(path_.toStdString(), options);
    store.delete_run(uuid.toStdString());
}

widgets::RunBrowserSource StoreBridge::browserSource() const {
    const StoreBridge copy = *this; // the source outlives any temporary bridge
    return {[copy] { return copy.listRuns(); }, [copy](const QString& uuid) { copy.deleteRun(uuid); }};
}

QStringList StoreBridge::experiments() const {
    QStringList names;
    if (!exists()) return names;
    auto store = open_read_only(path_);
    for (const auto& e : store.experiments())
        names << qt(e.name);
    return names;
}

widgets::RunCurve StoreBridge::runCurve(const QString& uuid) const {
    auto store = open_read_only(path_);
    const std::string id = uuid.toStdString();
    widgets::RunCurve curve;
    curve.run_id = uuid;
    curve.label = qt(store.get_run(id).summary.name);
    const auto params = store.params(id);
    for (const auto& [key, value] : params) // settings only: an output folder colours nothing
        if (run::is_setting_param(key)) curve.params.insert(qt(key), qt(value));
    curve.tokens_per_step = report::train_tokens_per_update(params);
    std::map<std::string, std::vector<store::MetricPoint>> histories;
    int64_t t0 = std::numeric_limits<int64_t>::max(); // the run's first logged point: time 0
    for (const auto& key : store.metric_keys(id)) {
        histories[key] = store.metric_history(id, key);
        for (const auto& p : histories[key])
            t0 = std::min(t0, p.timestamp_ms);
    }
    for (const auto& [key, history] : histories) {
        QVector<QPointF> points;
        QVector<double> seconds;
        for (const auto& p : history) {
            points.push_back(QPointF(double(p.step), p.value));
            seconds.push_back(double(p.timestamp_ms - t0) / 1000.0);
        }
        curve.curves.insert(qt(key), points);
        curve.seconds.insert(qt(key), seconds);
    }
    return curve;
}

QVector<widgets::CurveBatch> StoreBridge::liveCurves(const QString& uuid) const {
    auto store = open_read_only(path_);
    const std::string id = uuid.toStdString();
    QVector<widgets::CurveBatch> batches;
    std::vector<std::vector<store::MetricPoint>> histories;
    int64_t t0 = std::numeric_limits<int64_t>::max(); // one origin for every curve: the first point
    for (const auto& key : store.metric_keys(id)) {
        widgets::CurveBatch batch;
        if (!widgets::curve_kind_of_metric(qt(key), &batch.kind)) continue;
        batch.run_id = uuid;
        histories.push_back(store.metric_history(id, key));
        for (const auto& p : histories.back())
            t0 = std::min(t0, p.timestamp_ms);
        batches.push_back(batch);
    }
    for (int i = 0; i < batches.size(); ++i)
        for (const auto& p : histories[size_t(i)])
            batches[i].points.push_back({double(p.step), double(p.timestamp_ms - t0) / 1000.0, p.value});
    return batches;
}

QString StoreBridge::runLabel(const QString& uuid) const {
    auto store = open_read_only(path_);
    const auto summary = store.get_run(uuid.toStdString()).summary;
    return qt(summary.experiment + " / " + summary.name);
}

namespace {

// ICQ's chosen offsets per linear (tau* / max|w|, the quantizer's histogram) live in the run's
// quant_stats.json, not in the store; a missing or unreadable file just leaves them out.
void add_icq_offsets(const std::string& quant_stats_path, widgets::LayerStatsTable& table) {
    std::ifstream in(quant_stats_path);
    if (!in) return;
    const nlohmann::json stats = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!stats.is_object() || !stats.contains("linears")) return;
    for (const auto& linear : stats.at("linears")) {
        if (!linear.contains("icq") || !linear.at("icq").contains("offset_over_absmax")) continue;
        const auto& h = linear.at("icq").at("offset_over_absmax").at("histogram");
        if (!h.at("lo").is_number() || !h.at("hi").is_number()) continue;
        const auto counts = h.at("counts").get<std::vector<double>>();
        if (counts.empty()) continue;
        const double lo = h.at("lo").get<double>(), hi = h.at("hi").get<double>();
        widgets::Histogram histogram;
        histogram.bin_width = (hi - lo) / static_cast<double>(counts.size());
        for (size_t i = 0; i < counts.size(); ++i) {
            histogram.centers.push_back(lo + (static_cast<double>(i) + 0.5) * histogram.bin_width);
            histogram.counts.push_back(counts[i]);
        }
        const auto [layer, module] = run::split_linear_name(linear.at("name").get<std::string>());
        table.setOffsetHistogram(layer, QString::fromStdString(module), histogram);
    }
}

} // namespace

widgets::LayerStatsTable StoreBridge::layerStats(const QString& uuid) const {
    auto store = open_read_only(path_);
    widgets::LayerStatsTable table;
    // code_count_<k> rows (core/run/layer_stats.h) are one histogram per linear, not k metrics.
    const std::string code_prefix = "code_count_";
    std::map<std::pair<int, std::string>, widgets::Histogram> codes;
    for (const auto& s : store.layer_stats(uuid.toStdString())) {
        if (s.metric.rfind(code_prefix, 0) == 0) {
            widgets::Histogram& h = codes[{s.layer, s.module}];
            h.centers.push_back(std::stod(s.metric.substr(code_prefix.size())));
            h.counts.push_back(s.value);
            continue;
        }
        table.setValue(qt(s.stage), s.layer, qt(s.module), qt(s.metric), s.value);
    }
    for (const auto& [key, histogram] : codes)
        table.setCodeHistogram(key.first, qt(key.second), histogram);
    for (const auto& artifact : store.artifacts(uuid.toStdString()))
        if (artifact.kind == "quant_stats") add_icq_offsets(artifact.path, table);
    return table;
}

widgets::RankSweep StoreBridge::rankSweep(const QString& experiment) const {
    widgets::RankSweep sweep;
    if (!exists()) return sweep;
    auto store = open_read_only(path_);
    try {
        const report::RankSweep core = report::rank_sweep_from_store(store, experiment.toStdString());
        for (const auto& p : core.points)
            if (!p.average) sweep.points.push_back({qt(p.dataset), qt(p.scope), int(p.rank), p.value});
        for (const auto& [dataset, ppl] : core.fp_value)
            sweep.fp_value.insert(qt(dataset), ppl);
        sweep.protocol = qt(core.protocol);
    } catch (const report::NoValuesError&) {
        // an experiment that measured no perplexity (task evaluations only): nothing to draw
    }
    return sweep;
}

widgets::RankSweep StoreBridge::accuracySweep(const QString& experiment) const {
    widgets::RankSweep sweep;
    sweep.value_label = QStringLiteral("accuracy (%)");
    if (!exists()) return sweep;
    auto store = open_read_only(path_);
    QStringList protocols;
    for (const std::string& metric : report::rank_plot_task_metrics()) {
        report::RankSweep core;
        try {
            core = report::rank_sweep_from_store(store, experiment.toStdString(), metric);
        } catch (const report::NoValuesError&) {
            continue; // the experiment scored no task of this metric
        }
        // The average column (CSQA avg., MMLU's accuracy over all questions) is the line; a
        // metric whose table has no average would draw its one column.
        const bool has_average = std::any_of(core.points.begin(), core.points.end(),
                                             [](const report::RankSweepPoint& p) { return p.average; });
        const QString line = qt(core.metric_label);
        std::string column; // the table column drawn (its label)
        for (const auto& p : core.points)
            if (p.average == has_average) {
                column = p.dataset;
                sweep.points.push_back({line, qt(p.scope), int(p.rank), p.value});
            }
        if (core.fp_value.count(column)) sweep.fp_value.insert(line, core.fp_value.at(column));
        protocols << qt(core.protocol);
    }
    sweep.protocol = protocols.join(QLatin1Char('\n'));
    return sweep;
}

widgets::RunStatus to_widget(store::RunStatus s) {
    switch (s) {
    case store::RunStatus::Scheduled:
        return widgets::RunStatus::Scheduled;
    case store::RunStatus::Running:
        return widgets::RunStatus::Running;
    case store::RunStatus::Finished:
        return widgets::RunStatus::Finished;
    case store::RunStatus::Failed:
        return widgets::RunStatus::Failed;
    case store::RunStatus::Killed:
        return widgets::RunStatus::Killed;
    case store::RunStatus::Interrupted:
        return widgets::RunStatus::Interrupted;
    }
    return widgets::RunStatus::Scheduled;
}

} // namespace rilq::gui
