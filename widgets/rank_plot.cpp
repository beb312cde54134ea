#include "widgets/rank_plot.h"

#include "widgets/chart_style.h"
#include "widgets/plot_readout.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>
#include <limits>
#include <map>

namespace rilq::widgets {

namespace {
const QStringList kScopeOrder = {kScopeModel, kScopeLinear, kScopeLayer, kScopeWeightSvd};

// RILQ's own scope is the solid line; the comparison scopes are broken lines with other markers.
QPen scope_pen(const QString& scope, const QColor& color) {
    if (scope == kScopeLinear) return QPen(color, 1.8, Qt::DashLine);
    if (scope == kScopeLayer) return QPen(color, 1.8, Qt::DashDotLine);
    if (scope == kScopeWeightSvd) return QPen(color, 1.8, Qt::DotLine);
    return QPen(color, 2.4, Qt::SolidLine);
}

QCPScatterStyle::ScatterShape scope_marker(const QString& scope) {
    if (scope == kScopeLinear) return QCPScatterStyle::ssSquare;
    if (scope == kScopeLayer) return QCPScatterStyle::ssTriangle;
    if (scope == kScopeWeightSvd) return QCPScatterStyle::ssDiamond;
    return QCPScatterStyle::ssDisc;
}
} // namespace

RankPlot::RankPlot(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    apply_plot_style(plot_);
    plot_->setMouseTracking(true);
    plot_->xAxis->setLabel(tr("LoRA rank r (log scale)"));
    plot_->xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot_->xAxis->grid()->setSubGridVisible(false);
    plot_->xAxis->setSubTicks(false);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QString(), QFont(font().family(), 11, QFont::DemiBold));
    plot_->plotLayout()->addElement(0, 0, title_);
    place_legend_outside(plot_); // scope lines fill the chart: a legend inside would hide one
    readout_ = std::make_unique<PlotReadout>(plot_);
    connect(plot_, &QCustomPlot::mouseMove, this, &RankPlot::on_mouse_move);

    auto* bar = new QHBoxLayout;
    log_y_box_ = new QCheckBox(tr("log y"), this);
    log_y_box_->setChecked(log_y_);
    connect(log_y_box_, &QCheckBox::toggled, this, &RankPlot::setLogY);
    bar->addWidget(log_y_box_);
    bar->addStretch(1);
    protocol_ = new QLabel(this);
    protocol_->setStyleSheet("color: #555;");
    protocol_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    protocol_->setWordWrap(true); // a long protocol line must not widen the window past the screen
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(plot_, 1);
    layout->addWidget(protocol_);
    setLogY(log_y_);
}

RankPlot::~RankPlot() = default;

void RankPlot::setSweep(const RankSweep& sweep) {
    sweep_ = sweep;
    rebuild();
}

void RankPlot::rebuild() {
    readout_->hide();
    plot_->clearGraphs();
    for (auto& ref : baselines_)
        plot_->removeItem(ref.line);
    for (auto& ref : fp_lines_)
        plot_->removeItem(ref.line);
    for (int i = plot_->itemCount() - 1; i >= 0; --i) // reference and value labels
        if (qobject_cast<QCPItemText*>(plot_->item(i)) && plot_->item(i)->property("rebuilt").toBool())
            plot_->removeItem(i);
    lines_.clear();
    baselines_.clear();
    fp_lines_.clear();
    datasets_.clear();
    scopes_.clear();

    // (dataset, scope) -> rank -> value; one point per cell (core averaged the seeds).
    std::map<std::pair<QString, QString>, std::map<int, double>> cells;
    std::map<QString, std::map<QString, double>> rank0; // dataset -> scope -> value
    for (const RankPoint& p : sweep_.points) {
        if (!std::isfinite(p.value)) continue;
        if (!datasets_.contains(p.dataset)) datasets_.push_back(p.dataset);
        (p.rank <= 0 ? rank0[p.dataset][p.scope] : cells[{p.dataset, p.scope}][p.rank]) = p.value;
        if (p.rank > 0 && !scopes_.contains(p.scope)) scopes_.push_back(p.scope);
    }
    std::sort(scopes_.begin(), scopes_.end(), [](const QString& a, const QString& b) {
        const auto ia = kScopeOrder.indexOf(a), ib = kScopeOrder.indexOf(b);
        return (ia < 0 ? 99 : ia) < (ib < 0 ? 99 : ib) || (ia == ib && a < b);
    });

    QMap<double, QString> rank_ticks;
    for (int d = 0; d < datasets_.size(); ++d) {
        const QString& dataset = datasets_[d];
        const QColor color = categorical_color(d);
        for (const QString& scope : scopes_) {
            auto it = cells.find({dataset, scope});
            if (it == cells.end()) continue;
            QVector<double> ranks, values;
            for (const auto& [rank, value] : it->second) {
                ranks.push_back(rank);
                values.push_back(value);
                rank_ticks.insert(rank, QString::number(rank));
            }
            QCPGraph* g = plot_->addGraph();
            g->setName(scopes_.size() > 1 ? dataset + " · " + scope : dataset);
            g->setPen(scope_pen(scope, color));
            g->setScatterStyle(
                QCPScatterStyle(scope_marker(scope), color, scope == kScopeModel ? color : Qt::white, 8));
            g->setData(ranks, values, true);
            lines_.push_back({dataset, scope, g});
        }
        auto add_reference = [&](double y, Qt::PenStyle style, const QString& text) {
            Reference ref;
            ref.value = y;
            ref.line = new QCPItemStraightLine(plot_);
            ref.line->setPen(QPen(color, 1.6, style));
            ref.line->point1->setCoords(1, y);
            ref.line->point2->setCoords(2, y);
            auto* label = new QCPItemText(plot_);
            label->setProperty("rebuilt", true);
            label->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
            label->position->setCoords(0.01, y);
            label->setText(text);
            label->setColor(color.darker(125));
            ref.label = label;
            return ref;
        };
        if (rank0.count(dataset)) { // the model scope's own baseline when present
            const auto& by_scope = rank0[dataset];
            const double y =
                by_scope.count(kScopeModel) ? by_scope.at(kScopeModel) : by_scope.begin()->second;
            baselines_.insert(dataset, add_reference(y, Qt::DashLine,
                                                     tr("%1 · rank 0: %2").arg(dataset).arg(y, 0, 'f', 2)));
        }
        if (sweep_.fp_value.contains(dataset)) {
            const double y = sweep_.fp_value.value(dataset);
            fp_lines_.insert(dataset,
                             add_reference(y, Qt::DotLine, tr("%1 · FP: %2").arg(dataset).arg(y, 0, 'f', 2)));
        }
    }
    place_reference_labels();
    if (scopes_.size() == 1) add_value_labels();
    // Legend keys for the reference lines, drawn once in grey.
    auto legend_key = [this](Qt::PenStyle style, const QString& name) {
        QCPGraph* g = plot_->addGraph();
        g->setPen(QPen(QColor(110, 110, 110), 1.6, style));
        g->setName(name);
    };
    if (!baselines_.isEmpty()) legend_key(Qt::DashLine, tr("rank 0 (no compensation)"));
    if (!fp_lines_.isEmpty()) legend_key(Qt::DotLine, tr("full precision"));

    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->setTicks(rank_ticks);
    plot_->xAxis->setTicker(ticker);
    plot_->yAxis->setLabel(log_y_ ? tr("%1 (log scale)").arg(sweep_.value_label) : sweep_.value_label);
    title_->setText(
        tr("%1 vs LoRA rank").arg(sweep_.value_label.left(1).toUpper() + sweep_.value_label.mid(1)));
    protocol_->setText(sweep_.protocol);
    protocol_->setVisible(!sweep_.protocol.isEmpty());
    fit_ranges();
}

// A reference line's label sits above it, unless another reference line is close above (the
// wikitext2 and c4 baselines, 433 vs 474): then below, so the two never overlap.
void RankPlot::place_reference_labels() {
    QVector<Reference*> refs;
    for (Reference& r : baselines_)
        refs.push_back(&r);
    for (Reference& r : fp_lines_)
        refs.push_back(&r);
    for (Reference* r : refs) {
        bool crowded_above = false;
        for (const Reference* other : refs)
            if (other != r && other->value >= r->value && other->value <= r->value * 1.5)
                crowded_above = true;
        r->label->setPositionAlignment(Qt::AlignLeft | (crowded_above ? Qt::AlignTop : Qt::AlignBottom));
        r->label->setPadding(crowded_above ? QMargins(2, 2, 2, 0) : QMargins(2, 0, 2, 2));
    }
}

// With one scope the lines are few: print each value beside its point (a log axis has too few
// labels to read 10.01 vs 10.05). The highest dataset at a rank labels above, the others below.
void RankPlot::add_value_labels() {
    QFont font = plot_->font();
    font.setPointSizeF(8.0);
    for (const Line& line : lines_)
        for (const QCPGraphData& p : *line.graph->data()) {
            bool highest = true;
            for (const Line& other : lines_) {
                if (other.graph == line.graph) continue;
                auto it = other.graph->data()->findBegin(p.key, false);
                if (it != other.graph->data()->constEnd() && it->key == p.key && it->value > p.value)
                    highest = false;
            }
            auto* label = new QCPItemText(plot_);
            label->setProperty("rebuilt", true);
            label->position->setCoords(p.key, p.value);
            label->setPositionAlignment(Qt::AlignHCenter | (highest ? Qt::AlignBottom : Qt::AlignTop));
            label->setPadding(QMargins(0, highest ? 0 : 6, 0, highest ? 6 : 0));
            label->setFont(font);
            label->setColor(datasetColor(line.dataset).darker(130));
            label->setText(QString::number(p.value, 'f', 2));
        }
}

// Ranges by hand: QCustomPlot's rescale does not see the horizontal reference lines.
void RankPlot::fit_ranges() {
    double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
    double y_lo = x_lo, y_hi = -x_lo;
    auto take_y = [&](double v) {
        if (!std::isfinite(v) || (log_y_ && v <= 0)) return;
        y_lo = std::min(y_lo, v);
        y_hi = std::max(y_hi, v);
    };
    for (const Line& line : lines_)
        for (const QCPGraphData& p : *line.graph->data()) {
            x_lo = std::min(x_lo, p.key);
            x_hi = std::max(x_hi, p.key);
            take_y(p.value);
        }
    for (const Reference& r : baselines_)
        take_y(r.value);
    for (const Reference& r : fp_lines_)
        take_y(r.value);
    if (!(x_lo <= x_hi)) { // empty sweep: the usual rank range
        x_lo = 1;
        x_hi = 128;
    }
    if (!(y_lo <= y_hi)) {
        y_lo = 1;
        y_hi = 10;
    }
    plot_->xAxis->setRange(x_lo / 1.5, x_hi * 1.5); // half an octave of air on each side
    if (log_y_) {
        plot_->yAxis->setRange(y_lo / 1.3, y_hi * 1.6); // room above the baseline for its label
    } else {
        const double span = std::max(y_hi - y_lo, 1e-9);
        plot_->yAxis->setRange(std::max(0.0, y_lo - 0.08 * span), y_hi + 0.12 * span);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void RankPlot::setLogY(bool enabled) {
    log_y_ = enabled;
    const QSignalBlocker block(log_y_box_);
    log_y_box_->setChecked(enabled);
    set_log_axis(plot_->yAxis, enabled);
    plot_->yAxis->setLabel(enabled ? tr("%1 (log scale)").arg(sweep_.value_label) : sweep_.value_label);
    fit_ranges();
}

QCPGraph* RankPlot::series(const QString& dataset, const QString& scope) const {
    for (const Line& line : lines_)
        if (line.dataset == dataset && line.scope == scope) return line.graph;
    return nullptr;
}

double RankPlot::baseline(const QString& dataset) const {
    return baselines_.contains(dataset) ? baselines_.value(dataset).value
                                        : std::numeric_limits<double>::quiet_NaN();
}

QCPItemStraightLine* RankPlot::baselineLine(const QString& dataset) const {
    return baselines_.contains(dataset) ? baselines_.value(dataset).line : nullptr;
}

QColor RankPlot::datasetColor(const QString& dataset) const {
    const int i = int(datasets_.indexOf(dataset));
    return i < 0 ? QColor() : categorical_color(i);
}

bool RankPlot::showReadoutAt(const QPointF& pixel) {
    QVector<QCPGraph*> graphs;
    for (const Line& line : lines_)
        graphs.push_back(line.graph);
    const GraphHit hit = nearest_point(graphs, pixel, 40.0);
    for (const Line& line : lines_) {
        if (line.graph != hit.graph) continue;
        const QCPGraphData& p = *(hit.graph->data()->constBegin() + hit.index);
        QString text =
            tr("%1 · %2 scope\nrank %3: %4").arg(line.dataset, line.scope).arg(p.key).arg(p.value, 0, 'f', 2);
        const double base = baseline(line.dataset);
        if (std::isfinite(base)) text += tr("\nrank 0: %1").arg(base, 0, 'f', 2);
        readout_->show(hit, text, datasetColor(line.dataset).darker(140));
        return true;
    }
    readout_->hide();
    return false;
}

QString RankPlot::readoutText() const {
    return readout_->text();
}

void RankPlot::on_mouse_move(QMouseEvent* event) {
    const bool was_visible = readout_->visible();
    if (showReadoutAt(event->position()) || was_visible) plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace rilq::widgets
