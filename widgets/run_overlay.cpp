#include "widgets/run_overlay.h"

#include "core/finetune/finetune_metrics.h" // kFinetuneMetricPrefix
#include "widgets/chart_style.h"
#include "widgets/plot_readout.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace rilq::widgets {

namespace {
QComboBox* overlay_combo(QWidget* parent) {
    auto* box = new QComboBox(parent);
    box->setMinimumContentsLength(10);
    return box;
}
} // namespace

RunOverlay::RunOverlay(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    apply_plot_style(plot_);
    plot_->setMouseTracking(true);
    place_legend_outside(plot_);
    margins_ = new QCPMarginGroup(plot_);
    charts_ = {plot_->axisRect()};
    readout_ = std::make_unique<PlotReadout>(plot_);
    connect(plot_, &QCustomPlot::mouseMove, this, &RunOverlay::on_mouse_move);

    // Two rows: what is drawn (curve, x, colour, dash), then how (smoothing, bands, scales).
    auto* what = new QHBoxLayout;
    what->addWidget(new QLabel(tr("curve"), this));
    metric_box_ = overlay_combo(this);
    what->addWidget(metric_box_);
    what->addSpacing(12);
    what->addWidget(new QLabel(tr("x"), this));
    x_box_ = new QComboBox(this);
    x_box_->addItem(tr("step"), int(CompareXAxis::Step));
    x_box_->addItem(tr("tokens"), int(CompareXAxis::Tokens));
    x_box_->addItem(tr("wall time"), int(CompareXAxis::WallTime));
    what->addWidget(x_box_);
    what->addSpacing(12);
    what->addWidget(new QLabel(tr("colour by"), this));
    color_box_ = overlay_combo(this);
    what->addWidget(color_box_);
    what->addSpacing(12);
    what->addWidget(new QLabel(tr("dash by"), this));
    dash_box_ = overlay_combo(this);
    what->addWidget(dash_box_);
    what->addStretch(1);

    auto* how = new QHBoxLayout;
    how->addWidget(new QLabel(tr("smoothing"), this));
    smoothing_slider_ = new QSlider(Qt::Horizontal, this);
    smoothing_slider_->setRange(0, 99);
    smoothing_slider_->setFixedWidth(110);
    how->addWidget(smoothing_slider_);
    how->addSpacing(12);
    bands_box_ = new QCheckBox(tr("seeds as mean \u00b1 std"), this);
    bands_box_->setToolTip(tr("Runs that differ only in their seed: one mean curve in a band of one "
                              "standard deviation"));
    how->addWidget(bands_box_);
    how->addSpacing(12);
    split_box_ = new QCheckBox(tr("split scales"), this);
    split_box_->setToolTip(
        tr("One chart per group of curves within %1x of each other").arg(kScaleRatioForLog));
    how->addWidget(split_box_);
    how->addSpacing(12);
    log_boxes_ = new QHBoxLayout;
    how->addLayout(log_boxes_);
    how->addStretch(1);

    connect(metric_box_, &QComboBox::currentTextChanged, this, &RunOverlay::setMetric);
    connect(x_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setXAxis(CompareXAxis(x_box_->itemData(i).toInt()));
    });
    connect(color_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setColorParameter(color_box_->itemData(i).toString());
    });
    connect(dash_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        if (i >= 0) setDashParameter(dash_box_->itemData(i).toString());
    });
    connect(bands_box_, &QCheckBox::toggled, this, &RunOverlay::setSeedBands);
    connect(split_box_, &QCheckBox::toggled, this, &RunOverlay::setSplitCharts);
    connect(plot_, &QCustomPlot::legendClick, this,
            [this](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
                const QString run_id =
                    entry ? keys_.value(qobject_cast<QCPGraph*>(entry->plottable())) : QString();
                if (!run_id.isEmpty()) setRunHidden(run_id, !isRunHidden(run_id));
            });
    // A double click on a chart's y axis toggles that chart's log scale.
    connect(plot_, &QCustomPlot::axisDoubleClick, this,
            [this](QCPAxis* axis, QCPAxis::SelectablePart, QMouseEvent*) {
                const int index = int(charts_.indexOf(axis->axisRect()));
                if (axis->axisType() == QCPAxis::atLeft && index >= 0) setChartLogY(index, !chartLogY(index));
            });
    connect(smoothing_slider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(what);
    layout->addLayout(how);
    layout->addWidget(plot_, 1);
    sync_controls();
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

QStringList RunOverlay::channelKeys() const {
    QStringList keys = parameterKeys();
    if (drawsSeedBands()) keys.removeAll(kSeedParam); // a band has no single seed to colour by
    return keys;
}

bool RunOverlay::drawsSeedBands() const {
    return seed_bands_ && has_seed_groups(group_runs_by_seed(runs_, kSeedParam));
}

void RunOverlay::setRuns(const QVector<RunCurve>& runs) {
    runs_ = runs;
    const QStringList metrics = metricKeys();
    // The validation loss is what early stopping and the paper's curves compare.
    if (!metrics.contains(metric_)) {
        const QString preferred = QStringLiteral("v_loss");
        metric_ = metrics.contains(preferred) ? preferred : metrics.isEmpty() ? QString() : metrics.front();
    }
    const QStringList params = channelKeys();
    if (!params.contains(color_param_)) color_param_ = params.isEmpty() ? QString() : params.front();
    if (!params.contains(dash_param_)) dash_param_.clear();
    if (!xAxisAvailable(x_axis_)) x_axis_ = CompareXAxis::Step;
    keep_channels_apart();
    choose_log_y();
    chart_log_.clear(); // other runs, other scale groups
    sync_controls();
    rebuild();
}

bool RunOverlay::xAxisAvailable(CompareXAxis axis) const {
    // tokens_per_step is the RILQ stage's; the fine-tuning stage's "sft.*" curves have other batches.
    if (axis == CompareXAxis::Tokens && metric_.startsWith(QLatin1String(run::kFinetuneMetricPrefix)))
        return false;
    bool any = false;
    for (const RunCurve& run : runs_) {
        if (!run.curves.contains(metric_)) continue;
        any = true;
        if (axis == CompareXAxis::Tokens && !(run.tokens_per_step > 0.0)) return false;
        if (axis == CompareXAxis::WallTime &&
            run.seconds.value(metric_).size() != run.curves.value(metric_).size())
            return false;
    }
    return any || axis == CompareXAxis::Step;
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
    log_y_ = series_scale_ratio(series) > kScaleRatioForLog;
}

void RunOverlay::setRunHidden(const QString& run_id, bool hidden) {
    if (hidden)
        hidden_runs_.insert(run_id);
    else
        hidden_runs_.remove(run_id);
    rebuild();
}

void RunOverlay::sync_controls() {
    const QSignalBlocker b1(metric_box_), b2(color_box_), b3(x_box_), b4(smoothing_slider_), b5(dash_box_),
        b6(bands_box_), b7(split_box_);
    metric_box_->clear();
    metric_box_->addItems(metricKeys());
    metric_box_->setCurrentText(metric_);
    for (int i = 0; i < x_box_->count(); ++i) { // greyed out where a run lacks tokens or times
        auto* model = qobject_cast<QStandardItemModel*>(x_box_->model());
        if (model) model->item(i)->setEnabled(xAxisAvailable(CompareXAxis(x_box_->itemData(i).toInt())));
    }
    x_box_->setCurrentIndex(std::max(0, x_box_->findData(int(x_axis_))));
    color_box_->clear();
    color_box_->addItem(tr("run"), QString());
    for (const QString& key : channelKeys())
        color_box_->addItem(key, key);
    color_box_->setCurrentIndex(std::max(0, color_box_->findData(color_param_)));
    dash_box_->clear();
    dash_box_->addItem(tr("none"), QString());
    for (const QString& key : channelKeys())
        dash_box_->addItem(key, key);
    dash_box_->setCurrentIndex(std::max(0, dash_box_->findData(dash_param_)));
    smoothing_slider_->setValue(int(std::lround(smoothing_ * 100)));
    bands_box_->setChecked(seed_bands_);
    bands_box_->setEnabled(has_seed_groups(group_runs_by_seed(runs_, kSeedParam)));
    split_box_->setChecked(split_);
}

// One "log y" box per chart (numbered top to bottom when split), rebuilt when the count changes.
void RunOverlay::sync_log_boxes() {
    const int count = chartCount();
    if (log_box_list_.size() != count) {
        for (QCheckBox* box : log_box_list_)
            delete box;
        log_box_list_.clear();
        for (int i = 0; i < count; ++i) {
            auto* box = new QCheckBox(count == 1 ? tr("log y") : tr("log y %1").arg(i + 1), this);
            connect(box, &QCheckBox::toggled, this, [this, i](bool on) { setChartLogY(i, on); });
            log_boxes_->addWidget(box);
            log_box_list_.push_back(box);
        }
    }
    for (int i = 0; i < count; ++i) {
        const QSignalBlocker block(log_box_list_[i]);
        log_box_list_[i]->setChecked(chartLogY(i));
    }
}

void RunOverlay::setMetric(const QString& metric) {
    metric_ = metric;
    if (!xAxisAvailable(x_axis_)) x_axis_ = CompareXAxis::Step;
    choose_log_y();
    chart_log_.clear();
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
    for (const QString& key : channelKeys()) {
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
    log_y_ = enabled;
    if (split_)
        for (int i = 0; i < chart_log_.size(); ++i)
            chart_log_[i] = enabled;
    rebuild();
}

void RunOverlay::setSmoothing(double weight) {
    smoothing_ = std::clamp(weight, 0.0, 0.999);
    sync_controls();
    rebuild();
}

void RunOverlay::setSeedBands(bool enabled) {
    seed_bands_ = enabled;
    const QStringList keys = channelKeys();
    if (!keys.contains(color_param_)) color_param_ = keys.isEmpty() ? QString() : keys.front();
    if (!keys.contains(dash_param_)) dash_param_.clear();
    keep_channels_apart();
    sync_controls();
    rebuild();
}

void RunOverlay::setXAxis(CompareXAxis axis) {
    if (xAxisAvailable(axis)) x_axis_ = axis;
    sync_controls();
    rebuild();
}

void RunOverlay::setSplitCharts(bool enabled) {
    split_ = enabled;
    chart_log_.clear();
    sync_controls();
    rebuild();
}

bool RunOverlay::chartLogY(int index) const {
    if (!split_) return log_y_;
    return index >= 0 && index < chart_log_.size() && chart_log_[index];
}

void RunOverlay::setChartLogY(int index, bool enabled) {
    if (!split_) {
        setLogY(enabled);
        return;
    }
    if (index < 0 || index >= chart_log_.size()) return;
    chart_log_[index] = enabled;
    rebuild();
}

int RunOverlay::chartCount() const {
    return int(charts_.size());
}
QCPAxisRect* RunOverlay::chart(int index) const {
    return index >= 0 && index < charts_.size() ? charts_[index] : nullptr;
}
int RunOverlay::chartOf(const QString& run_id) const {
    return chart_of_.value(run_id, -1);
}
QCPGraph* RunOverlay::graph(const QString& run_id) const {
    return graphs_.value(run_id, nullptr);
}
QCPGraph* RunOverlay::bandLower(const QString& run_id) const {
    return lower_.value(run_id, nullptr);
}
QCPGraph* RunOverlay::bandUpper(const QString& run_id) const {
    return upper_.value(run_id, nullptr);
}
QColor RunOverlay::runColor(const QString& run_id) const {
    return colors_.value(run_id);
}

bool RunOverlay::showReadoutAt(const QPointF& pixel) {
    const GraphHit hit = nearest_point(keys_.keys().toVector(), pixel, 40.0);
    if (!hit.graph) {
        readout_->hide();
        return false;
    }
    const QCPGraphData& p = *(hit.graph->data()->constBegin() + hit.index);
    const QString x_text = x_axis_ == CompareXAxis::Tokens     ? tr("%L1 tokens").arg(p.key, 0, 'f', 0)
                           : x_axis_ == CompareXAxis::WallTime ? tr("%1 s").arg(p.key, 0, 'f', 1)
                                                               : tr("step %1").arg(p.key);
    readout_->show(hit, tr("%1\n%2 · %3 %4").arg(hit.graph->name(), x_text, metric_).arg(p.value, 0, 'g', 5),
                   colors_.value(keys_.value(hit.graph)).darker(140));
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
