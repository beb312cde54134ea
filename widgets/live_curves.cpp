#include "widgets/live_curves.h"

#include "widgets/empty_state.h"
#include "widgets/live_curves_toolbar.h"
#include "widgets/plot_readout.h"
#include "widgets/run_markers.h"
#include "widgets/qcustomplot_include.h"

#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rilq::widgets {

namespace {
constexpr int kRawAlpha = 60;             // faint raw curve behind the smoothed one
constexpr double kReadoutRadiusPx = 40.0; // hover snaps to points this close

// Training curves get a point per optimizer step and grow without bound: always 1 px pens (see
// kDenseCurvePoints for why). Validation has a point per evaluation only: drawn bold.
QPen kind_pen(CurveKind kind, const QColor& color) {
    switch (kind) {
    case CurveKind::TrainModel:
        return QPen(color, 1.0, Qt::DashLine);
    case CurveKind::TrainGt:
        return QPen(color, 1.0, Qt::DotLine);
    case CurveKind::TrainTotal:
        return QPen(color, 1.0, Qt::SolidLine);
    case CurveKind::Validation:
        return QPen(color, 2.2, Qt::SolidLine);
    case CurveKind::SftTrain:
        return QPen(color, 1.0, Qt::DashDotLine);
    case CurveKind::SftValidation:
        return QPen(color, 2.2, Qt::DashLine);
    }
    return QPen(color);
}

QString format_wall_time(double seconds) {
    const int s = int(std::lround(seconds));
    return QString("%1:%2:%3")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QChar('0'))
        .arg(s % 60, 2, 10, QChar('0'));
}
} // namespace

LiveCurves::LiveCurves(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    apply_plot_style(plot_);
    plot_->setMouseTracking(true);
    place_legend_outside(plot_);
    connect(plot_, &QCustomPlot::afterReplot, this, [this] { ++replot_count_; });
    connect(plot_, &QCustomPlot::mouseMove, this, &LiveCurves::on_mouse_move);
    // The user taking over the view (zoom, drag) stops auto-fitting until "Fit" or a double-click.
    connect(plot_, &QCustomPlot::mouseWheel, this, [this] { auto_range_ = false; });
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, &LiveCurves::fitToData);

    readout_ = std::make_unique<PlotReadout>(plot_);

    replot_timer_ = new QTimer(this);
    replot_timer_->setSingleShot(true);
    replot_timer_->setInterval(kReplotIntervalMs);
    connect(replot_timer_, &QTimer::timeout, this, &LiveCurves::on_replot_tick);

    build_controls();
    build_style_legend();
    update_axis_labels();
    setSmoothing(smoothing_weight_);
}

LiveCurves::~LiveCurves() = default;

void LiveCurves::build_controls() {
    toolbar_ = new LiveCurvesToolbar(this);
    connect(toolbar_, &LiveCurvesToolbar::logYToggled, this, &LiveCurves::setLogY);
    connect(toolbar_, &LiveCurvesToolbar::smoothingChanged, this, &LiveCurves::setSmoothing);
    connect(toolbar_, &LiveCurvesToolbar::xAxisModeChanged, this, &LiveCurves::setXAxisMode);
    connect(toolbar_, &LiveCurvesToolbar::kindToggled, this, &LiveCurves::setKindVisible);
    connect(toolbar_, &LiveCurvesToolbar::fitRequested, this, &LiveCurves::fitToData);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(toolbar_);
    content_ = new EmptyState(plot_,
                              tr("No curves yet. Start runs on the Setup tab (or Run demo) to follow their "
                                 "training loss and validation live, or open a stored run from the Runs "
                                 "tab (double-click it)."),
                              this);
    layout->addWidget(content_, 1);
}

bool LiveCurves::isEmpty() const {
    return content_->isEmpty();
}

// Grey sample lines that explain the line styles once, instead of four legend rows per run. The
// fine-tuning keys join the legend with the first fine-tuning point (show_finetune_kinds).
void LiveCurves::build_style_legend() {
    for (int k = 0; k < kCurveKindCount; ++k) {
        QCPGraph* g = plot_->addGraph();
        g->setName(curve_kind_label(CurveKind(k)));
        QPen key = kind_pen(CurveKind(k), QColor(110, 110, 110));
        key.setWidthF(std::max(1.6, key.widthF())); // an empty legend key costs nothing to draw bold
        g->setPen(key);
        if (is_evaluation_curve(CurveKind(k)))
            g->setScatterStyle(
                QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(110, 110, 110), Qt::white, 6));
        style_keys_[k] = g;
        if (is_finetune_curve(CurveKind(k))) g->removeFromLegend();
    }
}

void LiveCurves::show_finetune_kinds() {
    if (finetune_shown_) return;
    finetune_shown_ = true;
    for (int k = 0; k < kCurveKindCount; ++k)
        if (is_finetune_curve(CurveKind(k))) style_keys_[k]->addToLegend();
    for (const QString& id : run_order_) { // the style keys stay together above the runs
        runs_.at(id).legend_entry->removeFromLegend();
        runs_.at(id).legend_entry->addToLegend();
    }
    toolbar_->setFinetuneKindsAvailable(true);
}

bool LiveCurves::finetuneKindsShown() const {
    return finetune_shown_;
}

void LiveCurves::update_axis_labels() {
    plot_->yAxis->setLabel(log_y_ ? tr("loss (log scale)") : tr("loss"));
    if (x_mode_ == XAxisMode::Step) {
        plot_->xAxis->setLabel(tr("optimizer step"));
        plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    } else {
        plot_->xAxis->setLabel(tr("wall time (h:mm:ss)"));
        QSharedPointer<QCPAxisTickerTime> ticker(new QCPAxisTickerTime);
        ticker->setTimeFormat("%h:%m:%s");
        plot_->xAxis->setTicker(ticker);
    }
}

// ---- runs --------------------------------------------------------------------------------------

void LiveCurves::addRun(const QString& run_id, const QString& label, const QColor& color) {
    if (runs_.count(run_id)) return;
    Run& run = runs_[run_id];
    run_order_.push_back(run_id);
    run.label = label.isEmpty() ? run_id : label;
    run.color = color.isValid() ? color : categorical_color(next_palette_index_++);
    for (int k = 0; k < kCurveKindCount; ++k) {
        Series& s = run.series[k];
        s.smoother.reset(smoothing_weight_);
        s.raw = plot_->addGraph();
        s.raw->setAdaptiveSampling(true);
        s.raw->removeFromLegend();
        if (!is_evaluation_curve(CurveKind(k))) {
            s.smoothed = plot_->addGraph();
            s.smoothed->setAdaptiveSampling(true);
            s.smoothed->removeFromLegend();
        }
        apply_series_style(run, CurveKind(k));
    }
    run.legend_entry = plot_->addGraph();
    run.legend_entry->setName(run.label);
    run.legend_entry->setPen(QPen(run.color, 3.0));
    run.markers = std::make_unique<RunMarkers>(plot_, run.color);
    content_->setEmpty(false);
    schedule_replot();
}

void LiveCurves::removeRun(const QString& run_id) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    Run& run = it->second;
    for (Series& s : run.series) {
        plot_->removeGraph(s.raw);
        if (s.smoothed) plot_->removeGraph(s.smoothed);
    }
    plot_->removeGraph(run.legend_entry);
    readout_->hide(); // its tracer may point at a graph that is about to go
    runs_.erase(it);
    run_order_.removeAll(run_id);
    content_->setEmpty(run_order_.isEmpty());
    schedule_replot();
}

void LiveCurves::clearRuns() {
    const QStringList ids = run_order_;
    for (const QString& id : ids)
        removeRun(id);
    next_palette_index_ = 0;
}

bool LiveCurves::hasRun(const QString& run_id) const {
    return runs_.count(run_id) != 0;
}
QStringList LiveCurves::runIds() const {
    return run_order_;
}
QColor LiveCurves::runColor(const QString& run_id) const {
    const Run* run = find_run(run_id);
    return run ? run->color : QColor();
}

const LiveCurves::Run* LiveCurves::find_run(const QString& run_id) const {
    auto it = runs_.find(run_id);
    return it == runs_.end() ? nullptr : &it->second;
}

LiveCurves::Run& LiveCurves::ensure_run(const QString& run_id) {
    if (!runs_.count(run_id)) addRun(run_id, run_id);
    return runs_.at(run_id);
}

QCPGraph* LiveCurves::rawGraph(const QString& run_id, CurveKind kind) const {
    const Run* run = find_run(run_id);
    return run ? run->series[kind_index(kind)].raw : nullptr;
}
QCPGraph* LiveCurves::smoothedGraph(const QString& run_id, CurveKind kind) const {
    const Run* run = find_run(run_id);
    return run ? run->series[kind_index(kind)].smoothed : nullptr;
}
QCPGraph* LiveCurves::bestMarker(const QString& run_id) const {
    const Run* run = find_run(run_id);
    return run ? run->markers->bestGraph() : nullptr;
}
QCPItemStraightLine* LiveCurves::earlyStopLine(const QString& run_id) const {
    const Run* run = find_run(run_id);
    return run ? run->markers->earlyStopLine() : nullptr;
}
std::optional<CurvePoint> LiveCurves::bestValidation(const QString& run_id) const {
    const Run* run = find_run(run_id);
    if (!run || run->best_index < 0) return std::nullopt;
    return run->series[kind_index(CurveKind::Validation)].points[run->best_index];
}
int LiveCurves::pointCount(const QString& run_id, CurveKind kind) const {
    const Run* run = find_run(run_id);
    return run ? int(run->series[kind_index(kind)].points.size()) : 0;
}

// ---- data --------------------------------------------------------------------------------------

double LiveCurves::x_of(const CurvePoint& p) const {
    return x_mode_ == XAxisMode::Step ? p.step : p.wall_time_s;
}

void LiveCurves::appendPoints(const QString& run_id, CurveKind kind, const QVector<CurvePoint>& points) {
    if (points.isEmpty()) return;
    Run& run = ensure_run(run_id);
    if (is_finetune_curve(kind)) show_finetune_kinds();
    Series& s = run.series[kind_index(kind)];
    const int first_new = int(s.points.size());
    QVector<double> keys, raw_values, smooth_values;
    keys.reserve(points.size());
    raw_values.reserve(points.size());
    bool sorted = s.points.isEmpty() || x_of(s.points.back()) <= x_of(points.front());
    for (int i = 0; i < points.size(); ++i) {
        if (i > 0 && x_of(points[i - 1]) > x_of(points[i])) sorted = false;
        keys.push_back(x_of(points[i]));
        raw_values.push_back(points[i].value);
        if (s.smoothed) smooth_values.push_back(s.smoother.push(points[i].value));
    }
    s.points += points;
    s.raw->addData(keys, raw_values, sorted);
    if (s.smoothed) s.smoothed->addData(keys, smooth_values, sorted);
    if (kind == CurveKind::Validation) update_best(run_id, run, first_new);
    schedule_replot();
}

void LiveCurves::appendBatch(const QVector<CurveBatch>& batches) {
    for (const CurveBatch& b : batches)
        appendPoints(b.run_id, b.kind, b.points);
}

void LiveCurves::update_best(const QString& run_id, Run& run, int first_new_index) {
    const QVector<CurvePoint>& pts = run.series[kind_index(CurveKind::Validation)].points;
    const int before = run.best_index;
    for (int i = first_new_index; i < pts.size(); ++i) {
        if (!std::isfinite(pts[i].value)) continue;
        if (run.best_index < 0 || pts[i].value < pts[run.best_index].value) run.best_index = i;
    }
    if (run.best_index == before) return;
    rebuild_markers(run);
    Q_EMIT bestValidationChanged(run_id, pts[run.best_index].step, pts[run.best_index].value);
}

void LiveCurves::setEarlyStop(const QString& run_id, double step) {
    Run& run = ensure_run(run_id);
    run.early_stop_step = step;
    run.has_early_stop = true;
    rebuild_markers(run);
    schedule_replot();
}

// Best marker and early-stop line follow the x-axis mode: both are stored by step and mapped
// to the current axis through the recorded points.
void LiveCurves::rebuild_markers(Run& run) {
    const QVector<CurvePoint>& val = run.series[kind_index(CurveKind::Validation)].points;
    if (run.best_index >= 0) {
        const CurvePoint& best = val[run.best_index];
        run.markers->showBest(x_of(best), best.value, best.step);
    }
    if (run.has_early_stop) {
        double x = run.early_stop_step;
        if (x_mode_ == XAxisMode::WallTime) { // wall time of the recorded point nearest to that step
            double best_gap = std::numeric_limits<double>::infinity();
            for (const Series& s : run.series)
                for (const CurvePoint& p : s.points)
                    if (std::abs(p.step - run.early_stop_step) < best_gap) {
                        best_gap = std::abs(p.step - run.early_stop_step);
                        x = p.wall_time_s;
                    }
        }
        run.markers->showEarlyStop(x, run.early_stop_step);
    }
}

void LiveCurves::rebuild_series(Run& run, CurveKind kind) {
    Series& s = run.series[kind_index(kind)];
    QVector<double> keys, values, smooth;
    keys.reserve(s.points.size());
    values.reserve(s.points.size());
    s.smoother.reset(smoothing_weight_);
    for (const CurvePoint& p : s.points) {
        keys.push_back(x_of(p));
        values.push_back(p.value);
        if (s.smoothed) smooth.push_back(s.smoother.push(p.value));
    }
    s.raw->setData(keys, values);
    if (s.smoothed) s.smoothed->setData(keys, smooth);
    apply_series_style(run, kind);
}

void LiveCurves::apply_series_style(Run& run, CurveKind kind) {
    Series& s = run.series[kind_index(kind)];
    const bool visible = kind_visible_[kind_index(kind)];
    const QPen pen = kind_pen(kind, run.color);
    if (!s.smoothed) { // evaluations: measured values, line with dots
        s.raw->setPen(pen);
        s.raw->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, run.color, Qt::white, 6));
        s.raw->setVisible(visible);
        return;
    }
    const bool smoothing_on = smoothing_weight_ > 0.0;
    QPen faint = pen;
    faint.setColor(with_alpha(run.color, kRawAlpha));
    faint.setWidthF(1.0);
    s.raw->setPen(smoothing_on ? faint : pen);
    s.raw->setVisible(visible);
    s.smoothed->setPen(pen);
    s.smoothed->setVisible(visible && smoothing_on); // weight 0: smoothed == raw, draw it once
}

// ---- view settings -----------------------------------------------------------------------------

void LiveCurves::setLogY(bool enabled) {
    log_y_ = enabled;
    toolbar_->setLogY(enabled);
    set_log_axis(plot_->yAxis, enabled);
    update_axis_labels();
    auto_range_ = true;
    schedule_replot();
}

void LiveCurves::setSmoothing(double weight) {
    readout_->hide(); // it points at data about to move
    smoothing_weight_ = std::isfinite(weight) ? std::clamp(weight, 0.0, 0.999) : 0.0;
    toolbar_->setSmoothing(smoothing_weight_);
    for (auto& [id, run] : runs_)
        for (int k = 0; k < kCurveKindCount; ++k)
            if (run.series[k].smoothed) rebuild_series(run, CurveKind(k));
    schedule_replot();
}

void LiveCurves::setXAxisMode(XAxisMode mode) {
    readout_->hide(); // it points at data about to move
    x_mode_ = mode;
    toolbar_->setXAxisMode(mode);
    for (auto& [id, run] : runs_) {
        for (int k = 0; k < kCurveKindCount; ++k)
            rebuild_series(run, CurveKind(k));
        rebuild_markers(run);
    }
    update_axis_labels();
    auto_range_ = true;
    schedule_replot();
}

void LiveCurves::setKindVisible(CurveKind kind, bool visible) {
    readout_->hide(); // it points at data about to move
    kind_visible_[kind_index(kind)] = visible;
    toolbar_->setKindVisible(kind, visible);
    for (auto& [id, run] : runs_) {
        apply_series_style(run, kind);
        if (kind == CurveKind::Validation) {
            run.markers->setBestVisible(visible);
        }
    }
    schedule_replot();
}

void LiveCurves::fitToData() {
    auto_range_ = true;
    schedule_replot();
}

// ---- drawing -----------------------------------------------------------------------------------

void LiveCurves::schedule_replot() {
    if (!replot_timer_->isActive()) replot_timer_->start();
}

void LiveCurves::on_replot_tick() {
    if (auto_range_) {
        plot_->rescaleAxes(true);
        plot_->yAxis->scaleRange(1.1); // headroom so the best label and the top curve stay inside
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LiveCurves::replotNow() {
    replot_timer_->stop();
    if (auto_range_) {
        plot_->rescaleAxes(true);
        plot_->yAxis->scaleRange(1.1);
    }
    plot_->replot(QCustomPlot::rpImmediateRefresh);
}

void LiveCurves::on_mouse_move(QMouseEvent* event) {
    if (event->buttons() != Qt::NoButton) { // dragging the view: the user takes over the ranges
        auto_range_ = false;
        return;
    }
    const bool was_visible = readout_->visible();
    if (showReadoutAt(event->position()) || was_visible) schedule_replot();
}

bool LiveCurves::showReadoutAt(const QPointF& pixel) {
    // Candidates: what is drawn in full colour (smoothed when smoothing is on, else raw).
    QVector<QCPGraph*> graphs;
    for (const QString& id : run_order_)
        for (const Series& s : runs_.at(id).series)
            graphs.push_back(s.smoothed && s.smoothed->visible() ? s.smoothed : s.raw);
    const GraphHit hit = nearest_point(graphs, pixel, kReadoutRadiusPx);
    if (!hit.graph) {
        readout_->hide();
        return false;
    }
    for (const QString& id : run_order_) {
        const Run& run = runs_.at(id);
        for (int k = 0; k < kCurveKindCount; ++k) {
            const Series& s = run.series[k];
            if (hit.graph != s.raw && hit.graph != s.smoothed) continue;
            // Graph data are sorted by x, points kept in arrival order: the same for a normal run.
            const CurvePoint* point = hit.index < s.points.size() ? &s.points[hit.index] : nullptr;
            const double shown = (hit.graph->data()->constBegin() + hit.index)->value;
            QString text = QString("%1 · %2\n").arg(run.label, curve_kind_label(CurveKind(k)));
            if (point)
                text += (is_finetune_curve(CurveKind(k)) ? tr("SFT step %1 · %2\n") : tr("step %1 · %2\n"))
                            .arg(point->step)
                            .arg(format_wall_time(point->wall_time_s));
            text += tr("loss %1").arg(shown, 0, 'g', 5);
            if (point && hit.graph == s.smoothed) text += tr("  (raw %1)").arg(point->value, 0, 'g', 5);
            readout_->show(hit, text, run.color.darker(140));
            return true;
        }
    }
    readout_->hide();
    return false;
}

QString LiveCurves::readoutText() const {
    return readout_->text();
}

} // namespace rilq::widgets
