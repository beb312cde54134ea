#include "widgets/layer_heatmap.h"

#include "widgets/chart_style.h"
#include "widgets/qcustomplot_include.h"

#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace rilq::widgets {

namespace {
// 3 significant digits, but no exponent for the usual SQNR/entropy/error magnitudes.
QString cell_text(double v) {
    if (!std::isfinite(v)) return QStringLiteral("–");
    const double a = std::abs(v);
    if (a >= 100) return QString::number(v, 'f', 0);
    if (a >= 10) return QString::number(v, 'f', 1);
    if (a >= 0.01 || a == 0.0) return QString::number(v, 'f', a >= 1 ? 2 : 3);
    return QString::number(v, 'e', 1);
}
} // namespace

LayerHeatmap::LayerHeatmap(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    apply_plot_style(plot_);
    plot_->setInteractions(QCP::Interactions()); // a grid of cells: clicking selects, no panning
    plot_->xAxis->setLabel(tr("projection"));
    plot_->yAxis->setLabel(tr("layer"));
    plot_->yAxis->setRangeReversed(true); // layer 0 at the top, as the model is read
    plot_->xAxis->grid()->setVisible(false);
    plot_->yAxis->grid()->setVisible(false);
    QSharedPointer<QCPAxisTickerText> columns(new QCPAxisTickerText);
    for (int c = 0; c < projection_short_names().size(); ++c)
        columns->addTick(c, projection_short_names()[c]);
    plot_->xAxis->setTicker(columns);
    plot_->xAxis->setSubTicks(false);
    plot_->xAxis->setTickLength(0, 3);
    plot_->yAxis->setSubTicks(false);

    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->setBarWidth(14);
    scale_->axis()->setTickLabelFont(plot_->xAxis->tickLabelFont());
    scale_->axis()->setLabelFont(plot_->xAxis->labelFont());
    map_->setColorScale(scale_);
    scale_->setGradient(viridis_gradient()); // after linking: the map takes the scale's gradient
    // The colour bar shares the plot's vertical extent.
    auto* group = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);

    frame_ = new QCPItemRect(plot_);
    frame_->setPen(QPen(QColor(230, 30, 30), 2.5));
    frame_->setBrush(Qt::NoBrush);
    frame_->setVisible(false);
    frame_->setLayer("overlay");

    connect(plot_, &QCustomPlot::mousePress, this, &LayerHeatmap::on_mouse_press);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
}

void LayerHeatmap::setData(const LayerStatsTable& table, const QString& stage, const QString& metric,
                           bool shared_range) {
    layers_ = table.layerCount();
    const int columns = int(projection_modules().size());
    map_->data()->setSize(columns, std::max(1, layers_));
    map_->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, std::max(0, layers_ - 1)));
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int layer = 0; layer < layers_; ++layer)
        for (int c = 0; c < columns; ++c) {
            const double v = table.value(stage, layer, projection_modules()[c], metric);
            map_->data()->setCell(c, layer, v);
            if (!std::isfinite(v)) continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (shared_range) table.range(metric, &lo, &hi);
    if (!(lo <= hi)) { // nothing finite: any range will do, the cells are transparent
        lo = 0.0;
        hi = 1.0;
    }
    if (lo == hi) { // a constant metric (fp stage errors are all 0): centre it in the colour range
        const double half = 0.5 * std::max(1e-12, std::abs(lo));
        lo -= half;
        hi += half;
    }
    map_->setDataRange(QCPRange(lo, hi));
    scale_->axis()->setLabel(metric_display_name(metric) + QStringLiteral(" · ") + stage);
    plot_->xAxis->setRange(-0.5, columns - 0.5);
    plot_->yAxis->setRange(-0.5, std::max(0, layers_) - 0.5);
    // Ticks on every layer while they fit, else let the ticker thin them out.
    if (layers_ <= kMaxLabelledLayers) {
        QSharedPointer<QCPAxisTickerText> rows(new QCPAxisTickerText);
        for (int layer = 0; layer < layers_; ++layer)
            rows->addTick(layer, QString::number(layer));
        plot_->yAxis->setTicker(rows);
    } else {
        QSharedPointer<QCPAxisTicker> ticker(new QCPAxisTicker);
        ticker->setTickStepStrategy(QCPAxisTicker::tssReadability);
        plot_->yAxis->setTicker(ticker);
    }
    rebuild_labels(table, stage, metric);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LayerHeatmap::rebuild_labels(const LayerStatsTable& table, const QString& stage, const QString& metric) {
    for (int i = plot_->itemCount() - 1; i >= 0; --i)
        if (plot_->item(i) != frame_) plot_->removeItem(i);
    if (layers_ > kMaxLabelledLayers) return;
    QFont font = plot_->font();
    font.setPointSizeF(layers_ > 12 ? 6.5 : 8.0);
    const QCPRange range = map_->dataRange();
    for (int layer = 0; layer < layers_; ++layer)
        for (int c = 0; c < projection_modules().size(); ++c) {
            const double v = table.value(stage, layer, projection_modules()[c], metric);
            auto* text = new QCPItemText(plot_);
            text->position->setCoords(c, layer);
            text->setText(cell_text(v));
            text->setFont(font);
            // Dark text on the bright (yellow/green) end of viridis, white on the dark end.
            const double t = range.size() > 0 ? (v - range.lower) / range.size() : 0.0;
            text->setColor(std::isfinite(v) && t > 0.6 ? QColor(20, 20, 20) : QColor(250, 250, 250));
            if (!std::isfinite(v)) text->setColor(QColor(120, 120, 120));
            text->setSelectable(false);
        }
}

void LayerHeatmap::setSelectedCell(int layer, int column) {
    const bool on = layer >= 0 && layer < layers_ && column >= 0 && column < projection_modules().size();
    frame_->setVisible(on);
    if (on) {
        frame_->topLeft->setCoords(column - 0.5, layer - 0.5);
        frame_->bottomRight->setCoords(column + 0.5, layer + 0.5);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

double LayerHeatmap::cellValue(int layer, int column) const {
    if (layer < 0 || layer >= layers_ || column < 0 || column >= projection_modules().size())
        return std::numeric_limits<double>::quiet_NaN();
    return map_->data()->cell(column, layer);
}

QPointF LayerHeatmap::cellCenter(int layer, int column) const {
    return QPointF(plot_->xAxis->coordToPixel(column), plot_->yAxis->coordToPixel(layer));
}

double LayerHeatmap::rangeLower() const {
    return map_->dataRange().lower;
}
double LayerHeatmap::rangeUpper() const {
    return map_->dataRange().upper;
}

void LayerHeatmap::on_mouse_press(QMouseEvent* event) {
    if (!plot_->axisRect()->rect().contains(event->position().toPoint())) return;
    const int column = int(std::lround(plot_->xAxis->pixelToCoord(event->position().x())));
    const int layer = int(std::lround(plot_->yAxis->pixelToCoord(event->position().y())));
    if (layer < 0 || layer >= layers_ || column < 0 || column >= projection_modules().size()) return;
    setSelectedCell(layer, column);
    Q_EMIT cellClicked(layer, projection_modules()[column]);
}

} // namespace rilq::widgets
