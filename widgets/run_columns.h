// The Runs table's columns, results first: what a researcher scans a sweep for (perplexity per
// eval dataset and stage, task accuracies, the best validation loss) leads, then status, duration
// and start, then the params the listed runs vary; the other logged metrics' minima (lr,
// es_counter, ...) are internals, hidden until the column chooser shows them.
#pragma once
#include "widgets/run_browser_types.h"

#include <QString>
#include <QVector>

#include <optional>

namespace rilq::widgets {

enum class RunColumnKind {
    Name,
    Status,
    Perplexity,
    Accuracy,
    BestMetric,
    Duration,
    Started,
    Experiment,
    Param
};

struct RunColumn {
    QString title; // unique within a table; the column chooser and the settings use it
    RunColumnKind kind = RunColumnKind::Name;
    QString key; // Perplexity / Accuracy: the run's result title; BestMetric: metric key; Param: param key
    bool shown_by_default = true;
};

// Columns for `runs`, in display order. Params: those whose value differs between the runs (what
// a sweep varied) or that only some runs have, at most `max_params` of them.
QVector<RunColumn> run_columns(const QVector<BrowserRun>& runs, int max_params = 12);

// A run's number in a column (results, metric minima, duration, start in ms, numeric params);
// nullopt when it has none. Accuracies are fractions (0-1).
std::optional<double> run_column_number(const BrowserRun& run, const RunColumn& column);
// The cell as shown: PPL and metrics with 5 significant digits, accuracy in percent (2 decimals).
QString run_column_text(const BrowserRun& run, const RunColumn& column);
// Columns whose difference to a reference run means something: results and metric minima.
bool run_column_has_delta(RunColumnKind kind);
// "+1.25" / "-0.5": value minus reference (3 significant digits) in the column's unit (accuracy in percentage
// points).
QString run_column_delta_text(const RunColumn& column, double value, double reference);

} // namespace rilq::widgets
