#include "widgets/layer_stats.h"

#include <cmath>
#include <limits>

namespace rilq::widgets {

QString energy_metric_key(int rank) {
    return QStringLiteral("energy_r%1").arg(rank);
}

QString metric_display_name(const QString& metric) {
    if (metric == kMetricRelError) return QStringLiteral("relative weight error");
    if (metric == kMetricSqnrDb) return QStringLiteral("SQNR (dB)");
    if (metric == kMetricEntropy) return QStringLiteral("code entropy (bits)");
    if (metric == kMetricOutputError) return QStringLiteral("relative output error");
    if (metric.startsWith("energy_r")) {
        bool ok = false;
        const int rank = metric.mid(8).toInt(&ok);
        if (ok) return QStringLiteral("error energy @ r=%1").arg(rank);
    }
    return metric;
}

const QStringList& projection_modules() {
    static const QStringList names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                      "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                      "mlp.down_proj"};
    return names;
}

const QStringList& projection_short_names() {
    static const QStringList names = {"q", "k", "v", "o", "gate", "up", "down"};
    return names;
}

int projection_column(const QString& module) {
    // Last dotted component, "_proj" dropped: "layers.3.self_attn.q_proj" -> "q".
    QString last = module.section('.', -1);
    if (last.endsWith("_proj")) last.chop(5);
    return int(projection_short_names().indexOf(last));
}

QString linear_name(int layer, const QString& module) {
    const int column = projection_column(module);
    const QString inner = column >= 0 ? projection_modules()[column] : module;
    return QStringLiteral("layers.%1.%2").arg(layer).arg(inner);
}

QString LayerStatsTable::canonical_module(const QString& module) {
    const int column = projection_column(module);
    return column >= 0 ? projection_modules()[column] : module;
}

QString LayerStatsTable::key(const QString& stage, int layer, const QString& module, const QString& metric) {
    return stage + '|' + QString::number(layer) + '|' + canonical_module(module) + '|' + metric;
}

void LayerStatsTable::setValue(const QString& stage, int layer, const QString& module, const QString& metric,
                               double value) {
    values_.insert(key(stage, layer, module, metric), value);
    if (!stages_.contains(stage)) {
        // Keep the pipeline order fp -> quantized -> compensated whatever order rows arrive in.
        const QStringList order = {kStageFp, kStageQuantized, kStageCompensated};
        const int rank = int(order.indexOf(stage));
        int at = int(stages_.size());
        if (rank >= 0)
            for (int i = 0; i < stages_.size(); ++i) {
                const int other = int(order.indexOf(stages_[i]));
                if (other < 0 || other > rank) {
                    at = i;
                    break;
                }
            }
        stages_.insert(at, stage);
    }
    if (!metrics_.contains(metric)) metrics_.push_back(metric);
    layer_count_ = std::max(layer_count_, layer + 1);
}

double LayerStatsTable::value(const QString& stage, int layer, const QString& module,
                              const QString& metric) const {
    return values_.value(key(stage, layer, module, metric), std::numeric_limits<double>::quiet_NaN());
}

bool LayerStatsTable::contains(const QString& stage, int layer, const QString& module,
                               const QString& metric) const {
    return values_.contains(key(stage, layer, module, metric));
}

QStringList LayerStatsTable::stages() const {
    return stages_;
}
QStringList LayerStatsTable::metrics() const {
    return metrics_;
}

bool LayerStatsTable::range(const QString& metric, double* lo, double* hi) const {
    bool any = false;
    const QString suffix = '|' + metric;
    for (auto it = values_.constBegin(); it != values_.constEnd(); ++it) {
        if (!it.key().endsWith(suffix) || !std::isfinite(it.value())) continue;
        *lo = any ? std::min(*lo, it.value()) : it.value();
        *hi = any ? std::max(*hi, it.value()) : it.value();
        any = true;
    }
    return any;
}

void LayerStatsTable::setCodeHistogram(int layer, const QString& module, const Histogram& histogram) {
    code_histograms_.insert(QString::number(layer) + '|' + canonical_module(module), histogram);
}

void LayerStatsTable::setOffsetHistogram(int layer, const QString& module, const Histogram& histogram) {
    offset_histograms_.insert(QString::number(layer) + '|' + canonical_module(module), histogram);
}

Histogram LayerStatsTable::codeHistogram(int layer, const QString& module) const {
    return code_histograms_.value(QString::number(layer) + '|' + canonical_module(module));
}

Histogram LayerStatsTable::offsetHistogram(int layer, const QString& module) const {
    const QString layer_key = QString::number(layer) + '|';
    auto it = offset_histograms_.constFind(layer_key + canonical_module(module));
    if (it != offset_histograms_.constEnd()) return *it;
    return offset_histograms_.value(layer_key);
}

} // namespace rilq::widgets
