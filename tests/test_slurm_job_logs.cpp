// Job logs are readable (issue 18): when stderr is not a terminal (a Slurm job log, CI,
// `2> file`), `rilq run` prints its progress as one plain line every few seconds instead of
// carriage-return redraws. The real rilq runs a short stories260K point with its output going
// into a pipe:
//  - not one '\r' in what it printed;
//  - progress lines are there, and at most one per ProgressLine::kLogIntervalS seconds of the
//    run (plus the first, printed at once);
//  - the run's own news (PPL, validations, the final status) is still printed, one line each.
// (Its runtime is mostly the point's fixed cost; a few seconds of training show the throttle.)
#include "tests/fault/fault_binaries.h"
#include "tests/support/test_support.h"

#include "app/cli/cli_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace rilq;

namespace {

// One point of the Slurm tests' tiny sweep, trained long enough for a few log intervals.
nlohmann::json job_log_experiment() {
    nlohmann::json doc =
        nlohmann::json::parse(test::read_file(test::test_data("slurm/stories260k-tiny-sweep.json")));
    doc["name"] = "job-log";
    doc["rilq"]["lora_r"] = 2;
    doc["rilq"]["approx_total_steps"] = 160;
    doc["rilq"]["approx_eval_steps"] = 40;
    doc["data_root"] = test::shared_data();
    return doc;
}

} // namespace

class TestSlurmJobLogs : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void progressIsOneLineEveryFewSecondsWhenNotATerminal() {
        QTemporaryDir dir;
        const QString experiment = dir.filePath(QStringLiteral("job-log.json"));
        std::ofstream(experiment.toStdString()) << job_log_experiment().dump(2);
        QProcess rilq;
        rilq.setWorkingDirectory(dir.path());
        rilq.setProcessChannelMode(QProcess::MergedChannels); // a pipe: not a terminal
        QElapsedTimer clock;
        clock.start();
        rilq.start(fault::rilq_binary(),
                   {QStringLiteral("run"), experiment, QStringLiteral("--db"),
                    dir.filePath(QStringLiteral("runs.sqlite")), QStringLiteral("--no-outputs")});
        QVERIFY(rilq.waitForFinished(600000));
        const double elapsed_s = static_cast<double>(clock.elapsed()) / 1000.0;
        const QByteArray out = rilq.readAll();
        QVERIFY2(rilq.exitCode() == 0, out.constData());
        QVERIFY2(!out.contains('\r'), out.constData());

        // "[1/1] job-log <stage> done/total unit": a progress line; "[1/1] job-log: ..." is news.
        int progress = 0, news = 0;
        for (const QByteArray& line : out.split('\n')) {
            if (line.startsWith("[1/1] job-log: ")) ++news;
            if (line.startsWith("[1/1] job-log ")) ++progress;
        }
        const double interval_s = cli::ProgressLine::kLogIntervalS;
        qInfo("%d progress lines and %d other lines in %.1f s (%lld bytes)", progress, news, elapsed_s,
              static_cast<long long>(out.size()));
        QVERIFY2(progress >= 1, out.constData());
        QVERIFY2(progress <= static_cast<int>(elapsed_s / interval_s) + 1, out.constData());
        for (const char* line :
             {"[1/1] job-log: PPL quantized heldout ", "[1/1] job-log: PPL compensated heldout ",
              "[1/1] job-log: update 40 v_loss ", "[1/1] job-log: FINISHED"})
            QVERIFY2(out.contains(line), (std::string(line) + " not in:\n" + out.toStdString()).c_str());
        QVERIFY(news >= 4);
    }
};

RILQ_TEST_APPLESS_MAIN(TestSlurmJobLogs)
#include "test_slurm_job_logs.moc"
