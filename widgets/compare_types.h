// Value types of the compare views: finished runs' curves with their swept parameters, and the
// rank sweep's perplexities (the RILQ paper's central picture).
#pragma once
#include <QMap>
#include <QMetaType>
#include <QPointF>
#include <QString>
#include <QVector>

#include <limits>

namespace rilq::widgets {

struct RunCurve {
    QString run_id;
    QString label;                          // e.g. "r=16 · rtn w2 g64"; run_id when empty
    QMap<QString, QString> params;          // run params as stored: "lora_r" -> "16", "a_type" -> "hid"
    QMap<QString, QVector<QPointF>> curves; // metric key ("v_loss", "t_loss", ...) -> (step, value)
    // Per metric, parallel to `curves`: seconds since the run's first logged point (empty when
    // the store has no timestamps).
    QMap<QString, QVector<double>> seconds;
    // Training tokens per optimizer update of the RILQ stage (windows per update x window length,
    // from the run's params: core's train_tokens_per_update); 0 when unknown.
    double tokens_per_step = 0.0;
};

// What the Compare overlay puts on x. Live curves have step and wall time only (CurvePoint).
enum class CompareXAxis {
    Step,    // optimizer step
    Tokens,  // step x RunCurve::tokens_per_step: runs with other batch sizes line up by data seen
    WallTime // seconds since the run's first logged point
};

// Scopes of the RILQ rank argument (issue 5): where the compensation loss is measured.
inline const QString kScopeModel = QStringLiteral("model"); // RILQ's model-level loss
inline const QString kScopeLinear = QStringLiteral("linear");
inline const QString kScopeLayer = QStringLiteral("layer");
inline const QString kScopeWeightSvd = QStringLiteral("weight-svd");

struct RankPoint {
    QString dataset; // "wikitext2", "c4", ...
    QString scope = kScopeModel;
    int rank = 0; // LoRA rank; 0 = no compensation (drawn as the dashed baseline)
    double value = std::numeric_limits<double>::quiet_NaN(); // perplexity (or value_label's metric)
};

struct RankSweep {
    QVector<RankPoint> points;      // one per (dataset, scope, rank): core/report/rank_sweep.h averaged seeds
    QMap<QString, double> fp_value; // optional: full-precision reference per dataset (dotted line)
    QString value_label = QStringLiteral("perplexity"); // y-axis title ("avg. accuracy (%)", ...)
    QString protocol; // shown under the chart: "RTN W2A16G64 · seqlen 2048 · C4 320x512"
};

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::RunCurve)
Q_DECLARE_METATYPE(rilq::widgets::RankSweep)
