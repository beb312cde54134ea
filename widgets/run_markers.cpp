#include "widgets/run_markers.h"

#include "widgets/qcustomplot_include.h"

namespace rilq::widgets {

RunMarkers::RunMarkers(QCustomPlot* plot, const QColor& color) : plot_(plot), color_(color) {
    best_ = plot->addGraph();
    best_->removeFromLegend();
    best_->setLineStyle(QCPGraph::lsNone);
    best_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QPen(color, 2.0), color, 14));
    best_label_ = new QCPItemText(plot);
    best_label_->setColor(color.darker(130));
    best_label_->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    best_label_->setPadding(QMargins(6, 0, 0, 4));
    best_label_->setVisible(false);
}

RunMarkers::~RunMarkers() {
    plot_->removeGraph(best_);
    plot_->removeItem(best_label_);
    if (early_stop_) plot_->removeItem(early_stop_);
    if (early_stop_label_) plot_->removeItem(early_stop_label_);
}

void RunMarkers::showBest(double x, double value, double step) {
    has_best_ = true;
    best_->setData({x}, {value}, true);
    best_label_->position->setCoords(x, value);
    best_label_->setText(QObject::tr("best %1 @ %2").arg(value, 0, 'g', 5).arg(step));
    best_label_->setVisible(best_visible_);
}

void RunMarkers::setBestVisible(bool visible) {
    best_visible_ = visible;
    best_->setVisible(visible);
    best_label_->setVisible(visible && has_best_);
}

void RunMarkers::showEarlyStop(double x, double step) {
    if (!early_stop_) {
        early_stop_ = new QCPItemStraightLine(plot_);
        early_stop_->setPen(QPen(color_, 1.5, Qt::DashLine));
        early_stop_label_ = new QCPItemText(plot_);
        early_stop_label_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        early_stop_label_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        early_stop_label_->setColor(color_.darker(130));
        early_stop_label_->setPadding(QMargins(2, 2, 4, 2));
    }
    // Two points with positive y keep the line valid on a log axis too.
    early_stop_->point1->setCoords(x, 1.0);
    early_stop_->point2->setCoords(x, 10.0);
    early_stop_label_->position->setCoords(x, 0.98); // bottom of the chart, left of the line
    early_stop_label_->setText(QObject::tr("early stop @ %1").arg(step));
}

} // namespace rilq::widgets
