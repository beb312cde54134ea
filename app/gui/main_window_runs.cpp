// MainWindow, the run side: starting and cancelling an experiment on the worker thread, the
// worker's signals into queue / live curves / log, and stored runs into the views.
#include "app/gui/main_window.h"

#include "app/gui/export_panel.h"
#include "app/gui/run_worker.h"
#include "core/run/experiment_config.h"
#include "widgets/compare_view.h"
#include "widgets/experiment_form.h"
#include "widgets/layer_inspector.h"
#include "widgets/live_curves.h"
#include "widgets/log_panel.h"
#include "widgets/run_browser.h"
#include "widgets/run_queue_view.h"

#include <nlohmann/json.hpp>

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>

#include <algorithm>
#include <exception>

namespace rilq::gui {

void MainWindow::connect_worker() {
    thread_ = new QThread(this);
    thread_->setObjectName(QStringLiteral("rilq-runner"));
    worker_ = new RunWorker;
    worker_->moveToThread(thread_);
    connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_->start();

    // Every connection below crosses threads: Qt queues it, so the slots run on the GUI thread.
    connect(worker_, &RunWorker::runStarted, this, &MainWindow::on_run_started);
    connect(worker_, &RunWorker::runFinished, this, &MainWindow::on_run_finished);
    connect(worker_, &RunWorker::experimentFinished, this, &MainWindow::on_experiment_finished);
    connect(worker_, &RunWorker::curvePoints, live_, &widgets::LiveCurves::appendBatch);
    connect(worker_, &RunWorker::earlyStopped, live_, &widgets::LiveCurves::setEarlyStop);
    connect(worker_, &RunWorker::logLine, log_, &widgets::LogPanel::append);
    connect(worker_, &RunWorker::progress, this,
            [this](int index, int step, int total, double eta_s, const QString& detail) {
                queue_->setProgress(QString::number(index), step, total > 0 ? total : run_total_steps_, eta_s,
                                    detail);
            });
    // A Slurm task's state: a waiting one stays SCHEDULED with Slurm's reason as its message.
    connect(worker_, &RunWorker::placementChanged, this,
            [this](int index, const QString&, const QString& placement, bool waiting) {
                if (waiting)
                    queue_->setStatus(QString::number(index), widgets::RunStatus::Scheduled, placement);
                else
                    queue_->setDetail(QString::number(index), placement);
                log_->append(widgets::LogLevel::Debug, tr("run %1: %2").arg(index + 1).arg(placement),
                             QStringLiteral("slurm"));
            });
    connect(worker_, &RunWorker::stageChanged, this, [this](int index, const QString&, const QString& stage) {
        queue_->setDetail(QString::number(index), stage);
        log_->append(widgets::LogLevel::Debug, tr("run %1: %2").arg(index + 1).arg(stage),
                     QStringLiteral("runner"));
    });
    // Pause and cancel act on the worker's atomics directly: its event loop is busy training.
    connect(queue_, &widgets::RunQueueView::pauseBetweenRunsChanged, this, [this](bool paused) {
        worker_->setPaused(paused);
        const QSignalBlocker block(pause_action_);
        pause_action_->setChecked(paused);
    });
}

bool MainWindow::startRuns() {
    if (running_) return false;
    form_->revalidate();
    if (!form_->isValid()) {
        const auto issue = form_->issues().front();
        tabs_->setCurrentWidget(form_);
        report_error(tr("The experiment is not valid: %1: %2").arg(issue.path, issue.message),
                     QStringLiteral("experiment"));
        return false;
    }
    run::ExperimentConfig experiment;
    try {
        run::ParseOptions options;
        options.base_dir = form_->baseDir().toStdString();
        experiment = run::parse_experiment(form_->document(), options);
    } catch (const std::exception& e) {
        report_error(QString::fromUtf8(e.what()), QStringLiteral("experiment"));
        return false;
    }
    if (!QDir().mkpath(QFileInfo(store_.path()).absolutePath())) {
        report_error(tr("%1: cannot create the run store's folder").arg(store_.path()),
                     QStringLiteral("store"));
        return false;
    }
    queue_->clear();
    live_->clearRuns();
    sweep_run_ids_.clear();
    for (const auto& config : experiment.runs)
        queue_->addRun(QString::number(config.index), QString::fromStdString(config.run_name),
                       config.train.approx_total_steps);
    run_total_steps_ = experiment.runs.empty() ? 0 : experiment.runs.front().train.approx_total_steps;
    running_ = true;
    start_action_->setEnabled(false);
    cancel_action_->setEnabled(true);
    worker_->setPaused(queue_->pauseBetweenRuns());
    const RunBackendChoice backend = load_backend_choice();
    worker_->setBackend(backend);
    const QString text = QString::fromStdString(form_->document().dump());
    const QString base = form_->baseDir();
    const QString store = store_.path();
    const QString outputs = data_folder_;
    RunWorker* worker = worker_;
    QMetaObject::invokeMethod(
        worker_, [worker, text, base, store, outputs] { worker->run(text, base, store, outputs); },
        Qt::QueuedConnection);
    log_->append(widgets::LogLevel::Info,
                 tr("started %1: %n run(s) into %2 (%3)", nullptr, int(experiment.runs.size()))
                     .arg(QString::fromStdString(experiment.name), store_.path(), describe(backend)),
                 QStringLiteral("runner"));
    tabs_->setCurrentWidget(live_);
    return true;
}

void MainWindow::cancelRuns() {
    if (!running_) return;
    worker_->requestCancel();
    log_->append(widgets::LogLevel::Warning, tr("cancel requested"), QStringLiteral("runner"));
}

void MainWindow::on_run_started(int index, int, const QString& uuid, const QString& name, int) {
    queue_->setStatus(QString::number(index), widgets::RunStatus::Running);
    live_->addRun(uuid, name);
    sweep_run_ids_ << uuid;
}

void MainWindow::on_run_finished(int index, const QString&, widgets::RunStatus status,
                                 const QString& message) {
    queue_->setStatus(QString::number(index), status, message);
    if (status == widgets::RunStatus::Failed)
        statusBar()->showMessage(tr("run failed: %1").arg(message), 10000);
    browser_->refresh();
    followRuns(sweep_run_ids_); // the sweep's results so far, the finished run's layers
}

void MainWindow::on_experiment_finished(int finished, int total, const QString& error) {
    running_ = false;
    start_action_->setEnabled(true);
    cancel_action_->setEnabled(false);
    // Points the runner never reached (cancelled, or it could not start) are not waiting any more.
    for (const QString& id : queue_->runIds())
        if (!widgets::run_status_is_final(queue_->status(id)))
            queue_->setStatus(id, error.isEmpty() ? widgets::RunStatus::Killed : widgets::RunStatus::Failed,
                              error.isEmpty() ? tr("cancelled before start") : error);
    if (!error.isEmpty())
        report_error(tr("The experiment stopped: %1").arg(error), QStringLiteral("runner"));
    else
        statusBar()->showMessage(queue_->overallText(), 10000); // the queue's own count, so they agree
    refreshStoreViews();
    followRuns(sweep_run_ids_);
    Q_EMIT runsFinished(finished, total, error);
}

// ---- stored runs ----------------------------------------------------------------------------

void MainWindow::refreshStoreViews() {
    browser_->refresh();
    try {
        export_->setExperiments(store_.experiments());
    } catch (const std::exception& e) {
        log_->append(widgets::LogLevel::Warning, QString::fromUtf8(e.what()), QStringLiteral("store"));
    }
}

void MainWindow::openRun(const QString& uuid) {
    try {
        const QString label = store_.runLabel(uuid);
        const auto batches = store_.liveCurves(uuid);
        live_->removeRun(uuid);
        live_->addRun(uuid, label);
        live_->appendBatch(batches);
        live_->fitToData();
        layers_->setStats(store_.layerStats(uuid));
        tabs_->setCurrentWidget(live_);
        statusBar()->showMessage(tr("opened %1").arg(label), 5000);
    } catch (const std::exception& e) {
        report_error(tr("Opening run %1: %2").arg(uuid, QString::fromUtf8(e.what())),
                     QStringLiteral("store"));
    }
}

void MainWindow::compareRuns(const QStringList& uuids) {
    followRuns(uuids);
    tabs_->setCurrentWidget(compare_);
}

void MainWindow::followRuns(const QStringList& uuids) {
    if (uuids.isEmpty()) return;
    QString experiment;
    for (const auto& run : browser_->runs())
        if (run.uuid == uuids.front()) experiment = run.experiment;
    try {
        QVector<widgets::RunCurve> curves;
        for (const QString& uuid : uuids)
            curves.push_back(store_.runCurve(uuid));
        compare_->setRuns(curves);
        QVector<widgets::BrowserRun> results;
        for (const auto& run : browser_->runs())
            if (uuids.contains(run.uuid)) results.push_back(run);
        compare_->setResults(results);
        if (!experiment.isEmpty()) {
            compare_->setSweep(store_.rankSweep(experiment));
            compare_->setAccuracySweep(store_.accuracySweep(experiment));
            export_->setExperiment(experiment);
        }
        // The newest of the runs that has layer statistics (rank 0 has its quantized ones too).
        for (auto it = uuids.rbegin(); it != uuids.rend(); ++it) {
            const widgets::LayerStatsTable stats = store_.layerStats(*it);
            if (stats.isEmpty()) continue;
            layers_->setStats(stats);
            break;
        }
    } catch (const std::exception& e) {
        report_error(tr("Showing runs: %1").arg(QString::fromUtf8(e.what())), QStringLiteral("store"));
    }
}

// A selection in Runs: Compare, Layers and Export follow it; Live curves too while no sweep
// streams into it.
void MainWindow::on_browser_selection(const QStringList& uuids) {
    if (uuids.isEmpty()) return;
    followRuns(uuids);
    if (running_) return;
    try {
        live_->clearRuns();
        for (const QString& uuid : uuids) {
            live_->addRun(uuid, store_.runLabel(uuid));
            live_->appendBatch(store_.liveCurves(uuid));
        }
        live_->fitToData();
    } catch (const std::exception& e) {
        report_error(tr("Showing runs: %1").arg(QString::fromUtf8(e.what())), QStringLiteral("store"));
    }
}

void MainWindow::openLatestRun() {
    const auto& runs = browser_->runs();
    if (runs.isEmpty()) return;
    const auto latest = std::max_element(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
        return a.started.toMSecsSinceEpoch() < b.started.toMSecsSinceEpoch();
    });
    QStringList same_experiment;
    for (const auto& run : runs)
        if (run.experiment == latest->experiment) same_experiment << run.uuid;
    compareRuns(same_experiment);
    openRun(latest->uuid);
}

} // namespace rilq::gui
