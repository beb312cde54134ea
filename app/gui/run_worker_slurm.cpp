// RunWorker, the Slurm side: the experiment as one job array, followed until every task ended.
#include "app/gui/run_worker.h"

#include "app/gui/qt_text.h"
#include "core/cluster/slurm_follow.h"
#include "core/cluster/slurm_state.h"
#include "core/cluster/slurm_submit.h"
#include "core/run/experiment_config.h"
#include "core/run/run_preparation.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace rilq::gui {

std::vector<run::RunOutcome> RunWorker::run_on_slurm(const run::ExperimentConfig& experiment,
                                                     const RunBackendChoice& choice,
                                                     const QString& store_path, const QString& output_base,
                                                     const CancelToken& cancel) {
    // The nodes run the command-line rilq installed beside this program, or $RILQ_TASK_PROGRAM
    // (a rilq elsewhere on the shared file system).
    const QString chosen = qEnvironmentVariable("RILQ_TASK_PROGRAM");
    const QString program =
        chosen.isEmpty() ? QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("rilq"))
                         : chosen;
    if (!QFileInfo(program).isExecutable())
        throw Error(program.toStdString() +
                    (chosen.isEmpty()
                         ? ": the rilq command, which Slurm tasks run, is not beside rilq-workbench "
                           "(or set RILQ_TASK_PROGRAM)"
                         : ": RILQ_TASK_PROGRAM names no executable"));
    cluster::SlurmSubmitOptions submit;
    submit.resources = choice.slurm;
    submit.shared_preparation = choice.shared_preparation;
    submit.preparation_key = run::preparation_key;
    submit.working_dir = output_base.toStdString();
    submit.rilq_program = program.toStdString();
    cluster::SystemProcessRunner processes;
    cluster::SlurmClient slurm(processes);
    store::RunStore main(store_path.toStdString());
    const cluster::SlurmJob job = cluster::submit_experiment(slurm, main, experiment, submit);
    Q_EMIT logLine(widgets::LogLevel::Info,
                   QStringLiteral("Slurm job %1: %2 task(s), %3; job folder %4")
                       .arg(qt(job.job_id))
                       .arg(job.tasks.size())
                       .arg(describe(choice), qt(job.dir)),
                   QStringLiteral("slurm"));
    cluster::SlurmFollowOptions follow;
    follow.cancel = &cancel;
    follow.on_event = [this](const run::RunnerEvent& e) { on_event(e); };
    follow.on_task_state = [this, &job](int task, const cluster::SlurmTaskState& state) {
        cluster::SlurmTaskState shown = state;
        shown.elapsed_s = 0; // the row shows the state; the time it ran is in the run's tags
        on_slurm_state(
            task, qt(job.tasks[size_t(task)].run_uuid),
            QStringLiteral("Slurm %1, job %2_%3").arg(qt(cluster::describe(shown)), qt(job.job_id)).arg(task),
            cluster::slurm_phase(state.state) == cluster::SlurmPhase::Waiting);
    };
    return cluster::follow_job(slurm, main, job, follow);
}

} // namespace rilq::gui
