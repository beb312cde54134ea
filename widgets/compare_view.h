// CompareView: the sweep side by side - the selected runs' curves overlaid and coloured by a
// parameter (left), the PPL-versus-rank picture with its baseline (right) and, when the runs
// scored downstream tasks, accuracy versus rank below it (linear y, one line per task average
// and scope).
#pragma once
#include "widgets/compare_types.h"

#include <QWidget>

namespace rilq::widgets {

class RankPlot;
class RunOverlay;

class CompareView : public QWidget {
    Q_OBJECT
  public:
    explicit CompareView(QWidget* parent = nullptr);
    RunOverlay* overlay() const { return overlay_; }
    RankPlot* rankPlot() const { return rank_plot_; }
    RankPlot* accuracyPlot() const { return accuracy_plot_; }

  public Q_SLOTS:
    void setRuns(const QVector<rilq::widgets::RunCurve>& runs);
    void setSweep(const rilq::widgets::RankSweep& sweep);
    void setAccuracySweep(const rilq::widgets::RankSweep& sweep); // hidden while it has no point

  private:
    RunOverlay* overlay_ = nullptr;
    RankPlot* rank_plot_ = nullptr;
    RankPlot* accuracy_plot_ = nullptr;
};

} // namespace rilq::widgets
