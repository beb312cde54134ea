#include "app/gui/run_worker.h"
#include "app/gui/qt_text.h"

#include "app/gui/store_bridge.h"

#include "core/finetune/finetune_metrics.h"
#include "core/run/experiment_config.h"
#include "core/run/runner.h"

#include <QMetaType>

#include <cmath>
#include <exception>

namespace rilq::gui {

RunWorker::RunWorker(QObject* parent) : QObject(parent) {
    // Queued connections copy arguments through the meta-type system.
    qRegisterMetaType<QVector<widgets::CurveBatch>>();
    qRegisterMetaType<widgets::LogLevel>();
    qRegisterMetaType<widgets::RunStatus>();
}

RunWorker::~RunWorker() = default;

void RunWorker::requestCancel() {
    const std::lock_guard<std::mutex> lock(cancel_mutex_);
    if (cancel_) cancel_->cancel();
}

void RunWorker::setBackend(const RunBackendChoice& choice) {
    const std::lock_guard<std::mutex> lock(backend_mutex_);
    backend_ = choice;
}

void RunWorker::setPaused(bool paused) {
    paused_.store(paused);
}

void RunWorker::run(const QString& experiment_json, const QString& base_dir, const QString& store_path,
                    const QString& output_base) {
    busy_.store(true);
    auto token = std::make_shared<CancelToken>();
    {
        const std::lock_guard<std::mutex> lock(cancel_mutex_);
        cancel_ = token;
    }
    since_flush_.start();
    clock_.start();
    last_progress_ms_.clear();
    total_steps_.clear();
    last_step_.clear();
    placement_.clear();
    int finished = 0, total = 0;
    QString error;
    try {
        run::ParseOptions parse;
        parse.base_dir = base_dir.toStdString();
        const auto experiment = run::parse_experiment_text(experiment_json.toStdString(), parse);
        total = int(experiment.runs.size());
        run::RunnerOptions options;
        options.store_path = store_path.toStdString();
        options.on_event = [this](const run::RunnerEvent& e) { on_event(e); };
        options.cancel = token.get();
        // While paused the runner waits between points; a cancel must still get through.
        options.paused = [this, token] { return paused_.load() && !token->cancelled(); };
        options.output_base = output_base.toStdString();
        const RunBackendChoice choice = [this] {
            const std::lock_guard<std::mutex> lock(backend_mutex_);
            return backend_;
        }();
        run::Runner runner(options);
        const auto outcomes = choice.backend == cluster::RunBackend::Slurm
                                  ? run_on_slurm(experiment, choice, store_path, output_base, *token)
                                  : runner.run_experiment(experiment);
        for (const auto& outcome : outcomes)
            if (outcome.status == store::RunStatus::Finished) ++finished;
    } catch (const std::exception& e) {
        error = QString::fromUtf8(e.what());
        Q_EMIT logLine(widgets::LogLevel::Error, error, QStringLiteral("runner"));
    }
    flush_points(true);
    {
        const std::lock_guard<std::mutex> lock(cancel_mutex_);
        cancel_.reset();
    }
    busy_.store(false);
    Q_EMIT experimentFinished(finished, total, error);
}

void RunWorker::on_event(const run::RunnerEvent& e) {
    const QString uuid = qt(e.run_uuid);
    using Kind = run::RunnerEvent::Kind;
    if (e.kind != Kind::Train) flush_points(true); // keep curves ahead of the run's later news
    switch (e.kind) {
    case Kind::RunStarted:
        total_steps_[e.run_index] = 0;
        last_step_[e.run_index] = 0;
        Q_EMIT runStarted(e.run_index, e.run_count, uuid, qt(e.run_name), 0);
        Q_EMIT logLine(
            widgets::LogLevel::Info,
            QStringLiteral("run %1/%2 started: %3").arg(e.run_index + 1).arg(e.run_count).arg(qt(e.run_name)),
            QStringLiteral("runner"));
        break;
    case Kind::Stage:
        Q_EMIT stageChanged(e.run_index, uuid,
                            placed(e.run_index, QString::fromLatin1(run::to_string(e.stage))));
        break;
    case Kind::Progress:
        // A Slurm task that has not started has no progress of its own: placementChanged shows
        // where it waits, and its row stays SCHEDULED.
        if (placement_.contains(e.run_index) && !total_steps_.contains(e.run_index)) break;
        if (progress_due(e.run_index)) {
            const QString detail = e.progress.total > 0 ? QStringLiteral("%1 %2%")
                                                              .arg(qt(e.progress.stage))
                                                              .arg(100 * e.progress.done / e.progress.total)
                                                        : qt(e.progress.stage);
            Q_EMIT progress(e.run_index, last_step_.value(e.run_index), total_steps_.value(e.run_index), -1.0,
                            placed(e.run_index, detail));
        }
        break;
    case Kind::Train: {
        const TrainEvent& t = e.train;
        // The metrics the store records for this event, as curves (the mapping reopened runs use):
        // the fine-tuning stage's under their sft.* keys, so they become its own curves.
        for (const auto& [key, value] : e.stage == run::RunStage::Finetune
                                            ? finetune_event_metrics(t, run::kFinetuneMetricPrefix)
                                            : train_event_metrics(t)) {
            widgets::CurveKind kind = widgets::CurveKind::TrainTotal;
            if (widgets::curve_kind_of_metric(qt(key), &kind))
                add_point(uuid, kind, {double(t.update_step), t.elapsed_s, value});
        }
        if (t.kind == TrainEventKind::Validation) {
            flush_points(true); // rare and decisive: show at once
        } else if (t.kind == TrainEventKind::EarlyStop) {
            flush_points(true);
            Q_EMIT earlyStopped(uuid, double(t.update_step));
        }
        total_steps_[e.run_index] = int(t.total_micro_steps);
        last_step_[e.run_index] = int(t.micro_step);
        if (progress_due(e.run_index) || t.kind != TrainEventKind::Update) {
            const QString stage =
                e.stage == run::RunStage::Finetune ? QStringLiteral("fine-tune") : QStringLiteral("train");
            const QString detail =
                std::isfinite(t.best_v_loss)
                    ? QStringLiteral("%1 · best v_loss %2").arg(stage).arg(t.best_v_loss, 0, 'g', 5)
                    : stage;
            Q_EMIT progress(e.run_index, int(t.micro_step), int(t.total_micro_steps), t.eta_s,
                            placed(e.run_index, detail));
        }
        flush_points(false);
        break;
    }
    case Kind::Eval:
        Q_EMIT evalResult(uuid, qt(e.eval.dataset), qt(e.eval.stage), e.eval.ppl);
        Q_EMIT logLine(widgets::LogLevel::Info,
                       QStringLiteral("%1: PPL %2 (%3) = %4")
                           .arg(qt(e.run_name), qt(e.eval.dataset), qt(e.eval.stage))
                           .arg(e.eval.ppl, 0, 'f', 3),
                       QStringLiteral("eval"));
        break;
    case Kind::Task:
        Q_EMIT logLine(widgets::LogLevel::Info,
                       QStringLiteral("%1: %2 (%3) acc = %4")
                           .arg(qt(e.run_name), qt(e.task.task), qt(e.task.stage))
                           .arg(e.task.acc, 0, 'f', 4),
                       QStringLiteral("eval"));
        break;
    case Kind::Log:
        Q_EMIT logLine(widgets::LogLevel::Info, qt(e.message), QStringLiteral("runner"));
        break;
    case Kind::RunFinished: {
        const auto status = to_widget(e.status);
        Q_EMIT runFinished(e.run_index, uuid, status, placed(e.run_index, qt(e.message)));
        const bool bad = status == widgets::RunStatus::Failed;
        Q_EMIT logLine(bad ? widgets::LogLevel::Error : widgets::LogLevel::Info,
                       QStringLiteral("%1 %2%3").arg(qt(e.run_name), widgets::run_status_name(status),
                                                     e.message.empty() ? QString() : ": " + qt(e.message)),
                       QStringLiteral("runner"));
        break;
    }
    }
}

void RunWorker::on_slurm_state(int index, const QString& uuid, const QString& placement, bool waiting) {
    placement_[index] = placement;
    flush_points(true); // the curves so far belong before the news
    Q_EMIT placementChanged(index, uuid, placement, waiting);
}

QString RunWorker::placed(int index, const QString& detail) const {
    const QString where = placement_.value(index);
    if (where.isEmpty()) return detail;
    return detail.isEmpty() ? where : detail + QStringLiteral(" · ") + where;
}

bool RunWorker::progress_due(int index) {
    const qint64 now = clock_.elapsed();
    const auto last = last_progress_ms_.constFind(index);
    if (last != last_progress_ms_.constEnd() && now - *last < kProgressIntervalMs) return false;
    last_progress_ms_[index] = now;
    return true;
}

void RunWorker::add_point(const QString& uuid, widgets::CurveKind kind, const widgets::CurvePoint& point) {
    for (auto& batch : pending_) {
        if (batch.kind == kind && batch.run_id == uuid) {
            batch.points.push_back(point);
            return;
        }
    }
    pending_.push_back({uuid, kind, {point}});
}

void RunWorker::flush_points(bool force) {
    if (pending_.isEmpty() || (!force && since_flush_.elapsed() < kBatchIntervalMs)) return;
    since_flush_.restart();
    Q_EMIT curvePoints(pending_);
    pending_.clear();
}

} // namespace rilq::gui
