// The window on a real Slurm cluster (issue 18), as a user drives it: the run toolbar's backend
// set to "slurm", Run pressed, the 2-point stories260K sweep the CLI's cluster test runs submitted
// as a job array to a one-node cluster (tests/support/one_node_slurm.h) and followed:
//  - the queue shows both remote runs with Slurm's state and node as they progress, and at the
//    end both FINISHED with Slurm's COMPLETED; the Runs table and the store hold both runs
//    FINISHED with the PPL, bit for bit, of the same sweep run locally by `rilq run` (same seed,
//    one thread each);
//  - a sweep that trains until cancelled: live curves receive points for both remote runs while
//    Slurm runs them (the job never ends by itself, so nothing arrives "at the end"); Cancel ->
//    scancel -> both runs end KILLED in the store, the queue says KILLED with Slurm's CANCELLED,
//    and Slurm's queue says CANCELLED;
//  - the chain (quantize -> RILQ -> SFT) through Slurm: the fine-tuning stage's sft.* curves reach
//    the live chart as its own curves, every point the store holds.
// Needs root and the Slurm and munge packages (skipped otherwise, with the reason), and
// ../shared/data.
#include "app/gui/app_settings.h"
#include "app/gui/main_window.h"
#include "app/gui/run_worker.h"
#include "core/store/run_store.h"
#include "tests/support/one_node_slurm.h"
#include "tiny_gui_experiment.h"
#include "widget_test_support.h"
#include "widgets/experiment_form.h"
#include "widgets/live_curves.h"
#include "widgets/run_browser.h"
#include "widgets/run_queue_view.h"

#include <nlohmann/json.hpp>

#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QMap>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// The queue's columns (widgets/run_queue_view.cpp): what the user reads in each row.
constexpr int kQueueStatusColumn = 1;
constexpr int kQueueDetailColumn = 5;

store::StoreOptions gui_slurm_read_only() {
    store::StoreOptions o;
    o.mode = store::Database::Mode::ReadOnly;
    return o;
}

QAction* run_toolbar_action(gui::MainWindow& window, const QString& text) {
    for (QAction* a : window.findChild<QToolBar*>(QStringLiteral("runToolbar"))->actions())
        if (a->text().remove('&') == text) return a;
    return nullptr;
}

// Every (status, detail) a queue row showed, sampled every 20 ms while the sweep runs.
class QueueWatch {
  public:
    explicit QueueWatch(widgets::RunQueueView* queue) : tree_(queue->findChild<QTreeWidget*>()) {
        timer_.setInterval(20);
        QObject::connect(&timer_, &QTimer::timeout, [this] { sample(); });
        timer_.start();
    }
    void sample() {
        for (int row = 0; row < tree_->topLevelItemCount(); ++row) {
            const QTreeWidgetItem* item = tree_->topLevelItem(row);
            const QString shown = item->text(kQueueStatusColumn) + " | " + item->text(kQueueDetailColumn);
            QStringList& seen = rows_[row];
            if (seen.isEmpty() || seen.back() != shown) seen << shown;
        }
    }
    QStringList row(int index) const { return rows_.value(index); }
    QString last(int index) const { return rows_.value(index).value(rows_.value(index).size() - 1); }

  private:
    QTreeWidget* tree_;
    QTimer timer_;
    QMap<int, QStringList> rows_;
};

} // namespace

class TestGuiSlurm : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() {
        const QString missing = test::slurm_missing_requirement();
        if (!missing.isEmpty()) QSKIP(qPrintable("no one-node Slurm cluster: " + missing));
        if (!QFile::exists(QString::fromStdString(test::shared_data("stories260K/stories260K.bin"))))
            QSKIP("no ../shared/data");
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        QSettings().clear();
        QVERIFY(dir_.isValid());
        root_ = dir_.path().toStdString();
        test::open_folder_to_all(root_); // munged's socket lives below it

        // The CLI's local run of the sweep, the reference; it runs while the cluster starts.
        fs::create_directories(root_ + "/local");
        std::ofstream(root_ + "/local/sweep.json") << test::slurm_tiny_sweep(6).dump(2);
        local_ = test::start_rilq({"run", QString::fromStdString(root_ + "/local/sweep.json"), "--db",
                                   QString::fromStdString(root_ + "/local/local.sqlite")},
                                  root_ + "/local", QProcessEnvironment::systemEnvironment());
        cluster_ = std::make_unique<test::OneNodeCluster>(root_ + "/cluster");
        QVERIFY2(cluster_->error().empty(), cluster_->error().c_str());
        // The window's worker submits with this process's environment: this cluster, one thread
        // per task (as the reference), and the rilq built beside the tests for the tasks to run.
        qputenv("SLURM_CONF", QByteArray::fromStdString(cluster_->conf()));
        qputenv("RILQ_THREADS", "1");
        qputenv("OMP_NUM_THREADS", "1");
        qputenv("RILQ_TASK_PROGRAM", fault::rilq_binary().toLocal8Bit());
    }

    void cleanupTestCase() {
        cluster_.reset();
        qunsetenv("SLURM_CONF");
        qunsetenv("RILQ_TASK_PROGRAM");
    }

    void sweepFromTheWindowMatchesTheCliRunBitForBit() {
        QVERIFY(local_->waitForFinished(300000));
        QVERIFY2(local_->exitCode() == 0, local_->readAll().constData());
        auto window = slurm_window("sweep", test::slurm_tiny_sweep(6));
        QVERIFY(window);
        QueueWatch watch(window->queue());
        QSignalSpy finished(window.get(), &gui::MainWindow::runsFinished);
        run_toolbar_action(*window, QStringLiteral("Start runs"))->trigger();
        QVERIFY(finished.wait(300000) || !finished.isEmpty());
        watch.sample();
        QCOMPARE(finished.front().at(0).toInt(), 2); // both finished, no error
        QCOMPARE(finished.front().at(2).toString(), QString());

        const QString node = QString::fromStdString(test::host_name());
        for (int i = 0; i < 2; ++i) {
            // At the end FINISHED with Slurm's verdict and node. (A 6-micro-step task can start and
            // end between two polls on a loaded machine, so "RUNNING on <node>" while it runs is
            // asserted by the cancel test, whose tasks train until cancelled.)
            QVERIFY2(watch.last(i).startsWith(QStringLiteral("FINISHED | ")) &&
                         watch.last(i).contains(QStringLiteral("Slurm COMPLETED on ") + node),
                     qPrintable(watch.row(i).join('\n')));
            // Never RUNNING while Slurm had it waiting.
            for (const QString& shown : watch.row(i))
                QVERIFY2(!(shown.startsWith(QStringLiteral("RUNNING")) &&
                           shown.contains(QStringLiteral("PENDING"))),
                         qPrintable(shown));
        }

        // The store and the Runs table: both FINISHED, PPL bit for bit the CLI's local run's.
        store::RunStore reference(root_ + "/local/local.sqlite", gui_slurm_read_only());
        store::RunStore mine(root_ + "/sweep/runs.sqlite", gui_slurm_read_only());
        window->browser()->refresh();
        const auto& table = window->browser()->runs();
        QCOMPARE(int(table.size()), 2);
        for (const std::string name : {"lora_r=1", "lora_r=2"}) {
            const store::RunSummary a = run_named(reference, name);
            const store::RunSummary b = run_named(mine, name);
            QCOMPARE(b.status, store::RunStatus::Finished);
            QCOMPARE(mine.get_run(b.uuid).tags.at("slurm.state"), std::string("COMPLETED"));
            const auto pa = reference.eval_results(a.uuid);
            const auto pb = mine.eval_results(b.uuid);
            QCOMPARE(pb.size(), size_t{3}); // fp, quantized, compensated
            QCOMPARE(pb.size(), pa.size());
            for (size_t i = 0; i < pa.size(); ++i) {
                QCOMPARE(pb[i].stage, pa[i].stage);
                QCOMPARE(pb[i].ppl, pa[i].ppl);
            }
            const auto row = std::find_if(table.begin(), table.end(), [&](const widgets::BrowserRun& r) {
                return r.uuid == QString::fromStdString(b.uuid);
            });
            QVERIFY(row != table.end());
            QCOMPARE(row->status, widgets::RunStatus::Finished);
            QCOMPARE(int(row->perplexity.size()), 3);
            std::set<double> shown;
            for (const auto& [column, ppl] : row->perplexity)
                shown.insert(ppl);
            for (const auto& r : pa)
                QVERIFY2(shown.count(r.ppl), (name + " " + r.stage).c_str());
            // Its curves reached the live chart, all of them (what the store holds).
            QCOMPARE(window->liveCurves()->pointCount(QString::fromStdString(b.uuid),
                                                      widgets::CurveKind::TrainTotal),
                     int(mine.metric_history(b.uuid, "t_loss").size()));
        }
    }

    void cancelWhileTheArrayRunsEndsBothKilled() {
        auto window = slurm_window("cancel", test::slurm_tiny_sweep(1000000)); // trains until cancelled
        QVERIFY(window);
        QueueWatch watch(window->queue());
        QSignalSpy finished(window.get(), &gui::MainWindow::runsFinished);
        // Points of each run that arrive while its queue row says Slurm is running it.
        const QString node = QString::fromStdString(test::host_name());
        QMap<QString, int> index_of;
        connect(window->worker(), &gui::RunWorker::runStarted, window.get(),
                [&](int index, int, const QString& uuid) { index_of[uuid] = index; });
        std::map<int, int> live_points;
        connect(
            window->worker(), &gui::RunWorker::curvePoints, window.get(),
            [&](const QVector<widgets::CurveBatch>& batches) {
                watch.sample();
                for (const auto& b : batches)
                    if (b.kind == widgets::CurveKind::TrainTotal && index_of.contains(b.run_id) &&
                        watch.last(index_of[b.run_id]).contains(QStringLiteral("Slurm RUNNING on ") + node))
                        live_points[index_of[b.run_id]] += int(b.points.size());
            });
        run_toolbar_action(*window, QStringLiteral("Start runs"))->trigger();
        QTRY_VERIFY_WITH_TIMEOUT((live_points[0] > 0 && live_points[1] > 0) || !finished.isEmpty(), 240000);
        QVERIFY2(finished.isEmpty(), qPrintable(watch.row(0).join('\n')));
        for (const QString& uuid : index_of.keys())
            QVERIFY(window->liveCurves()->pointCount(uuid, widgets::CurveKind::TrainTotal) > 0);

        run_toolbar_action(*window, QStringLiteral("Cancel"))->trigger();
        QVERIFY(finished.wait(240000) || !finished.isEmpty());
        watch.sample();
        QCOMPARE(finished.front().at(0).toInt(), 0);
        store::RunStore mine(root_ + "/cancel/runs.sqlite", gui_slurm_read_only());
        const auto runs = mine.list_runs();
        QCOMPARE(runs.size(), size_t{2});
        for (const auto& r : runs) {
            QVERIFY2(r.status == store::RunStatus::Killed,
                     (r.name + ": " + store::to_string(r.status) + " " + r.status_message).c_str());
            QCOMPARE(mine.get_run(r.uuid).tags.at("slurm.state"), std::string("CANCELLED"));
        }
        for (int i = 0; i < 2; ++i)
            QVERIFY2(watch.last(i).startsWith(QStringLiteral("KILLED | ")) &&
                         watch.last(i).contains(QStringLiteral("Slurm CANCELLED")),
                     qPrintable(watch.row(i).join('\n')));
        QVERIFY(test::OneNodeCluster::wait_for([&] { return cluster_->queue().contains("CANCELLED"); }, 30));
    }

    void chainOnSlurmDrawsTheFinetuneCurves() {
        auto window = slurm_window("chain", test::tiny_chain_experiment());
        QVERIFY(window);
        QSignalSpy finished(window.get(), &gui::MainWindow::runsFinished);
        run_toolbar_action(*window, QStringLiteral("Start runs"))->trigger();
        QVERIFY(finished.wait(300000) || !finished.isEmpty());
        QVERIFY2(finished.front().at(0).toInt() == 1, qPrintable(finished.front().at(2).toString()));
        store::RunStore mine(root_ + "/chain/runs.sqlite", gui_slurm_read_only());
        const auto runs = mine.list_runs();
        QCOMPARE(runs.size(), size_t{1});
        const QString uuid = QString::fromStdString(runs.front().uuid);
        widgets::LiveCurves* curves = window->liveCurves();
        QVERIFY(curves->finetuneKindsShown());
        for (const auto& [key, kind] : {std::pair{"sft.t_loss", widgets::CurveKind::SftTrain},
                                        std::pair{"sft.v_loss", widgets::CurveKind::SftValidation}}) {
            QVector<double> stored;
            for (const auto& p : mine.metric_history(runs.front().uuid, key))
                stored.push_back(p.value);
            QVERIFY2(stored.size() >= 4, key); // 6 updates, validations at 0, 2, 4, 6
            QVERIFY2(curves->rawGraph(uuid, kind), key);
            QCOMPARE(test::values_of(curves->rawGraph(uuid, kind)), stored);
        }
        QVERIFY(curves->pointCount(uuid, widgets::CurveKind::TrainTotal) > 0); // RILQ's stay RILQ's
    }

  private:
    // A window whose data folder (outputs, job folders) and store are root/<tag>, the experiment
    // `doc` in its form and "slurm" chosen in the run toolbar (as a user picks it).
    std::unique_ptr<gui::MainWindow> slurm_window(const std::string& tag, const nlohmann::json& doc) {
        const std::string folder = root_ + "/" + tag;
        fs::create_directories(folder);
        gui::prefs::data_folder.set(QString::fromStdString(folder));
        auto window = std::make_unique<gui::MainWindow>(QString::fromStdString(folder + "/runs.sqlite"),
                                                        gui::MainWindow::Interaction::WithoutDialogs);
        auto* backend = window->findChild<QComboBox*>(QStringLiteral("runBackend"));
        if (!backend || backend->findText(QStringLiteral("slurm")) < 0) return nullptr;
        backend->setCurrentIndex(backend->findText(QStringLiteral("slurm")));
        window->form()->setDocument(doc);
        if (!window->form()->isValid()) {
            qWarning("invalid experiment: %s", qPrintable(window->form()->issues().value(0).message));
            return nullptr;
        }
        return window;
    }

    static store::RunSummary run_named(store::RunStore& store, const std::string& name) {
        for (const auto& r : store.list_runs())
            if (r.name == name) return r;
        throw std::runtime_error("no run " + name + " in " + store.path());
    }

    QTemporaryDir dir_;
    std::string root_;
    std::unique_ptr<QProcess> local_;
    std::unique_ptr<test::OneNodeCluster> cluster_;
};

RILQ_TEST_MAIN(TestGuiSlurm)
#include "test_gui_slurm.moc"
