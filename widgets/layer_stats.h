// LayerStatsTable: what the layer inspector shows, as plain Qt data. One value per
// (stage, layer, module, metric) - the shape of the run store's layer_stats rows - plus optional
// per-linear histograms (quantization codes, ICQ offsets).
#pragma once
#include <QHash>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace rilq::widgets {

// Stage names as the run store writes them (layer_stats.stage).
inline const QString kStageFp = QStringLiteral("fp");
inline const QString kStageQuantized = QStringLiteral("quantized");
inline const QString kStageCompensated = QStringLiteral("compensated");

// Metric keys the inspector knows by name (others are shown with their key as label).
inline const QString kMetricRelError = QStringLiteral("rel_error");       // ||W - W_hat||_F / ||W||_F
inline const QString kMetricSqnrDb = QStringLiteral("sqnr_db");           // 20 log10(1 / rel_error)
inline const QString kMetricEntropy = QStringLiteral("entropy_bits");     // mean per-block code entropy
inline const QString kMetricOutputError = QStringLiteral("output_error"); // ||XW^T - XW_hat^T|| / ||XW^T||
// Error energy captured at rank r: sum_{i<=r} s_i^2 / sum s_i^2 of W - W_hat, key "energy_r<r>".
QString energy_metric_key(int rank);

// "relative weight error", "SQNR (dB)", "error energy @ r=16", ...; unknown keys come back as is.
QString metric_display_name(const QString& metric);

// The seven projections in heat-map column order, as core names them inside a layer.
const QStringList& projection_modules();     // "self_attn.q_proj", ..., "mlp.down_proj"
const QStringList& projection_short_names(); // "q", "k", "v", "o", "gate", "up", "down"
// Column 0..6 for "q", "q_proj", "self_attn.q_proj" or "layers.3.self_attn.q_proj"; -1 otherwise.
int projection_column(const QString& module);
// Core's stable linear name: "layers.3.self_attn.q_proj" (what LlamaModel::linear() takes).
QString linear_name(int layer, const QString& module);

struct Histogram {
    QVector<double> centers; // bin centres (code index for code histograms)
    QVector<double> counts;  // same length as centers
    double bin_width = 1.0;
    bool isEmpty() const { return counts.isEmpty(); }
};

class LayerStatsTable {
  public:
    // Modules are normalised to the canonical projection name when recognised.
    void setValue(const QString& stage, int layer, const QString& module, const QString& metric,
                  double value);
    // NaN when absent.
    double value(const QString& stage, int layer, const QString& module, const QString& metric) const;
    bool contains(const QString& stage, int layer, const QString& module, const QString& metric) const;

    QStringList stages() const;  // fp, quantized, compensated first (those present), then others
    QStringList metrics() const; // in first-seen order
    int layerCount() const { return layer_count_; } // highest layer index + 1
    bool isEmpty() const { return values_.isEmpty(); }
    // Finite min / max of a metric over all stages, layers and modules (a shared colour range
    // makes switching stage show the real change). False when the metric has no finite value.
    bool range(const QString& metric, double* lo, double* hi) const;

    void setCodeHistogram(int layer, const QString& module, const Histogram& histogram);
    // ICQ offsets (tau* - tau0) / m; module "" stores a whole-layer histogram used as fallback.
    void setOffsetHistogram(int layer, const QString& module, const Histogram& histogram);
    Histogram codeHistogram(int layer, const QString& module) const;   // empty when absent
    Histogram offsetHistogram(int layer, const QString& module) const; // falls back to the layer's

  private:
    static QString canonical_module(const QString& module);
    static QString key(const QString& stage, int layer, const QString& module, const QString& metric);
    QHash<QString, double> values_;
    QStringList stages_;
    QStringList metrics_;
    int layer_count_ = 0;
    QHash<QString, Histogram> code_histograms_;   // key: "layer|module"
    QHash<QString, Histogram> offset_histograms_; // key: "layer|module"
};

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::LayerStatsTable)
