// The Runs table puts results first: PPL per dataset and stage, task accuracies and the best
// validation loss lead, internals (the trainer's other minima) start hidden, the column chooser
// shows / hides any column and reports the choice, and a reference run turns every result cell
// into "value (difference)".
#include "tests/widgets/widget_test_support.h"
#include "widgets/run_browser.h"
#include "widgets/run_columns.h"

#include <QAction>
#include <QMenu>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq::widgets;

namespace {

// Two finished points of a rank sweep and a killed one, with what StoreBridge fills in.
QVector<BrowserRun> columns_fixture_runs() {
    QVector<BrowserRun> runs;
    const int ranks[] = {0, 4, 16};
    const double compensated[] = {20.0, 18.0, 12.5};
    const double arc[] = {0.5, 0.5625, 0.625};
    for (int i = 0; i < 3; ++i) {
        BrowserRun run;
        run.uuid = QStringLiteral("uuid-r%1").arg(ranks[i]);
        run.experiment = QStringLiteral("sweep");
        run.name = QStringLiteral("lora_r=%1").arg(ranks[i]);
        run.status = i == 2 ? RunStatus::Killed : RunStatus::Finished;
        run.started = QDateTime::fromMSecsSinceEpoch(1'700'000'000'000LL + i * 60'000LL);
        run.duration_s = 30.0 + i;
        run.params = {{QStringLiteral("rilq.lora_r"), QString::number(ranks[i])},
                      {QStringLiteral("quant.bits"), QStringLiteral("2")}};
        run.best = {{QStringLiteral("v_loss"), 3.0 - 0.25 * i},
                    {QStringLiteral("lr"), 1e-4},
                    {QStringLiteral("es_counter"), 0.0}};
        run.perplexity = {{QStringLiteral("PPL TinyStories · quantized"), 90.0},
                          {QStringLiteral("PPL TinyStories · compensated"), compensated[i]}};
        run.accuracy = {{QStringLiteral("ARC-e"), arc[i]}};
        runs.push_back(run);
    }
    return runs;
}

RunBrowserSource columns_fixture_source() {
    return {[] { return columns_fixture_runs(); }, {}};
}

} // namespace

class TestRunColumns : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void resultsLeadAndInternalsAreHidden() {
        RunBrowser browser;
        browser.setSource(columns_fixture_source());
        const QStringList expected = {"Run",
                                      "PPL TinyStories · quantized",
                                      "PPL TinyStories · compensated",
                                      "ARC-e (%)",
                                      "best v_loss",
                                      "best es_counter",
                                      "best lr",
                                      "Status",
                                      "Duration",
                                      "Started",
                                      "Experiment",
                                      "rilq.lora_r"}; // quant.bits is the same everywhere: no column
        QCOMPARE(browser.columnTitles(), expected);
        QStringList shown = expected;
        shown.removeAll("best es_counter");
        shown.removeAll("best lr");
        QCOMPARE(browser.shownColumnTitles(), shown);
        // Cells: PPL with 5 significant digits, accuracy in percent.
        QCOMPARE(browser.cellText("uuid-r16", "PPL TinyStories · compensated"), QStringLiteral("12.5"));
        QCOMPARE(browser.cellText("uuid-r4", "ARC-e (%)"), QStringLiteral("56.25"));
        QCOMPARE(browser.cellText("uuid-r0", "Status"), QStringLiteral("FINISHED"));
        // Sorting a result column is numeric: 12.5 < 18 < 20.
        browser.sortByColumn("PPL TinyStories · compensated", Qt::AscendingOrder);
        QCOMPARE(browser.visibleRunIds(), (QStringList{"uuid-r16", "uuid-r4", "uuid-r0"}));
        QVERIFY(rilq::test::show_offscreen(&browser, QSize(1200, 400)));
        QVERIFY(rilq::test::save_screenshot(&browser, "run_browser_results_first"));
    }

    void columnChooserShowsHidesAndReports() {
        RunBrowser browser;
        browser.setSource(columns_fixture_source());
        QSignalSpy chosen(&browser, &RunBrowser::columnChoicesChanged);
        // The menu has one checkable entry per column; unchecking Duration hides it.
        QAction* duration = nullptr;
        QAction* lr = nullptr;
        for (QAction* a : browser.columnMenu()->actions()) {
            if (a->text() == "Duration") duration = a;
            if (a->text() == "best lr") lr = a;
        }
        QVERIFY(duration && lr);
        QVERIFY(duration->isChecked());
        QVERIFY(!lr->isChecked());
        duration->setChecked(false);
        QVERIFY(!browser.shownColumnTitles().contains("Duration"));
        QCOMPARE(chosen.count(), 1);
        browser.setColumnShown("best lr", true);
        QVERIFY(browser.shownColumnTitles().contains("best lr"));
        const QMap<QString, bool> choices = browser.columnChoices();
        const QMap<QString, bool> expected_choices = {{"Duration", false}, {"best lr", true}};
        QCOMPARE(choices, expected_choices);
        using ColumnChoices = QMap<QString, bool>;
        QCOMPARE(chosen.last().at(0).value<ColumnChoices>(), choices);
        // A refresh (new model) keeps the choice; the run's name can never be hidden.
        browser.refresh();
        QVERIFY(!browser.shownColumnTitles().contains("Duration"));
        QVERIFY(browser.shownColumnTitles().contains("best lr"));
        browser.setColumnShown("Run", false);
        QVERIFY(browser.shownColumnTitles().contains("Run"));
        // Another browser given the remembered choices shows the same columns.
        RunBrowser again;
        again.setColumnChoices(choices);
        again.setSource(columns_fixture_source());
        QCOMPARE(again.shownColumnTitles(), browser.shownColumnTitles());
    }

    void referenceRunShowsDifferences() {
        RunBrowser browser;
        browser.setSource(columns_fixture_source());
        browser.setReferenceRun("uuid-r0");
        QCOMPARE(browser.referenceRun(), QStringLiteral("uuid-r0"));
        QCOMPARE(browser.cellText("uuid-r4", "PPL TinyStories · compensated"), QStringLiteral("18 (-2)"));
        QCOMPARE(browser.cellText("uuid-r16", "PPL TinyStories · compensated"),
                 QStringLiteral("12.5 (-7.5)"));
        QCOMPARE(browser.cellText("uuid-r16", "ARC-e (%)"), QStringLiteral("62.50 (+12.5)")); // points
        QCOMPARE(browser.cellText("uuid-r4", "best v_loss"), QStringLiteral("2.75 (-0.25)"));
        QCOMPARE(browser.cellText("uuid-r4", "PPL TinyStories · quantized"), QStringLiteral("90 (+0)"));
        QCOMPARE(browser.cellText("uuid-r0", "PPL TinyStories · compensated"), QStringLiteral("20"));
        QCOMPARE(browser.cellText("uuid-r0", "Run"), QStringLiteral("lora_r=0 (reference)"));
        QCOMPARE(browser.cellText("uuid-r4", "Duration"), format_duration(31.0)); // no difference
        // Sorting still reads the values, not the text with its difference.
        browser.sortByColumn("PPL TinyStories · compensated", Qt::DescendingOrder);
        QCOMPARE(browser.visibleRunIds(), (QStringList{"uuid-r0", "uuid-r4", "uuid-r16"}));
        browser.setReferenceRun(QString());
        QCOMPARE(browser.cellText("uuid-r4", "PPL TinyStories · compensated"), QStringLiteral("18"));
    }

    // Two selected runs: the differing params, then every result with B's difference to A.
    void diffOfTwoRunsIncludesResults() {
        RunBrowser browser;
        browser.setSource(columns_fixture_source());
        browser.sortByColumn("rilq.lora_r", Qt::AscendingOrder);
        QSignalSpy followed(&browser, &RunBrowser::runSelectionChanged);
        browser.selectRuns({"uuid-r0", "uuid-r16"});
        QCOMPARE(followed.count(), 1);
        const auto rows = browser.diffRows();
        QCOMPARE(rows.value(0), (QStringList{"rilq.lora_r", "0", "16"}));
        QVERIFY(rows.contains(QStringList{"PPL TinyStories · compensated", "20", "12.5 (-7.5)"}));
        QVERIFY(rows.contains(QStringList{"ARC-e (%)", "50.00", "62.50 (+12.5)"}));
        QVERIFY(rows.contains(QStringList{"best v_loss", "3", "2.5 (-0.5)"}));
        // A refresh restores the selection without announcing it as the user's new choice.
        browser.refresh();
        QCOMPARE(browser.selectedRunIds().size(), 2);
        QCOMPARE(followed.count(), 1);
    }
};

RILQ_TEST_MAIN(TestRunColumns)
#include "test_run_columns.moc"
