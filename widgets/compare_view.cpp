#include "widgets/compare_view.h"

#include "widgets/parallel_coords.h"
#include "widgets/param_scatter.h"
#include "widgets/rank_plot.h"
#include "widgets/run_overlay.h"

#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

namespace rilq::widgets {

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
    overlay_ = new RunOverlay(this);
    rank_plot_ = new RankPlot(this);
    accuracy_plot_ = new RankPlot(this);
    accuracy_plot_->setLogY(false); // accuracies differ by points, not by orders of magnitude
    accuracy_plot_->hide();
    auto* plots = new QSplitter(Qt::Vertical, this);
    plots->addWidget(rank_plot_);
    plots->addWidget(accuracy_plot_);
    scatter_ = new ParamScatter(this);
    figures_ = new QTabWidget(this);
    figures_->setDocumentMode(true);
    figures_->addTab(plots, tr("Rank figure"));
    figures_->addTab(scatter_, tr("Params vs metric"));
    parallel_ = new ParallelCoords(this);
    figures_->addTab(parallel_, tr("Parallel coordinates"));
    connect(parallel_, &ParallelCoords::brushChanged, this, &CompareView::runsBrushed);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(overlay_);
    split->addWidget(figures_);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({1000, 1000}); // equal halves: the overlay toolbar would otherwise take most of it
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);
}

void CompareView::setRuns(const QVector<RunCurve>& runs) {
    overlay_->setRuns(runs);
}
void CompareView::setSweep(const RankSweep& sweep) {
    rank_plot_->setSweep(sweep);
}
void CompareView::setResults(const QVector<BrowserRun>& runs) {
    scatter_->setRuns(runs);
    parallel_->setRuns(runs);
}
void CompareView::setAccuracySweep(const RankSweep& sweep) {
    accuracy_plot_->setSweep(sweep);
    accuracy_plot_->setVisible(!sweep.points.isEmpty());
}

} // namespace rilq::widgets
