#include "widgets/run_columns.h"

#include "widgets/curve_types.h" // curve_kind_of_metric: which metric is the validation loss

#include <QSet>
#include <QStringList>

#include <algorithm>

namespace rilq::widgets {

namespace {

// Result titles in first-seen order over the runs (the source orders each run's list).
QStringList result_titles(const QVector<BrowserRun>& runs,
                          QVector<QPair<QString, double>> BrowserRun::*list) {
    QStringList titles;
    for (const BrowserRun& run : runs)
        for (const auto& [title, value] : run.*list)
            if (!titles.contains(title)) titles << title;
    return titles;
}

std::optional<double> result_of(const QVector<QPair<QString, double>>& list, const QString& title) {
    for (const auto& [t, value] : list)
        if (t == title) return value;
    return std::nullopt;
}

bool is_validation_loss(const QString& metric) {
    CurveKind kind;
    return curve_kind_of_metric(metric, &kind) && kind == CurveKind::Validation;
}

} // namespace

QVector<RunColumn> run_columns(const QVector<BrowserRun>& runs, int max_params) {
    QVector<RunColumn> columns;
    columns.push_back({QStringLiteral("Run"), RunColumnKind::Name, {}, true});
    for (const QString& title : result_titles(runs, &BrowserRun::perplexity))
        columns.push_back({title, RunColumnKind::Perplexity, title, true});
    for (const QString& title : result_titles(runs, &BrowserRun::accuracy))
        columns.push_back({QStringLiteral("%1 (%)").arg(title), RunColumnKind::Accuracy, title, true});

    QSet<QString> metric_set;
    for (const BrowserRun& run : runs)
        for (auto it = run.best.begin(); it != run.best.end(); ++it)
            metric_set.insert(it.key());
    QStringList metrics = metric_set.values();
    metrics.sort();
    // The validation loss is a result (what early stopping and the paper compare); the other
    // minima (lr, es_counter, ...) are the trainer's internals.
    std::stable_partition(metrics.begin(), metrics.end(), is_validation_loss);
    for (const QString& key : metrics)
        columns.push_back(
            {QStringLiteral("best %1").arg(key), RunColumnKind::BestMetric, key, is_validation_loss(key)});

    columns.push_back({QStringLiteral("Status"), RunColumnKind::Status, {}, true});
    columns.push_back({QStringLiteral("Duration"), RunColumnKind::Duration, {}, true});
    columns.push_back({QStringLiteral("Started"), RunColumnKind::Started, {}, true});
    columns.push_back({QStringLiteral("Experiment"), RunColumnKind::Experiment, {}, true});

    // Params worth a column: those whose value differs between the listed runs (what a sweep
    // varied); identical params would only repeat themselves down the table.
    QMap<QString, QSet<QString>> values;
    for (const BrowserRun& run : runs)
        for (auto it = run.params.begin(); it != run.params.end(); ++it)
            values[it.key()].insert(it.value());
    int params = 0;
    for (auto it = values.begin(); it != values.end() && params < max_params; ++it) {
        const bool everywhere = std::all_of(
            runs.begin(), runs.end(), [&](const BrowserRun& run) { return run.params.contains(it.key()); });
        if (it.value().size() < 2 && everywhere) continue;
        columns.push_back({it.key(), RunColumnKind::Param, it.key(), true});
        ++params;
    }
    return columns;
}

std::optional<double> run_column_number(const BrowserRun& run, const RunColumn& column) {
    switch (column.kind) {
    case RunColumnKind::Perplexity:
        return result_of(run.perplexity, column.key);
    case RunColumnKind::Accuracy:
        return result_of(run.accuracy, column.key);
    case RunColumnKind::BestMetric:
        if (run.best.contains(column.key)) return run.best.value(column.key);
        return std::nullopt;
    case RunColumnKind::Duration:
        if (run.duration_s >= 0.0) return run.duration_s;
        return std::nullopt;
    case RunColumnKind::Started:
        if (run.started.isValid()) return double(run.started.toMSecsSinceEpoch());
        return std::nullopt;
    case RunColumnKind::Param: {
        bool numeric = false;
        const double x = run.params.value(column.key).toDouble(&numeric);
        if (numeric) return x; // "16" sorts after "4"
        return std::nullopt;
    }
    case RunColumnKind::Name:
    case RunColumnKind::Status:
    case RunColumnKind::Experiment:
        return std::nullopt;
    }
    return std::nullopt;
}

QString run_column_text(const BrowserRun& run, const RunColumn& column) {
    const std::optional<double> number = run_column_number(run, column);
    switch (column.kind) {
    case RunColumnKind::Name:
        return run.name.isEmpty() ? run.uuid.left(8) : run.name;
    case RunColumnKind::Status:
        return run_status_name(run.status);
    case RunColumnKind::Experiment:
        return run.experiment;
    case RunColumnKind::Param:
        return run.params.value(column.key);
    case RunColumnKind::Started:
        return number ? run.started.toString(QStringLiteral("yyyy-MM-dd hh:mm")) : QStringLiteral("-");
    case RunColumnKind::Duration:
        return format_duration(run.duration_s);
    case RunColumnKind::Accuracy:
        return number ? QString::number(100.0 * *number, 'f', 2) : QString();
    case RunColumnKind::Perplexity:
    case RunColumnKind::BestMetric:
        return number ? QString::number(*number, 'g', 5) : QString();
    }
    return {};
}

bool run_column_has_delta(RunColumnKind kind) {
    return kind == RunColumnKind::Perplexity || kind == RunColumnKind::Accuracy ||
           kind == RunColumnKind::BestMetric;
}

QString run_column_delta_text(const RunColumn& column, double value, double reference) {
    const double scale = column.kind == RunColumnKind::Accuracy ? 100.0 : 1.0; // percentage points
    return QString::asprintf("%+.3g", scale * (value - reference));
}

} // namespace rilq::widgets
