// Value types the curve views are fed with. Plain Qt data, no core types: the app turns the
// trainer's events / the run store's metric rows into these.
#pragma once
#include "widgets/chart_style.h"

#include <QMetaType>
#include <QString>
#include <QVector>

#include <utility>

namespace rilq::widgets {

// The four curves RILQ logs per run (METHODS.md 5.6: t_a_loss, t_gt_loss, total, v_loss), and
// the two of a chained instruction fine-tuning stage (its own optimizer steps, counted from 0).
enum class CurveKind {
    TrainModel = 0,    // model-level part: MSE at the last hidden state or the logits
    TrainGt = 1,       // ground-truth part: next-token cross-entropy of the student
    TrainTotal = 2,    // weighted sum of the two (0.5 / 0.5 by default)
    Validation = 3,    // total loss on the validation windows, every approx_eval_steps updates
    SftTrain = 4,      // fine-tuning stage: masked cross-entropy of the response tokens
    SftValidation = 5, // fine-tuning stage: the same loss on the held-out split, every eval_steps
};
constexpr int kCurveKindCount = 6;

// Measured at evaluations, not smoothed, drawn with dots.
inline bool is_evaluation_curve(CurveKind kind) {
    return kind == CurveKind::Validation || kind == CurveKind::SftValidation;
}
// Only runs that chain a fine-tuning stage have these: their toggles and legend keys appear with
// the first such point.
inline bool is_finetune_curve(CurveKind kind) {
    return kind == CurveKind::SftTrain || kind == CurveKind::SftValidation;
}

inline QString curve_kind_label(CurveKind kind) {
    switch (kind) {
    case CurveKind::TrainModel:
        return QStringLiteral("model loss (train)");
    case CurveKind::TrainGt:
        return QStringLiteral("GT loss (train)");
    case CurveKind::TrainTotal:
        return QStringLiteral("total loss (train)");
    case CurveKind::Validation:
        return QStringLiteral("validation loss");
    case CurveKind::SftTrain:
        return QStringLiteral("SFT loss (train)");
    case CurveKind::SftValidation:
        return QStringLiteral("SFT eval loss");
    }
    return {};
}

// The run store metric keys that are these curves (the trainer's keys, core/rilq/train_event.h
// train_event_metrics; a chained fine-tuning stage's under the runner's "sft." prefix,
// core/run/finetune_stage.h). The one mapping: live events and reopened runs both go
// through it (TestLiveCurves::finetuneMetricsAreTheirCurves checks it against core's keys).
inline bool curve_kind_of_metric(const QString& key, CurveKind* kind) {
    static const std::pair<const char*, CurveKind> curves[] = {
        {"t_a_loss", CurveKind::TrainModel}, {"t_gt_loss", CurveKind::TrainGt},
        {"t_loss", CurveKind::TrainTotal},   {"v_loss", CurveKind::Validation},
        {"sft.t_loss", CurveKind::SftTrain}, {"sft.v_loss", CurveKind::SftValidation}};
    for (const auto& [name, k] : curves) {
        if (key != QLatin1String(name)) continue;
        *kind = k;
        return true;
    }
    return false;
}

struct CurvePoint {
    double step = 0.0;        // optimizer update index
    double wall_time_s = 0.0; // seconds since the run's first training metric
    double value = 0.0;       // loss (NaN allowed: drawn as a gap)
};

struct CurveBatch {
    QString run_id;
    CurveKind kind = CurveKind::TrainTotal;
    QVector<CurvePoint> points;
};

enum class XAxisMode { Step, WallTime };

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::CurveKind)
Q_DECLARE_METATYPE(rilq::widgets::CurvePoint)
Q_DECLARE_METATYPE(rilq::widgets::CurveBatch)
Q_DECLARE_METATYPE(rilq::widgets::XAxisMode)
