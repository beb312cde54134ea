// Hover read-out shared by the curve charts: a ring on the data point nearest to the cursor and
// a small text box beside it that opens towards the emptier side of the chart.
#pragma once
#include <QColor>
#include <QPointF>
#include <QPointer>
#include <QString>
#include <QVector>

class QCustomPlot;
class QCPGraph;
class QCPItemText;
class QCPItemTracer;

namespace rilq::widgets {

struct GraphHit {
    QCPGraph* graph = nullptr; // nullptr: nothing within the radius
    int index = -1;            // into graph->data()
    double distance_px = 0.0;
};

// Nearest finite data point of the visible, non-empty `graphs` to `pixel`, within `radius_px`.
// Only the two stored points around the cursor's key are tested per graph (O(log n) each).
GraphHit nearest_point(const QVector<QCPGraph*>& graphs, const QPointF& pixel, double radius_px);

class PlotReadout {
  public:
    explicit PlotReadout(QCustomPlot* plot); // items are owned by the plot; hides when the cursor leaves it
    ~PlotReadout();
    PlotReadout(const PlotReadout&) = delete;
    PlotReadout& operator=(const PlotReadout&) = delete;
    void show(const GraphHit& hit, const QString& text, const QColor& text_color);
    void hide();
    bool visible() const;
    QString text() const; // empty while hidden

  private:
    QCustomPlot* plot_ = nullptr;
    QCPItemTracer* tracer_ = nullptr;
    QCPItemText* label_ = nullptr;
    QPointer<QObject> leave_filter_; // a child of the plot, which may go first
};

} // namespace rilq::widgets
