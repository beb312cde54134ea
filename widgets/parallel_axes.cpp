#include "widgets/parallel_axes.h"

#include <algorithm>
#include <cmath>

namespace rilq::widgets {

namespace {
bool column_differs(const QVector<BrowserRun>& runs, const RunColumn& column) {
    QStringList seen;
    for (const BrowserRun& run : runs) {
        const QString text = run_column_text(run, column);
        if (!seen.contains(text)) seen << text;
    }
    return seen.size() > 1;
}

bool result_kind(RunColumnKind kind) {
    return kind == RunColumnKind::Perplexity || kind == RunColumnKind::Accuracy ||
           kind == RunColumnKind::BestMetric;
}
} // namespace

QStringList varied_result_titles(const QVector<BrowserRun>& runs) {
    QStringList titles;
    for (const RunColumn& column : run_columns(runs))
        if (result_kind(column.kind) && column.shown_by_default && column_differs(runs, column))
            titles << column.title;
    return titles;
}

QVector<ParallelAxis> parallel_axes(const QVector<BrowserRun>& runs, const QStringList& results) {
    QVector<ParallelAxis> axes;
    const QVector<RunColumn> columns = run_columns(runs);
    auto add = [&](const RunColumn& column) {
        ParallelAxis axis;
        axis.column = column;
        bool any = false;
        for (const BrowserRun& run : runs) {
            if (column.kind == RunColumnKind::Param && run.params.contains(column.key) &&
                !run_column_number(run, column)) {
                axis.categorical = true;
            }
            if (const auto v = run_column_number(run, column)) {
                axis.lo = any ? std::min(axis.lo, *v) : *v;
                axis.hi = any ? std::max(axis.hi, *v) : *v;
                any = true;
            }
        }
        if (axis.categorical) {
            for (const BrowserRun& run : runs)
                if (run.params.contains(column.key) &&
                    !axis.categories.contains(run.params.value(column.key)))
                    axis.categories << run.params.value(column.key);
            axis.categories.sort();
        } else if (column.kind == RunColumnKind::Param && any && axis.hi > axis.lo) {
            for (const BrowserRun& run : runs)
                if (const auto v = run_column_number(run, column); v && !axis.steps.contains(*v))
                    axis.steps << *v;
            std::sort(axis.steps.begin(), axis.steps.end());
        } else if (!any || !(axis.hi > axis.lo)) { // one value: centred in a unit range
            const double middle = any ? axis.lo : 0.0;
            axis.lo = middle - 0.5;
            axis.hi = middle + 0.5;
        }
        axes.push_back(axis);
    };
    for (const RunColumn& column : columns)
        if (column.kind == RunColumnKind::Param && column_differs(runs, column)) add(column);
    for (const QString& title : results)
        for (const RunColumn& column : columns)
            if (column.title == title && result_kind(column.kind)) add(column);
    return axes;
}

std::optional<double> parallel_value(const BrowserRun& run, const ParallelAxis& axis) {
    if (axis.categorical) {
        if (!run.params.contains(axis.column.key)) return std::nullopt;
        return double(axis.categories.indexOf(run.params.value(axis.column.key)));
    }
    return run_column_number(run, axis.column);
}

double parallel_position(const ParallelAxis& axis, double value) {
    if (axis.categorical) {
        const qsizetype n = axis.categories.size();
        return n > 1 ? value / double(n - 1) : 0.5;
    }
    if (axis.steps.size() > 1) { // evenly spaced distinct values, linear between neighbours
        const QVector<double>& v = axis.steps;
        const double last = double(v.size() - 1);
        if (value <= v.front()) return 0.0;
        if (value >= v.back()) return 1.0;
        const qsizetype i = std::upper_bound(v.begin(), v.end(), value) - v.begin() - 1;
        return (double(i) + (value - v[i]) / (v[i + 1] - v[i])) / last;
    }
    return (value - axis.lo) / (axis.hi - axis.lo);
}

double parallel_value_at(const ParallelAxis& axis, double position) {
    if (axis.categorical) {
        const qsizetype n = axis.categories.size();
        return n > 1 ? position * double(n - 1) : 0.0;
    }
    if (axis.steps.size() > 1) {
        const QVector<double>& v = axis.steps;
        const double at = std::clamp(position, 0.0, 1.0) * double(v.size() - 1);
        const qsizetype i = std::min<qsizetype>(qsizetype(at), v.size() - 2);
        return v[i] + (at - double(i)) * (v[i + 1] - v[i]);
    }
    return axis.lo + position * (axis.hi - axis.lo);
}

bool run_in_brushes(const BrowserRun& run, const QVector<ParallelAxis>& axes) {
    for (const ParallelAxis& axis : axes) {
        if (!axis.brush) continue;
        const auto v = parallel_value(run, axis);
        const auto [lo, hi] = *axis.brush;
        if (!v || *v < std::min(lo, hi) || *v > std::max(lo, hi)) return false;
    }
    return true;
}

bool any_brush(const QVector<ParallelAxis>& axes) {
    return std::any_of(axes.begin(), axes.end(), [](const ParallelAxis& a) { return a.brush.has_value(); });
}

} // namespace rilq::widgets
