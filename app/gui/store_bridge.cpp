#include "app/gui/store_bridge.h"
#include "app/gui/qt_text.h"

#include <map>

#include "core/run/config_document.h" // is_setting_param: locations are not settings
#include "core/run/layer_stats.h"
#include "core/store/run_store.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include <QFileInfo>

#include <cmath>

namespace rilq::gui {

namespace {

store::RunStore open_read_only(const QString& path) {
    store::StoreOptions options;
    options.mode = store::Database::Mode::ReadOnly;
    return store::RunStore(path.toStdString(), options);
}


// The trainer's metric keys (core/rilq/train_event.h) -> the live view's four curves.
bool curve_kind_for(const std::string& key, widgets::CurveKind* kind) {
    if (key == "t_a_loss")
        *kind = widgets::CurveKind::TrainModel;
    else if (key == "t_gt_loss")
        *kind = widgets::CurveKind::TrainGt;
    else if (key == "t_loss")
        *kind = widgets::CurveKind::TrainTotal;
    else if (key == "v_loss")
        *kind = widgets::CurveKind::Validation;
    else
        return false;
    return true;
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
    for (const auto& [key, value] : store.params(id))
        curve.params.insert(qt(key), qt(value));
    for (const auto& key : store.metric_keys(id)) {
        QVector<QPointF> points;
        for (const auto& p : store.metric_history(id, key))
            points.push_back(QPointF(double(p.step), p.value));
        curve.curves.insert(qt(key), points);
    }
    return curve;
}

QVector<widgets::CurveBatch> StoreBridge::liveCurves(const QString& uuid) const {
    auto store = open_read_only(path_);
    const std::string id = uuid.toStdString();
    QVector<widgets::CurveBatch> batches;
    for (const auto& key : store.metric_keys(id)) {
        widgets::CurveBatch batch;
        if (!curve_kind_for(key, &batch.kind)) continue;
        batch.run_id = uuid;
        const auto history = store.metric_history(id, key);
        const int64_t t0 = history.empty() ? 0 : history.front().timestamp_ms;
        for (const auto& p : history)
            batch.points.push_back({double(p.step), double(p.timestamp_ms - t0) / 1000.0, p.value});
        batches.push_back(batch);
    }
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
    for (const auto& [key, histogram] : codes) table.setCodeHistogram(key.first, qt(key.second), histogram);
    for (const auto& artifact : store.artifacts(uuid.toStdString()))
        if (artifact.kind == "quant_stats") add_icq_offsets(artifact.path, table);
    return table;
}

widgets::RankSweep StoreBridge::rankSweep(const QString& experiment) const {
    widgets::RankSweep sweep;
    if (!exists()) return sweep;
    auto store = open_read_only(path_);
    store::RunFilter filter;
    filter.experiment = experiment.toStdString();
    filter.status = store::RunStatus::Finished;
    filter.with_params = true;
    for (const auto& run : store.list_runs(filter)) {
        const auto param = [&](const std::string& key, const std::string& fallback) {
            const auto it = run.params.find(key);
            return it == run.params.end() ? fallback : it->second;
        };
        const int rank = QString::fromStdString(param("rilq.lora_r", "0")).toInt();
        // Rank 0 trains nothing: its number is the quantized model's (core/report/store_pivot.h).
        const std::string stage = rank == 0 ? "quantized" : "compensated";
        for (const auto& e : store.eval_results(run.uuid)) {
            const QString label = qt(param("datasets." + e.dataset + ".label", e.dataset));
            if (e.stage == "fp") sweep.fp_value.insert(label, e.ppl);
            if (e.stage != stage || !std::isfinite(e.ppl)) continue;
            sweep.points.push_back({label, qt(param("rilq.scope", "model")), rank, e.ppl});
        }
        if (sweep.protocol.isEmpty())
            sweep.protocol = QStringLiteral("%1 W%2 g%3 · seqlen %4")
                                 .arg(qt(param("quant.method", "?")).toUpper(), qt(param("quant.bits", "?")),
                                      qt(param("quant.group_size", "?")), qt(param("eval.seqlen", "?")));
    }
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
