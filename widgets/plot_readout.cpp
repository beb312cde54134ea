#include "widgets/plot_readout.h"

#include "widgets/qcustomplot_include.h"

#include <QEvent>

#include <cmath>

namespace rilq::widgets {

namespace {

// Hides the read-out when the cursor leaves the chart: a move event never comes then, so without
// this the last read-out stayed on screen.
class ReadoutLeaveFilter : public QObject {
  public:
    ReadoutLeaveFilter(QCustomPlot* plot, PlotReadout* readout) : QObject(plot), readout_(readout) {
        plot->installEventFilter(this);
    }
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Leave && readout_->visible()) {
            readout_->hide();
            static_cast<QCustomPlot*>(watched)->replot(QCustomPlot::rpQueuedReplot);
        }
        return false;
    }

  private:
    PlotReadout* readout_;
};

} // namespace

GraphHit nearest_point(const QVector<QCPGraph*>& graphs, const QPointF& pixel, double radius_px) {
    GraphHit hit;
    hit.distance_px = radius_px;
    for (QCPGraph* g : graphs) {
        if (!g || !g->visible() || g->data()->isEmpty()) continue;
        const double key = g->keyAxis()->pixelToCoord(pixel.x());
        const auto begin = g->data()->constBegin();
        const auto end = g->data()->constEnd();
        const auto at = g->data()->findBegin(key, true); // the point left of key, then right of it
        for (auto c = at; c != end && c - at < 2; ++c) {
            if (!std::isfinite(c->value)) continue;
            const double d = std::hypot(g->keyAxis()->coordToPixel(c->key) - pixel.x(),
                                        g->valueAxis()->coordToPixel(c->value) - pixel.y());
            if (d < hit.distance_px) {
                hit.graph = g;
                hit.index = int(c - begin);
                hit.distance_px = d;
            }
        }
    }
    return hit;
}

PlotReadout::PlotReadout(QCustomPlot* plot) : plot_(plot) {
    tracer_ = new QCPItemTracer(plot);
    tracer_->setStyle(QCPItemTracer::tsCircle);
    tracer_->setSize(10);
    tracer_->setPen(QPen(QColor(30, 30, 30), 1.5));
    tracer_->setBrush(Qt::NoBrush);
    tracer_->setSelectable(false);
    tracer_->setVisible(false);
    tracer_->setLayer("overlay"); // above every curve, whatever was added later
    label_ = new QCPItemText(plot);
    label_->setLayer("overlay");
    label_->position->setType(QCPItemPosition::ptAbsolute); // pixel offset from the tracer
    label_->position->setParentAnchor(tracer_->position);
    label_->setPadding(QMargins(6, 4, 6, 4));
    label_->setBrush(QColor(255, 255, 255, 235));
    label_->setPen(QPen(QColor(160, 160, 160)));
    label_->setTextAlignment(Qt::AlignLeft);
    label_->setSelectable(false);
    label_->setVisible(false);
    leave_filter_ = new ReadoutLeaveFilter(plot, this);
}

PlotReadout::~PlotReadout() {
    delete leave_filter_.data(); // it points at this read-out; the plot may outlive it
}

void PlotReadout::show(const GraphHit& hit, const QString& text, const QColor& text_color) {
    if (!hit.graph) {
        hide();
        return;
    }
    const QCPGraphData& point = *(hit.graph->data()->constBegin() + hit.index);
    QCPAxisRect* rect = hit.graph->keyAxis()->axisRect(); // a chart of several (split scales)
    tracer_->setClipAxisRect(rect);
    label_->setClipAxisRect(rect);
    tracer_->setGraph(hit.graph);
    tracer_->setGraphKey(point.key);
    tracer_->updatePosition();
    tracer_->setVisible(true);
    label_->setText(text);
    label_->setColor(text_color);
    const QPointF at = tracer_->position->pixelPosition();
    const bool right_half = at.x() > rect->center().x();
    const bool lower_half = at.y() > rect->center().y();
    label_->setPositionAlignment((right_half ? Qt::AlignRight : Qt::AlignLeft) |
                                 (lower_half ? Qt::AlignBottom : Qt::AlignTop));
    label_->position->setCoords(right_half ? -10 : 10, lower_half ? -10 : 10);
    label_->setVisible(true);
}

void PlotReadout::hide() {
    tracer_->setGraph(nullptr);
    tracer_->setVisible(false);
    label_->setVisible(false);
}

bool PlotReadout::visible() const {
    return label_->visible();
}
QString PlotReadout::text() const {
    return label_->visible() ? label_->text() : QString();
}

} // namespace rilq::widgets
