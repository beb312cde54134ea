// CompareView: the sweep side by side - the selected runs' curves overlaid and coloured by a
// parameter (left); on the right, as tabs, the PPL-versus-rank picture with its baseline and,
// when the runs scored downstream tasks, accuracy versus rank below it (linear y, one line per
// task average and scope), the params-versus-metric scatter (one dot per run) and parallel
// coordinates over the swept params and results, whose brushed runs go out as runsBrushed.
#pragma once
#include "widgets/compare_types.h"
#include "widgets/run_browser_types.h"

#include <QWidget>

class QTabWidget;

namespace rilq::widgets {

class ParallelCoords;
class ParamScatter;
class RankPlot;
class RunOverlay;

class CompareView : public QWidget {
    Q_OBJECT
  public:
    explicit CompareView(QWidget* parent = nullptr);
    RunOverlay* overlay() const { return overlay_; }
    RankPlot* rankPlot() const { return rank_plot_; }
    RankPlot* accuracyPlot() const { return accuracy_plot_; }
    ParamScatter* scatter() const { return scatter_; }
    ParallelCoords* parallel() const { return parallel_; }
    QTabWidget* figureTabs() const { return figures_; } // rank figure | params vs metric | parallel

  public Q_SLOTS:
    void setRuns(const QVector<rilq::widgets::RunCurve>& runs);
    void setSweep(const rilq::widgets::RankSweep& sweep);
    void setAccuracySweep(const rilq::widgets::RankSweep& sweep);    // hidden while it has no point
    void setResults(const QVector<rilq::widgets::BrowserRun>& runs); // the scatter's dots, parallel lines

  Q_SIGNALS:
    // The runs inside every brush of the parallel coordinates (all of them when none is brushed).
    void runsBrushed(const QStringList& uuids, bool any_brush);

  private:
    RunOverlay* overlay_ = nullptr;
    RankPlot* rank_plot_ = nullptr;
    RankPlot* accuracy_plot_ = nullptr;
    ParamScatter* scatter_ = nullptr;
    ParallelCoords* parallel_ = nullptr;
    QTabWidget* figures_ = nullptr;
};

} // namespace rilq::widgets
