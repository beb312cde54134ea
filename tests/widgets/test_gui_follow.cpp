// The views follow the sweep: a selection in Runs, and a sweep that runs and ends, reach Compare,
// Layers, Export (and Live curves) without re-picking; the Runs table gets PPL per dataset and
// stage from the store and remembers its columns; the Export pane counts FINISHED runs by
// default, shows its errors and never replaces rows / columns the user typed.
#include "app/gui/export_panel.h"
#include "app/gui/main_window.h"
#include "app/gui/store_bridge.h"
#include "core/store/run_store.h"
#include "core/util/runtime.h"
#include "tests/support/test_support.h"
#include "tiny_gui_experiment.h"
#include "widget_test_support.h"
#include "widgets/compare_view.h"
#include "widgets/parallel_coords.h"
#include "widgets/layer_inspector.h"
#include "widgets/live_curves.h"
#include "widgets/pivot_preview.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/rank_plot.h"
#include "widgets/run_browser.h"
#include "widgets/run_overlay.h"
#include "widgets/experiment_form.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>

#include "tests/support/test_main.h"

using namespace rilq;

namespace {

// A finished rank sweep (0, 4, 16; 800 steps) of "sweep" with curves, PPL at three stages and
// layer stats; a KILLED point of it with another step count (rank 8, 400 steps, quantized PPL
// only); a FAILED run of "other".
QString make_follow_store(const QTemporaryDir& dir) {
    const QString path = dir.filePath("runs.sqlite");
    store::RunStore s(path.toStdString());
    const auto add_point = [&](int rank, int steps, store::RunStatus status) {
        store::NewRun run;
        run.experiment = "sweep";
        run.name = "lora_r=" + std::to_string(rank);
        run.config_hash = "h" + std::to_string(rank) + "-" + std::to_string(steps);
        run.params = {{"rilq.lora_r", std::to_string(rank)},
                      {"rilq.approx_total_steps", std::to_string(steps)},
                      {"rilq.output_dir", "runs/sweep/lora_r=" + std::to_string(rank)},
                      {"datasets.ts.label", "TinyStories"}};
        const std::string uuid = s.create_run(run);
        s.start_run(uuid);
        for (int step = 1; step <= 4; ++step)
            s.log_metrics(uuid, step,
                          {{"t_loss", 3.0 - 0.1 * step}, {"v_loss", 3.1 - 0.1 * step - 0.01 * rank}});
        store::EvalResult e;
        e.dataset = "ts";
        e.seqlen = 256;
        e.stage = "quantized"; // logged before fp: the columns still come in core's stage order
        e.ppl = 90.0;
        s.log_eval_result(uuid, e);
        if (status == store::RunStatus::Finished) {
            e.stage = "fp";
            e.ppl = 10.0;
            s.log_eval_result(uuid, e);
            if (rank > 0) {
                e.stage = "compensated";
                e.ppl = 20.0 - rank * 0.5;
                s.log_eval_result(uuid, e);
            }
            s.log_layer_stats(uuid, {{"quantized", 0, "self_attn.q_proj", "rel_error", 0.3},
                                     {"compensated", 0, "self_attn.q_proj", "rel_error", 0.1 + 0.01 * rank}});
        }
        s.end_run(uuid, status, status == store::RunStatus::Killed ? "cancelled" : "");
        return QString::fromStdString(uuid);
    };
    for (int rank : {0, 4, 16})
        add_point(rank, 800, store::RunStatus::Finished);
    add_point(8, 400, store::RunStatus::Killed);
    store::NewRun other;
    other.experiment = "other";
    other.name = "broken";
    other.params = {{"rilq.lora_r", "8"}};
    const std::string uuid = s.create_run(other);
    s.start_run(uuid);
    s.end_run(uuid, store::RunStatus::Failed, "NaN loss");
    return path;
}

QString follow_uuid_of(const gui::StoreBridge& bridge, const QString& name) {
    for (const auto& run : bridge.listRuns())
        if (run.name == name) return run.uuid;
    return {};
}

// Two points of one scope: ranks 0 and 2.
nlohmann::json follow_tiny_experiment() {
    nlohmann::json doc = rilq::test::tiny_gui_experiment(16);
    doc["name"] = "gui-follow";
    doc["rilq"]["scope"] = "model";
    return doc;
}

} // namespace

class TestGuiFollow : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        configure_threads(0);
    }
    void init() { QSettings().clear(); }

    // PPL per dataset (its label) and stage, stages in core's order whatever order they were
    // logged in; a rank-0 run has no compensated column value.
    void perplexityColumnsFromTheStore() {
        QTemporaryDir dir;
        gui::StoreBridge bridge(make_follow_store(dir));
        for (const auto& run : bridge.listRuns()) {
            if (run.name == "lora_r=4") {
                const QVector<QPair<QString, double>> expected = {{"PPL TinyStories · fp", 10.0},
                                                                  {"PPL TinyStories · quantized", 90.0},
                                                                  {"PPL TinyStories · compensated", 18.0}};
                QCOMPARE(run.perplexity, expected);
            }
            if (run.name == "lora_r=0") QCOMPARE(run.perplexity.size(), 2);
            if (run.name == "lora_r=8") QCOMPARE(run.perplexity.size(), 1); // killed after quantizing
        }
        widgets::RunBrowser browser;
        browser.setSource(bridge.browserSource());
        QCOMPARE(browser.columnTitles().mid(0, 5),
                 (QStringList{"Run", "PPL TinyStories · fp", "PPL TinyStories · quantized",
                              "PPL TinyStories · compensated", "best v_loss"}));
        QCOMPARE(browser.cellText(follow_uuid_of(bridge, "lora_r=16"), "PPL TinyStories · compensated"),
                 QStringLiteral("12"));
        QVERIFY(!browser.shownColumnTitles().contains("best t_loss")); // an internal: hidden
    }

    // Selecting runs in Runs: Compare draws them and the experiment's rank figure, Layers shows the
    // last selected run with stats, Export switches to the experiment, Live shows their curves;
    // the tab stays where the user is.
    void selectionInRunsIsFollowed() {
        QTemporaryDir dir;
        const QString path = make_follow_store(dir);
        gui::MainWindow window(path, gui::MainWindow::Interaction::WithoutDialogs);
        window.showView("runs");
        gui::StoreBridge bridge(path);
        const QString r4 = follow_uuid_of(bridge, "lora_r=4"), r16 = follow_uuid_of(bridge, "lora_r=16");
        window.layers()->setStats({});
        window.browser()->selectRuns({r4, r16});
        QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget*>(window.browser()));
        QVERIFY(window.compare()->overlay()->graph(r4));
        QVERIFY(window.compare()->overlay()->graph(r16));
        QVERIFY(!window.compare()->overlay()->graph(follow_uuid_of(bridge, "lora_r=0")));
        // Colour and dash choose among settings: a per-run output folder is a place, not a setting.
        QCOMPARE(window.compare()->overlay()->parameterKeys(), QStringList{"rilq.lora_r"});
        const QCPGraph* line = window.compare()->rankPlot()->series("TinyStories", widgets::kScopeModel);
        QVERIFY(line);
        QCOMPARE(rilq::test::values_of(line), (QVector<double>{18.0, 12.0})); // ranks 4, 16
        QCOMPARE(window.exportPanel()->choice().experiment, QStringLiteral("sweep"));
        QVERIFY(!window.layers()->isEmpty());
        const double rel = window.layers()->stats().value("compensated", 0, "self_attn.q_proj", "rel_error");
        QVERIFY(std::abs(rel - 0.26) < 1e-12 || std::abs(rel - 0.14) < 1e-12);
        QVERIFY(window.liveCurves()->hasRun(r4));
        QVERIFY(window.liveCurves()->hasRun(r16));
    }

    // Brushing Compare's parallel coordinates selects the brushed runs in Runs, without narrowing
    // what Compare draws; the overlay's curves carry each point's seconds since the run's start.
    void brushingSelectsInRuns() {
        QTemporaryDir dir;
        const QString path = make_follow_store(dir);
        gui::MainWindow window(path, gui::MainWindow::Interaction::WithoutDialogs);
        gui::StoreBridge bridge(path);
        const QString r0 = follow_uuid_of(bridge, "lora_r=0"), r4 = follow_uuid_of(bridge, "lora_r=4"),
                      r16 = follow_uuid_of(bridge, "lora_r=16");
        window.browser()->selectRuns({r0, r4, r16});
        widgets::ParallelCanvas* canvas = window.compare()->parallel()->canvas();
        const int ppl = canvas->axisIndex(QStringLiteral("PPL TinyStories · compensated"));
        QVERIFY(ppl >= 0);
        canvas->setBrush(ppl, 11.0, 13.0); // rank 16: 12; rank 4: 18; rank 0: none
        QCOMPARE(window.browser()->selectedRunIds(), QStringList{r16});
        QVERIFY(window.compare()->overlay()->graph(r4)); // Compare still draws every run
        QCOMPARE(canvas->brushedRuns(), QStringList{r16});
        canvas->clearBrushes();
        QVERIFY(window.browser()->selectedRunIds().isEmpty());

        const widgets::RunCurve curve = bridge.runCurve(r4);
        const QVector<double> seconds = curve.seconds.value("v_loss");
        QCOMPARE(seconds.size(), curve.curves.value("v_loss").size());
        QVERIFY(!seconds.isEmpty() && seconds.front() >= 0.0 &&
                std::is_sorted(seconds.begin(), seconds.end()));
        QCOMPARE(curve.tokens_per_step, 0.0); // the store's runs have no batch params
    }

    void runsColumnChoiceIsRemembered() {
        QTemporaryDir dir;
        const QString path = make_follow_store(dir);
        {
            gui::MainWindow window(path, gui::MainWindow::Interaction::WithoutDialogs);
            QVERIFY(!window.browser()->shownColumnTitles().contains("best t_loss"));
            window.browser()->setColumnShown("best t_loss", true);
            window.browser()->setColumnShown("Started", false);
        }
        gui::MainWindow again(path, gui::MainWindow::Interaction::WithoutDialogs);
        QVERIFY(again.browser()->shownColumnTitles().contains("best t_loss"));
        QVERIFY(!again.browser()->shownColumnTitles().contains("Started"));
    }

    void exportCountsFinishedRunsShowsErrorsKeepsTheUsersLayout() {
        QTemporaryDir dir;
        const QString path = make_follow_store(dir);
        gui::ExportPanel panel;
        panel.setStorePath(path);
        panel.setExperiments({"other", "sweep"}, "sweep");
        // FINISHED only: the killed 400-step point neither adds a row nor makes steps a column.
        QCOMPARE(panel.choice().rows, QStringLiteral("lora_r"));
        QCOMPARE(panel.choice().cols, QStringLiteral("dataset"));
        QVERIFY(!panel.choice().include_unfinished);
        QCOMPARE(panel.preview()->pivotTable().rows.size(), 3);
        QVERIFY(!panel.messageIsError());
        // Every run: the default layout changes, and the pane says so (never silently).
        panel.setIncludeUnfinished(true);
        QCOMPARE(panel.choice().cols, QStringLiteral("rilq.approx_total_steps"));
        QVERIFY2(panel.messageText().contains("rilq.approx_total_steps"), qPrintable(panel.messageText()));
        QVERIFY(!panel.messageIsError());
        // The user's own rows / columns stay through a change of status filter and experiment.
        panel.setRowsAndColumns("lora_r", "dataset");
        QCOMPARE(panel.preview()->pivotTable().rows.size(), 4); // 0, 4, 8 (killed), 16
        panel.setIncludeUnfinished(false);
        panel.setExperiments({"other", "sweep"}, "other");
        QCOMPARE(panel.choice().rows, QStringLiteral("lora_r"));
        QCOMPARE(panel.choice().cols, QStringLiteral("dataset"));
        // "other" has no FINISHED run: the error is in the pane (and emitted for the log).
        QVERIFY(panel.messageIsError());
        QVERIFY2(panel.messageText().contains("no FINISHED runs in experiment \"other\""),
                 qPrintable(panel.messageText()));
        QVERIFY(panel.preview()->pivotTable().rows.isEmpty());
        // Where filters as rilq export --where; a good table clears the error.
        panel.setExperiment("sweep");
        panel.setWhere("rilq.lora_r=4");
        QVERIFY(!panel.messageIsError());
        QCOMPARE(panel.preview()->pivotTable().rows.size(), 1);
        QCOMPARE(panel.preview()->pivotTable().rows[0].value(1), QStringLiteral("18.00"));
        panel.setWhere("rilq.lora_r");
        QVERIFY(panel.messageIsError());
        panel.setWhere("");
        panel.useDefaultLayout();
        QVERIFY(!panel.userLayout());
        QVERIFY(rilq::test::show_offscreen(&panel, QSize(1200, 500)));
        QVERIFY(rilq::test::save_screenshot(&panel, "export_panel"));
    }

    // A real sweep (stories260K, ranks 0 and 2, 16 steps): when it ends, Compare holds its runs'
    // curves and the rank figure, Export its experiment, Layers its last run's stats.
    void finishedSweepIsFollowed() {
        if (!QFile::exists(QString::fromStdString(rilq::test::shared_data("stories260K/stories260K.bin"))))
            QSKIP("no ../shared/data");
        QTemporaryDir dir;
        gui::MainWindow window(dir.filePath("runs.sqlite"), gui::MainWindow::Interaction::WithoutDialogs);
        window.form()->setDocument(follow_tiny_experiment());
        QVERIFY2(window.form()->isValid(), qPrintable(window.form()->issues().value(0).message));
        QSignalSpy finished(&window, &gui::MainWindow::runsFinished);
        QVERIFY(window.startRuns());
        QVERIFY(finished.wait(600000));
        QCOMPARE(finished.front().at(0).toInt(), 2);
        const QStringList ids = window.liveCurves()->runIds();
        QCOMPARE(ids.size(), 2);
        QVERIFY(window.compare()->overlay()->graph(ids.back())); // rank 2 logged its v_loss
        const QCPGraph* line = window.compare()->rankPlot()->series("TinyStories", widgets::kScopeModel);
        QVERIFY(line);
        QCOMPARE(rilq::test::keys_of(line).size(), 1); // rank 2 (rank 0 is the dashed baseline)
        QCOMPARE(window.exportPanel()->choice().experiment, QStringLiteral("gui-follow"));
        QCOMPARE(window.exportPanel()->preview()->pivotTable().rows.size(), 2);
        QVERIFY(!window.layers()->isEmpty());
        QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget*>(window.liveCurves()));
    }
};

RILQ_TEST_MAIN(TestGuiFollow)
#include "test_gui_follow.moc"
