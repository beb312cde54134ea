// The two annotations of a run on the live chart: a star on its best validation point labelled
// "best 1.2 @ 350", and a dashed vertical line where early stopping ended it. Owns its graph and
// items inside the plot and removes them when destroyed.
#pragma once
#include <QColor>

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;

namespace rilq::widgets {

class RunMarkers {
  public:
    RunMarkers(QCustomPlot* plot, const QColor& color);
    ~RunMarkers();
    RunMarkers(const RunMarkers&) = delete;
    RunMarkers& operator=(const RunMarkers&) = delete;

    // Star at (x, value) with the step in its label; x is in the chart's current x units.
    void showBest(double x, double value, double step);
    void setBestVisible(bool visible); // the label appears only once a best exists
    // Dashed vertical line at x, labelled with the step early stopping ended at.
    void showEarlyStop(double x, double step);

    QCPGraph* bestGraph() const { return best_; }
    QCPItemStraightLine* earlyStopLine() const { return early_stop_; } // nullptr until shown

  private:
    QCustomPlot* plot_ = nullptr;
    QColor color_;
    bool has_best_ = false;
    bool best_visible_ = true;
    QCPGraph* best_ = nullptr;
    QCPItemText* best_label_ = nullptr;
    QCPItemStraightLine* early_stop_ = nullptr;
    QCPItemText* early_stop_label_ = nullptr;
};

} // namespace rilq::widgets
