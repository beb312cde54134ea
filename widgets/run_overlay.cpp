#include "widgets/run_overlay.h"

#include "widgets/chart_style.h"
#include "widgets/plot_readout.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>
#include <cmath>

namespace rilq::widgets {

RunOverlay::RunOverlay(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    apply_plot_style(plot_);
    plot_->setMouseTracking(true);
    place_legend_outside(plot_);
    plot_->xAxis->setLabel(tr("optimizer step"));
    readout_ = std::make_unique<PlotReadout>(plot_);
    connect(plot_, &QCustomPlot::mouseMove, this, &RunOverlay::on_mouse_move);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("curve"), this));
    metric_box_ = new QComboBox(this);
    metric_box_->setMinimumContentsLength(10);
    bar->addWidget(metric_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("colour by"), this));
    color_box_ = new QComboBox(this);
    color_box_->setMinimumContentsLength(10);
    bar->addWidget(color_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("dash by"), this));
    dash_box_ = new QComboBox(this);
    dash_box_->setMinimumContentsLength(10);
    bar->addWidget(dash_box_);
    bar->addSpacing(12);
    log_y_box_ = new QCheckBox(tr("log y"), this);
    bar->addWidget(log_y_box_);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("smoothing"), this));
    smoothing_slider_ = new QSlider(Qt::Horizontal, this);
    smoothing_slider_->setRange(0, 99);
    smoothing_slider_->setFixedWidth(110);
    bar->addWidget(smoothing_slider_);
    bar->addStretch(1);
    connect(metric_box_, &QComboBox::currentTextChanged, this, &RunOverlay::setMetric);
    connect(color_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setColorParameter(color_box_->itemData(i).toString());
    });
    connect(dash_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setDashParameter(dash_box_->itemData(i).toString());
    });
    connect(log_y_box_, &QCheckBox::toggled, this, &RunOverlay::setLogY);
    connect(plot_, &QCustomPlot::legendClick, this,
            [this](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
                const QString run_id =
                    entry ? graphs_.key(qobject_cast<QCPGraph*>(entry->plottable())) : QString();
                if (!run_id.isEmpty()) setRunHidden(run_id, !isRunHidden(run_id));
            });
    connect(smoothing_slider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(plot_, 1);
}

RunOverlay::~RunOverlay() = default;

QStringList RunOverlay::metricKeys() const {
    QStringList keys;
    for (const RunCurve& run : runs_)
        for (auto it = run.curves.constBegin(); it != run.curves.constEnd(); ++it)
            if (!keys.contains(it.key())) keys.push_back(it.key());
    return keys;
}

QStringList RunOverlay::parameterKeys() const {
    QStringList keys;
    for (const RunCurve& run : runs_)
        for (auto it = run.params.constBegin(); it != run.params.constEnd(); ++it) {
            if (keys.contains(it.key())) continue;
            // Only what the sweep varied: a parameter equal in every run colours nothing.
            for (const RunCurve& other : runs_)
                if (other.params.value(it.key()) != it.value()) {
                    keys.push_back(it.key());
                    break;
                }
        }
    keys.sort();
    return keys;
}

void RunOverlay::setRuns(const QVector<RunCurve>& runs) {
    runs_ = runs;
    const QStringList metrics = metricKeys();
    // The validation loss is what early stopping and the paper's curves compare.
    if (!metrics.contains(metric_)) {
        const QString preferred = QStringLiteral("v_loss");
        metric_ = metrics.contains(preferred) ? preferred : metrics.isEmpty() ? QString() : metrics.front();
    }
    const QStringList params = parameterKeys();
    if (!params.contains(color_param_)) color_param_ = params.isEmpty() ? QString() : params.front();
    if (!params.contains(dash_param_)) dash_param_.clear();
    keep_channels_apart();
    choose_log_y();
    sync_controls();
    rebuild();
}

void RunOverlay::choose_log_y() {
    if (log_y_chosen_) return;
    QVector<QVector<double>> series;
    for (const RunCurve& run : runs_) {
        QVector<double> values;
        for (const QPointF& p : run.curves.value(metric_))
            values.push_back(p.y());
        series.push_back(values);
    }
    apply_log_y(series_scale_ratio(series) > kScaleRatioForLog);
}

void RunOverlay::apply_log_y(bool enabled) {
    log_y_ = enabled;
    set_log_axis(plot_->yAxis, enabled);
}

void RunOverlay::setRunHidden(const QString& run_id, bool hidden) {
    if (hidden)
        hidden_runs_.insert(run_id);
    else
        hidden_runs_.remove(run_id);
    rebuild();
}

void RunOverlay::sync_controls() {
    const QSignalBlocker b1(metric_box_), b2(color_box_), b3(log_y_box_), b4(smoothing_slider_),
        b5(dash_box_);
    metric_box_->clear();
    metric_box_->addItems(metricKeys());
    metric_box_->setCurrentText(metric_);
    color_box_->clear();
    color_box_->addItem(tr("run"), QString());
    for (const QString& key : parameterKeys())
        color_box_->addItem(key, key);
    color_box_->setCurrentIndex(std::max(0, color_box_->findData(color_param_)));
    dash_box_->clear();
    dash_box_->addItem(tr("none"), QString());
    for (const QString& key : parameterKeys())
        dash_box_->addItem(key, key);
    dash_box_->setCurrentIndex(std::max(0, dash_box_->findData(dash_param_)));
    log_y_box_->setChecked(log_y_);
    smoothing_slider_->setValue(int(std::lround(smoothing_ * 100)));
}

void RunOverlay::setMetric(const QString& metric) {
    metric_ = metric;
    choose_log_y();
    sync_controls();
    rebuild();
}

// Two swept params (rank x scope): the one not coloured dashes, so no two runs look alike. Of
// several, the one with the fewest values (a scope, not a per-run output folder): dash patterns
// tell only a few values apart.
void RunOverlay::keep_channels_apart() {
    if (!dash_param_.isEmpty() && dash_param_ != color_param_) return;
    dash_param_.clear();
    qsizetype fewest = 0;
    for (const QString& key : parameterKeys()) {
        if (key == color_param_) continue;
        QStringList values;
        for (const RunCurve& run : runs_)
            if (!values.contains(run.params.value(key))) values.push_back(run.params.value(key));
        if (dash_param_.isEmpty() || values.size() < fewest) {
            dash_param_ = key;
            fewest = values.size();
        }
    }
}

void RunOverlay::setColorParameter(const QString& key) {
    color_param_ = key;
    keep_channels_apart();
    sync_controls();
    rebuild();
}

void RunOverlay::setDashParameter(const QString& key) {
    dash_param_ = key;
    sync_controls();
    rebuild();
}

Qt::PenStyle RunOverlay::dashOf(const QString& run_id) const {
    return dashes_.value(run_id, Qt::SolidLine);
}

void RunOverlay::setLogY(bool enabled) {
    log_y_chosen_ = true;
    apply_log_y(enabled);
    sync_controls();
    rebuild();
}

void RunOverlay::setSmoothing(double weight) {
    smoothing_ = std::clamp(weight, 0.0, 0.999);
    sync_controls();
    rebuild();
}

void RunOverlay::rebuild() {
    readout_->hide();
    plot_->clearGraphs();
    graphs_.clear();
    colors_.clear();
    dashes_.clear();

    // Dashes: one style per value of the second parameter, in sorted order.
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

    // Colours: numeric parameter -> viridis by rank among its values; text -> palette by value.
    QVector<int> order(runs_.size());
    std::iota(order.begin(), order.end(), 0);
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
    if (!color_param_.isEmpty()) // legend in parameter order
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
            return numeric ? numbers[a] < numbers[b]
                           : runs_[a].params.value(color_param_) < runs_[b].params.value(color_param_);
        });
    for (int i = 0; i < runs_.size(); ++i) {
        const RunCurve& run = runs_[i];
        const QColor color = color_param_.isEmpty() ? categorical_color(i)
                             : numeric
                                 ? colormap.color_for(numbers[i])
                                 : categorical_color(int(categories.indexOf(run.params.value(color_param_))));
        colors_.insert(run.run_id, color);
    }
    for (int i : order) {
        const RunCurve& run = runs_[i];
        if (!run.curves.contains(metric_)) continue;
        QVector<double> keys, values;
        for (const QPointF& p : run.curves.value(metric_)) {
            keys.push_back(p.x());
            values.push_back(p.y());
        }
        if (smoothing_ > 0.0) values = ema_smooth(values, smoothing_);
        QCPGraph* g = plot_->addGraph();
        QString name = run.label.isEmpty() ? run.run_id : run.label;
        for (const QString& key : {color_param_, dash_param_}) {
            const QString value = run.params.value(key);
            if (!key.isEmpty() && !name.contains(value)) name += QString(" · %1=%2").arg(key, value);
        }
        g->setName(name);
        g->setPen(curve_pen(colors_.value(run.run_id), 1.8, dashOf(run.run_id), int(keys.size())));
        g->setAdaptiveSampling(true);
        g->setData(keys, values);
        graphs_.insert(run.run_id, g);
        if (isRunHidden(run.run_id)) { // still listed: a second click brings it back
            g->setVisible(false);
            if (auto* entry = plot_->legend->itemWithPlottable(g)) entry->setTextColor(QColor(170, 170, 170));
        }
    }
    plot_->yAxis->setLabel(log_y_ ? tr("%1 (log scale)").arg(metric_) : metric_);
    plot_->rescaleAxes(/*onlyVisiblePlottables=*/true);
    plot_->yAxis->scaleRange(1.06);
    include_decade_below(plot_->yAxis);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QCPGraph* RunOverlay::graph(const QString& run_id) const {
    return graphs_.value(run_id, nullptr);
}
QColor RunOverlay::runColor(const QString& run_id) const {
    return colors_.value(run_id);
}

bool RunOverlay::showReadoutAt(const QPointF& pixel) {
    const GraphHit hit = nearest_point(graphs_.values().toVector(), pixel, 40.0);
    if (!hit.graph) {
        readout_->hide();
        return false;
    }
    const QCPGraphData& p = *(hit.graph->data()->constBegin() + hit.index);
    const QString run_id = graphs_.key(hit.graph);
    readout_->show(
        hit, tr("%1\nstep %2 · %3 %4").arg(hit.graph->name()).arg(p.key).arg(metric_).arg(p.value, 0, 'g', 5),
        colors_.value(run_id).darker(140));
    return true;
}

QString RunOverlay::readoutText() const {
    return readout_->text();
}

void RunOverlay::on_mouse_move(QMouseEvent* event) {
    const bool was_visible = readout_->visible();
    if (showReadoutAt(event->position()) || was_visible) plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace rilq::widgets
