// RunWorker: the training side of the GUI. It lives in its own QThread and owns a core Runner
// for the duration of one experiment; the Runner's callback (called on this thread) becomes
// queued signals carrying small Qt value types. Training points are batched and sent at most
// every kBatchIntervalMs, so a fast trainer cannot flood the GUI thread's event queue.
//
// requestCancel() and setPaused() are called from the GUI thread while run() is busy: they only
// touch atomics / the cancel token, never the event loop the worker is blocking.
#pragma once
#include "app/gui/run_backend_choice.h"
#include "widgets/curve_types.h"
#include "widgets/log_panel.h"
#include "widgets/run_queue_view.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace rilq {
class CancelToken;
namespace run {
class Runner;
struct RunnerEvent;
struct ExperimentConfig;
struct RunOutcome;
} // namespace run
} // namespace rilq

namespace rilq::gui {

class RunWorker : public QObject {
    Q_OBJECT
  public:
    static constexpr int kBatchIntervalMs = 100;    // curve points: ~10 batches a second
    static constexpr int kProgressIntervalMs = 100; // progress rows: same rate

    explicit RunWorker(QObject* parent = nullptr);
    ~RunWorker() override;

    // Thread-safe.
    void requestCancel(); // the running point ends KILLED, points not started too
    void setPaused(bool paused);
    bool isPaused() const { return paused_.load(); }
    bool isBusy() const { return busy_.load(); }
    // Where the next run() runs its points (local, or a Slurm job array followed from here).
    void setBackend(const RunBackendChoice& choice);

  public Q_SLOTS:
    // Parses `experiment_json` (relative data_root against `base_dir`), then runs every point
    // into the store at `store_path`. Outputs (adapters, run.json) go under `output_base`.
    void run(const QString& experiment_json, const QString& base_dir, const QString& store_path,
             const QString& output_base);

  Q_SIGNALS:
    void runStarted(int index, int count, const QString& uuid, const QString& name, int total_steps);
    void stageChanged(int index, const QString& uuid, const QString& stage);
    void progress(int index, int step, int total_steps, double eta_s, const QString& detail);
    void curvePoints(const QVector<rilq::widgets::CurveBatch>& batches);
    void earlyStopped(const QString& uuid, double step);
    void evalResult(const QString& uuid, const QString& dataset, const QString& stage, double ppl);
    void logLine(rilq::widgets::LogLevel level, const QString& message, const QString& source);
    void runFinished(int index, const QString& uuid, rilq::widgets::RunStatus status, const QString& message);
    // Where a Slurm task is ("Slurm RUNNING on node7, job 12_0"), whenever Slurm's state, node or
    // reason for it changes; `waiting` while the task has not started (PENDING, REQUEUED, ...).
    void placementChanged(int index, const QString& uuid, const QString& placement, bool waiting);
    // Last signal of run(): how many points finished, of how many; `error` when it could not run.
    void experimentFinished(int finished, int total, const QString& error);

  private:
    void on_event(const run::RunnerEvent& event);
    // The Slurm backend (run_worker_slurm.cpp): submit, then follow the job until it ends; its
    // events arrive through on_event like a local run's, a cancel scancels the job.
    std::vector<run::RunOutcome> run_on_slurm(const run::ExperimentConfig& experiment,
                                              const RunBackendChoice& choice, const QString& store_path,
                                              const QString& output_base, const CancelToken& cancel);
    // A Slurm task's new state: kept as the run's placement, shown at once in its queue row.
    void on_slurm_state(int index, const QString& uuid, const QString& placement, bool waiting);
    // `detail` with where the run is ("train · Slurm RUNNING on node7, job 12_0"); unchanged for a
    // local run.
    QString placed(int index, const QString& detail) const;
    // Progress rows are throttled per run: a followed Slurm job reports its runs interleaved.
    bool progress_due(int index);
    void add_point(const QString& uuid, widgets::CurveKind kind, const widgets::CurvePoint& point);
    void flush_points(bool force);

    std::atomic<bool> paused_{false};
    std::mutex backend_mutex_;
    RunBackendChoice backend_;
    std::atomic<bool> busy_{false};
    std::mutex cancel_mutex_; // guards cancel_ against a cancel while a new run installs its token
    std::shared_ptr<CancelToken> cancel_;
    QVector<widgets::CurveBatch> pending_;
    QElapsedTimer since_flush_;
    QElapsedTimer clock_;
    // Per run index (the worker thread's only): last progress row, total and last step, placement.
    QHash<int, qint64> last_progress_ms_;
    QHash<int, int> total_steps_;
    QHash<int, int> last_step_;
    QHash<int, QString> placement_;
};

} // namespace rilq::gui
