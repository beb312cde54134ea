// StoreBridge: the GUI's read side of the run store. Each query opens the SQLite file read-only
// on the GUI thread (WAL: never blocks the worker that writes) and turns core's records into the
// widgets' value types, so no widget sees a store type.
#pragma once
#include "widgets/compare_types.h"
#include "widgets/curve_types.h"
#include "widgets/layer_stats.h"
#include "widgets/run_browser.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace rilq::store {
enum class RunStatus;
}

namespace rilq::gui {

// The store's run status as the widgets name it.
widgets::RunStatus to_widget(store::RunStatus status);

class StoreBridge {
  public:
    explicit StoreBridge(QString path = QString()) : path_(std::move(path)) {}
    void setPath(const QString& path) { path_ = path; }
    const QString& path() const { return path_; }
    bool exists() const; // a store that was never written reads as empty

    // Everything below throws rilq::Error (with the file name) when the store cannot be read.
    QVector<widgets::BrowserRun> listRuns() const;
    void deleteRun(const QString& uuid) const; // opens read-write for this one statement
    widgets::RunBrowserSource browserSource() const;
    QStringList experiments() const;

    // Every logged metric of a run, by step (the compare overlay).
    widgets::RunCurve runCurve(const QString& uuid) const;
    // The four training curves as the live view draws them (a finished run reopened).
    QVector<widgets::CurveBatch> liveCurves(const QString& uuid) const;
    QString runLabel(const QString& uuid) const;
    widgets::LayerStatsTable layerStats(const QString& uuid) const;
    // The RILQ paper's rank figure of an experiment: core's rank_sweep_from_store (the rules of
    // `rilq export`: finished runs, one per point, rank 0 = the quantized model, seeds averaged).
    widgets::RankSweep rankSweep(const QString& experiment) const;

  private:
    QString path_;
};

} // namespace rilq::gui
