// RunOverlay's drawing: which curves (a run, or a seed group's mean and band), their colours and
// dashes, their x, and the charts they go on.
#include "widgets/chart_style.h"
#include "widgets/plot_readout.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_overlay.h"

#include <QCheckBox>

#include <algorithm>
#include <numeric>

namespace rilq::widgets {

struct OverlaySeries {
    QString key;         // run id whose legend entry hides it (a band: its group's first run)
    QStringList run_ids; // the runs it draws (a band: every seed)
    QString name;
    QColor color;
    Qt::PenStyle dash = Qt::SolidLine;
    QVector<double> x, y;
    QVector<double> lower, upper; // mean -+ std of a band; empty for one run
};

QVector<double> RunOverlay::x_of(const RunCurve& run, const QString& metric) const {
    const QVector<QPointF>& points = run.curves.value(metric);
    QVector<double> x;
    if (x_axis_ == CompareXAxis::WallTime) return run.seconds.value(metric);
    const double scale = x_axis_ == CompareXAxis::Tokens ? run.tokens_per_step : 1.0;
    for (const QPointF& p : points)
        x.push_back(p.x() * scale);
    return x;
}

// Dashes: one style per value of the dash param, in sorted order. Colours: a numeric colour
// param -> viridis by rank among its values; a text one -> palette by value; none -> by run.
void RunOverlay::assign_colors() {
    colors_.clear();
    dashes_.clear();
    if (!dash_param_.isEmpty()) {
        QStringList values;
        for (const RunCurve& run : runs_)
            if (!values.contains(run.params.value(dash_param_)))
                values.push_back(run.params.value(dash_param_));
        values.sort();
        const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine,
                                       Qt::DashDotDotLine};
        for (const RunCurve& run : runs_)
            dashes_.insert(run.run_id, styles[values.indexOf(run.params.value(dash_param_)) % 5]);
    }
    bool numeric = !color_param_.isEmpty();
    QVector<double> numbers;
    for (const RunCurve& run : runs_) {
        bool ok = false;
        numbers.push_back(run.params.value(color_param_).toDouble(&ok));
        numeric = numeric && ok;
    }
    QStringList categories;
    if (!color_param_.isEmpty() && !numeric) {
        for (const RunCurve& run : runs_)
            if (!categories.contains(run.params.value(color_param_)))
                categories.push_back(run.params.value(color_param_));
        categories.sort();
    }
    const ParameterColorMap colormap(numbers, ColorScale::Ordinal);
    const QVector<QVector<int>> groups =
        drawsSeedBands() ? group_runs_by_seed(runs_, kSeedParam) : QVector<QVector<int>>();
    for (int i = 0; i < runs_.size(); ++i) {
        const RunCurve& run = runs_[i];
        int palette_index = i; // by run; a seed group takes its group's number
        for (int g = 0; g < groups.size(); ++g)
            if (groups[g].contains(i)) palette_index = g;
        const QColor color = color_param_.isEmpty() ? categorical_color(palette_index)
                             : numeric
                                 ? colormap.color_for(numbers[i])
                                 : categorical_color(int(categories.indexOf(run.params.value(color_param_))));
        colors_.insert(run.run_id, color);
    }
}

QString RunOverlay::series_name(const RunCurve& run, int seeds) const {
    if (seeds > 1) { // the group's settings without any one seed, named as runs are ("lora_r=4,scope=model")
        QStringList parts;
        for (const QString& key : channelKeys())
            parts.push_back(
                QStringLiteral("%1=%2").arg(key.section(QLatin1Char('.'), -1), run.params.value(key)));
        return tr("%1 · n=%2")
            .arg(parts.isEmpty() ? tr("all runs") : parts.join(QLatin1Char(',')))
            .arg(seeds);
    }
    QString name = run.label.isEmpty() ? run.run_id : run.label;
    for (const QString& key : {color_param_, dash_param_}) {
        const QString value = run.params.value(key);
        if (!key.isEmpty() && !name.contains(value)) name += QStringLiteral(" · %1=%2").arg(key, value);
    }
    return name;
}

QVector<OverlaySeries> RunOverlay::collect_series() {
    assign_colors();
    QVector<QVector<int>> groups;
    if (drawsSeedBands()) {
        groups = group_runs_by_seed(runs_, kSeedParam);
    } else {
        for (int i = 0; i < runs_.size(); ++i)
            groups.push_back({i});
    }
    // Legend in colour-parameter order (numeric where it is numeric).
    auto param_less = [this](const QVector<int>& a, const QVector<int>& b) {
        const QString va = runs_[a.front()].params.value(color_param_);
        const QString vb = runs_[b.front()].params.value(color_param_);
        bool ok_a = false, ok_b = false;
        const double na = va.toDouble(&ok_a), nb = vb.toDouble(&ok_b);
        return ok_a && ok_b ? na < nb : va < vb;
    };
    if (!color_param_.isEmpty()) std::stable_sort(groups.begin(), groups.end(), param_less);

    QVector<OverlaySeries> all;
    for (const QVector<int>& group : groups) {
        QVector<int> members; // the group's runs that logged the metric
        for (int i : group)
            if (runs_[i].curves.contains(metric_)) members.push_back(i);
        if (members.isEmpty()) continue;
        const RunCurve& first = runs_[members.front()];
        OverlaySeries s;
        s.key = first.run_id;
        s.color = colors_.value(first.run_id);
        s.dash = dashOf(first.run_id);
        s.name = series_name(first, int(members.size()));
        // Each run's values smoothed by itself (TensorBoard smooths runs, then W&B groups them).
        QVector<QVector<QPointF>> values, seconds;
        for (int i : members) {
            s.run_ids.push_back(runs_[i].run_id);
            const QVector<QPointF>& points = runs_[i].curves.value(metric_);
            QVector<double> y;
            for (const QPointF& p : points)
                y.push_back(p.y());
            if (smoothing_ > 0.0) y = ema_smooth(y, smoothing_);
            QVector<QPointF> smoothed, times;
            const QVector<double> t = runs_[i].seconds.value(metric_);
            for (int k = 0; k < points.size(); ++k) {
                smoothed.push_back(QPointF(points[k].x(), y[k]));
                if (k < t.size()) times.push_back(QPointF(points[k].x(), t[k]));
            }
            values.push_back(smoothed);
            seconds.push_back(times);
        }
        if (members.size() == 1) {
            s.x = x_of(first, metric_);
            for (const QPointF& p : values.front())
                s.y.push_back(p.y());
        } else {
            const SeedGroup band = seed_band(members, values);
            drawn_groups_.push_back(band);
            QMap<double, double> mean_time; // step -> the seeds' mean wall time there
            if (x_axis_ == CompareXAxis::WallTime) {
                const SeedGroup time_band = seed_band(members, seconds);
                for (int k = 0; k < time_band.steps.size(); ++k)
                    mean_time.insert(time_band.steps[k], time_band.mean[k]);
            }
            for (int k = 0; k < band.steps.size(); ++k) {
                const double step = band.steps[k];
                s.x.push_back(x_axis_ == CompareXAxis::Tokens     ? step * first.tokens_per_step
                              : x_axis_ == CompareXAxis::WallTime ? mean_time.value(step, step)
                                                                  : step);
                s.y.push_back(band.mean[k]);
                s.lower.push_back(band.mean[k] - band.std_dev[k]);
                s.upper.push_back(band.mean[k] + band.std_dev[k]);
            }
        }
        all.push_back(s);
    }
    return all;
}

void RunOverlay::lay_out_charts(int count) {
    QCPLayoutGrid* layout = plot_->plotLayout();
    while (charts_.size() > count)
        layout->remove(charts_.takeLast());
    layout->simplify();
    while (charts_.size() < count) {
        auto* rect = new QCPAxisRect(plot_);
        style_axis_rect(rect);
        layout->addElement(int(charts_.size()), 0, rect);
        charts_.push_back(rect);
    }
    for (QCPAxisRect* rect : charts_)
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins_);
}

void RunOverlay::draw_series(const OverlaySeries& s, QCPAxisRect* rect) {
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    const bool hidden = isRunHidden(s.key);
    if (!s.lower.isEmpty()) { // the band first, so the mean is drawn over it
        QCPGraph* lower = plot_->addGraph(x, y);
        QCPGraph* upper = plot_->addGraph(x, y);
        lower->setData(s.x, s.lower, /*alreadySorted=*/true);
        upper->setData(s.x, s.upper, true);
        for (QCPGraph* edge : {lower, upper}) {
            edge->setPen(QPen(with_alpha(s.color, 90), 0.8));
            edge->removeFromLegend();
            edge->setVisible(!hidden);
        }
        upper->setBrush(with_alpha(s.color, 45));
        upper->setChannelFillGraph(lower);
        for (const QString& id : s.run_ids) {
            lower_.insert(id, lower);
            upper_.insert(id, upper);
        }
    }
    QCPGraph* g = plot_->addGraph(x, y);
    g->setName(s.name);
    g->setPen(curve_pen(s.color, s.lower.isEmpty() ? 1.8 : 2.2, s.dash, int(s.x.size())));
    g->setAdaptiveSampling(true);
    g->setData(s.x, s.y);
    keys_.insert(g, s.key);
    for (const QString& id : s.run_ids) {
        graphs_.insert(id, g);
        chart_of_.insert(id, int(charts_.indexOf(rect)));
    }
    if (hidden) { // still listed: a second click brings it back
        g->setVisible(false);
        if (auto* entry = plot_->legend->itemWithPlottable(g)) entry->setTextColor(QColor(170, 170, 170));
    }
}

void RunOverlay::rebuild() {
    readout_->hide();
    plot_->clearGraphs();
    graphs_.clear();
    keys_.clear();
    lower_.clear();
    upper_.clear();
    chart_of_.clear();
    drawn_groups_.clear();

    const QVector<OverlaySeries> series = collect_series();
    QVector<int> chart_index(series.size(), 0);
    if (split_) {
        QVector<QVector<double>> values;
        for (const OverlaySeries& s : series)
            values.push_back(s.y);
        chart_index = scale_groups(values, kScaleRatioForLog);
    }
    const int count =
        chart_index.isEmpty() ? 1 : *std::max_element(chart_index.begin(), chart_index.end()) + 1;
    lay_out_charts(count);
    if (split_ && chart_log_.size() != count) chart_log_ = QVector<bool>(count, false);
    for (int i = 0; i < series.size(); ++i)
        draw_series(series[i], charts_[chart_index[i]]);

    const QString x_label = x_axis_ == CompareXAxis::Tokens     ? tr("training tokens")
                            : x_axis_ == CompareXAxis::WallTime ? tr("wall time (s)")
                                                                : tr("optimizer step");
    QCPRange x_range;
    bool any_x = false;
    for (int c = 0; c < count; ++c) {
        QCPAxisRect* rect = charts_[c];
        QCPAxis* x = rect->axis(QCPAxis::atBottom);
        QCPAxis* y = rect->axis(QCPAxis::atLeft);
        set_log_axis(y, chartLogY(c));
        y->setLabel(chartLogY(c) ? tr("%1 (log scale)").arg(metric_) : metric_);
        x->setLabel(c == count - 1 ? x_label : QString()); // one x title, under the lowest chart
        x->rescale(/*onlyVisiblePlottables=*/true);
        y->rescale(true);
        y->scaleRange(1.06);
        include_decade_below(y);
        if (!rect->graphs().isEmpty()) {
            x_range = any_x ? QCPRange(std::min(x_range.lower, x->range().lower),
                                       std::max(x_range.upper, x->range().upper))
                            : x->range();
            any_x = true;
        }
    }
    if (any_x)
        for (QCPAxisRect* rect : charts_) // one x range: the charts read as one figure
            rect->axis(QCPAxis::atBottom)->setRange(x_range);
    sync_log_boxes();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace rilq::widgets
