// The model behind parallel coordinates (TensorBoard HParams' view): one vertical axis per swept
// param and per chosen result, each run a polyline through its values, and brushes - a range on
// an axis - that keep the runs whose values lie in every brushed range. No painting here, so the
// selection rules are testable on their own.
#pragma once
#include "widgets/run_browser_types.h"
#include "widgets/run_columns.h"

#include <QStringList>
#include <QVector>

#include <optional>

namespace rilq::widgets {

struct ParallelAxis {
    RunColumn column;          // a Param or a result column of the Runs table (run_columns.h)
    bool categorical = false;  // a param with a non-numeric value (scope, a_type): evenly spaced
    QStringList categories;    // sorted, when categorical
    double lo = 0.0, hi = 1.0; // numeric: the runs' range (hi > lo)
    // A numeric param's distinct values, sorted: they sit evenly spaced (ranks 0, 1, 2, 4, 8, 16
    // would crowd the bottom of a linear axis), values between them proportionally. Empty for
    // results, which are placed linearly.
    QVector<double> steps;
    // The brushed range in axis units - values, or category indices when categorical; both ends
    // included. None = not brushed.
    std::optional<std::pair<double, double>> brush;
};

// Axes for `runs`: every param the runs vary, then `results` (titles of result columns) in order.
QVector<ParallelAxis> parallel_axes(const QVector<BrowserRun>& runs, const QStringList& results);
// Result columns (PPL, accuracy, best validation loss) whose value differs between the runs:
// the choices for metric axes and colour.
QStringList varied_result_titles(const QVector<BrowserRun>& runs);

// The run's value on `axis` in axis units (a category's index); nullopt when it has none.
std::optional<double> parallel_value(const BrowserRun& run, const ParallelAxis& axis);
// Where a value in axis units sits along the axis: 0 = bottom, 1 = top.
double parallel_position(const ParallelAxis& axis, double value);
// The inverse: axis units at `position` (0..1).
double parallel_value_at(const ParallelAxis& axis, double position);

// True when the run lies in every brush (a run without a value on a brushed axis does not).
bool run_in_brushes(const BrowserRun& run, const QVector<ParallelAxis>& axes);
bool any_brush(const QVector<ParallelAxis>& axes);

} // namespace rilq::widgets
