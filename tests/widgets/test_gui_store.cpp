// The GUI's store side on a real store made here: the run browser lists, filters, diffs and
// deletes its rows; the export view prints exactly what `rilq export` prints.
#include "app/gui/export_bridge.h"
#include "app/gui/export_panel.h"
#include "app/gui/store_bridge.h"
#include "core/eval/tasks/mmlu_categories.h"
#include "core/report/store_pivot.h"
#include "core/report/task_metric.h"
#include "core/run/experiment_config.h"
#include "core/run/runner.h"
#include "core/report/table_writers.h"
#include "core/store/run_store.h"
#include "tests/support/test_support.h"
#include "widget_test_support.h"
#include "widgets/compare_view.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/rank_plot.h"
#include "widgets/run_browser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include <QComboBox>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using namespace rilq;

namespace {

// Three finished rank-sweep points and one failed run of another experiment.
QString make_store(const QTemporaryDir& dir) {
    const QString path = dir.filePath("runs.sqlite");
    store::RunStore s(path.toStdString());
    for (int r : {0, 4, 16}) {
        store::NewRun run;
        run.experiment = "sweep";
        run.name = "lora_r=" + std::to_string(r);
        run.config_hash = "h" + std::to_string(r);
        run.params = {{"rilq.lora_r", std::to_string(r)},
                      {"rilq.approx_lr", "0.001"},
                      {"quant.bits", "2"},
                      {"datasets.ts.label", "TinyStories"}};
        const std::string uuid = s.create_run(run);
        s.start_run(uuid);
        for (int step = 1; step <= 5; ++step)
            s.log_metrics(uuid, step,
                          {{"t_loss", 3.0 - 0.1 * step - 0.01 * r}, {"v_loss", 3.1 - 0.1 * step}});
        store::EvalResult e;
        e.dataset = "ts";
        e.seqlen = 256;
        e.stage = "quantized";
        e.ppl = 90.0;
        s.log_eval_result(uuid, e);
        e.stage = "fp";
        e.ppl = 10.0;
        s.log_eval_result(uuid, e);
        if (r > 0) {
            e.stage = "compensated";
            e.ppl = 20.0 - r * 0.5;
            s.log_eval_result(uuid, e);
        }
        s.log_layer_stats(uuid, {{"quantized", 0, "self_attn.q_proj", "rel_error", 0.3},
                                 {"compensated", 0, "self_attn.q_proj", "rel_error", 0.1}});
        s.end_run(uuid, store::RunStatus::Finished);
    }
    store::NewRun other;
    other.experiment = "other";
    other.name = "broken";
    other.params = {{"rilq.lora_r", "8"}, {"rilq.approx_lr", "0.01"}};
    const std::string uuid = s.create_run(other);
    s.start_run(uuid);
    s.end_run(uuid, store::RunStatus::Failed, "NaN loss");
    return path;
}

// A task-only sweep (rilq eval --record after each point): ranks 0, 4, 16 x scopes model and
// linear, ARC-e and PIQA at acc 0.5 / 0.75 (+ rank / 256, + 1/64 for linear; rank 0 quantized),
// MMLU 0.25 + rank / 256 with its four categories.
QString make_task_store(const QTemporaryDir& dir) {
    const QString path = dir.filePath("tasks.sqlite");
    store::RunStore s(path.toStdString());
    for (const char* scope : {"model", "linear"})
        for (int r : {0, 4, 16}) {
            store::NewRun run;
            run.experiment = "tasks";
            run.name = "lora_r=" + std::to_string(r);
            run.config_hash = std::string(scope) + std::to_string(r);
            run.params = {{"rilq.lora_r", std::to_string(r)}, {"rilq.scope", scope}, {"quant.bits", "2"}};
            const std::string uuid = s.create_run(run);
            s.start_run(uuid);
            const double offset = r / 256.0 + (std::string(scope) == "linear" ? 1 / 64.0 : 0.0);
            const std::string stage = r ? "compensated" : "quantized";
            for (const auto& [task, acc] : {std::pair{"arc_easy", 0.5}, std::pair{"piqa", 0.75}}) {
                store::TaskScore t;
                t.task = task;
                t.stage = stage;
                t.n = 100;
                t.acc = acc + offset;
                t.acc_norm = t.acc + 1 / 64.0;
                s.log_task_score(uuid, t);
            }
            store::TaskScore mmlu;
            mmlu.task = "mmlu";
            mmlu.stage = stage;
            mmlu.n = 400;
            mmlu.shots = 5;
            mmlu.acc = 0.25 + offset;
            mmlu.acc_norm = mmlu.acc_norm_stderr = std::numeric_limits<double>::quiet_NaN();
            for (const auto& [category, subcategories] : mmlu_categories())
                mmlu.groups.push_back({"category", category, 100, mmlu.acc});
            s.log_task_score(uuid, mmlu);
            s.end_run(uuid, store::RunStatus::Finished);
        }
    return path;
}

} // namespace

class TestGuiStore : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // A real ICQ-NF run (stories260K, rank 0: quantize and evaluate only): the layer view gets
    // each linear's code histogram from the store and its ICQ offsets from the run's
    // quant_stats.json.
    void histogramsOfARealIcqRun() {
        if (!QFile::exists(QString::fromStdString(rilq::test::shared_data("stories260K/stories260K.bin"))))
            QSKIP("no ../shared/data");
        QFile file(
            QString::fromStdString(rilq::test::test_data("../../experiments/stories260k-rank-sweep.json")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        nlohmann::json doc = nlohmann::json::parse(file.readAll().toStdString());
        doc["name"] = "icq-histograms";
        doc["data_root"] = rilq::test::shared_data();
        doc["rilq"]["lora_r"] = 0;
        doc["rilq"]["scope"] = "model";
        doc["rilq"]["calib_num_samples"] = 10;
        doc["rilq"]["calib_max_length"] = 64;
        doc["quant"] = {{"method", "icq-nf"}, {"bits", 2}, {"group_size", 64}};
        doc["eval"]["seqlen"] = 64;
        doc["datasets"]["tinystories_eval"]["max_windows"] = 2;
        QTemporaryDir dir;
        run::RunnerOptions options;
        options.store_path = dir.filePath("runs.sqlite").toStdString();
        options.output_base = dir.path().toStdString();
        const auto outcomes = run::Runner(options).run_experiment(run::parse_experiment(doc));
        QVERIFY2(outcomes.at(0).status == store::RunStatus::Finished, outcomes.at(0).message.c_str());

        const gui::StoreBridge bridge(dir.filePath("runs.sqlite"));
        const widgets::LayerStatsTable table = bridge.layerStats(QString::fromStdString(outcomes[0].uuid));
        const widgets::Histogram codes = table.codeHistogram(0, QStringLiteral("self_attn.q_proj"));
        QCOMPARE(codes.counts.size(), 4); // 2 bits
        double total = 0.0;
        for (double c : codes.counts)
            total += c;
        QCOMPARE(total, 64.0 * 64.0); // every weight of the 64 x 64 q_proj has one code
        QVERIFY(!table.offsetHistogram(0, QStringLiteral("self_attn.q_proj")).isEmpty());
        QVERIFY(!table.contains(QStringLiteral("quantized"), 0, QStringLiteral("self_attn.q_proj"),
                                QStringLiteral("code_count_0"))); // not a metric of its own
    }

    void browserListsFiltersAndSorts() {
        QTemporaryDir dir;
        gui::StoreBridge bridge(make_store(dir));
        widgets::RunBrowser browser;
        browser.setSource(bridge.browserSource());
        QCOMPARE(browser.visibleRunIds().size(), 4);
        QVERIFY(browser.columnTitles().contains("rilq.lora_r"));
        QVERIFY(browser.columnTitles().contains("best v_loss"));
        browser.setExperimentFilter("sweep");
        QCOMPARE(browser.visibleRunIds().size(), 3);
        browser.setExperimentFilter("");
        browser.setStatusFilter("FAILED");
        QCOMPARE(browser.visibleRunIds().size(), 1);
        browser.setStatusFilter("");
        browser.setTextFilter("lora_r=1");
        QCOMPARE(browser.visibleRunIds().size(), 1);
        browser.setTextFilter("");
        // Numeric sort: 0, 4, 8, 16 - not "16" before "4".
        browser.sortByColumn("rilq.lora_r", Qt::AscendingOrder);
        QStringList ranks;
        for (const QString& id : browser.visibleRunIds())
            for (const auto& run : browser.runs())
                if (run.uuid == id) ranks << run.params.value("rilq.lora_r");
        QCOMPARE(ranks, (QStringList{"0", "4", "8", "16"}));
        rilq::test::show_offscreen(&browser, QSize(1000, 600));
        QVERIFY(rilq::test::save_screenshot(&browser, "run_browser"));
    }

    // Task scores (rilq eval --record, core/eval/tasks) become accuracy columns in percent, from
    // the run's last stage that scored each task.
    void taskAccuracyColumns() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        {
            store::RunStore s(path.toStdString());
            store::NewRun run;
            run.experiment = "eval";
            run.name = "stories260K.bin";
            const std::string uuid = s.create_run(run);
            s.start_run(uuid);
            const double nan = std::numeric_limits<double>::quiet_NaN();
            store::TaskScore mmlu;
            mmlu.task = "mmlu";
            mmlu.stage = "fp";
            mmlu.n = 4;
            mmlu.acc = 0.25;
            mmlu.acc_norm = mmlu.acc_norm_stderr = nan;
            s.log_task_score(uuid, mmlu);
            mmlu.stage = "compensated";
            mmlu.acc = 0.5;
            s.log_task_score(uuid, mmlu);
            store::TaskScore arc;
            arc.task = "arc_easy";
            arc.stage = "fp";
            arc.n = 10;
            arc.acc = 0.3;
            arc.acc_norm = 0.4;
            s.log_task_score(uuid, arc);
            s.end_run(uuid, store::RunStatus::Finished);
        }
        gui::StoreBridge bridge(path);
        const auto rows = bridge.listRuns();
        QCOMPARE(rows.size(), 1);
        const auto& accuracy = rows[0].accuracy;
        QCOMPARE(accuracy.size(), 3);
        QCOMPARE(accuracy[0].first, QStringLiteral("MMLU")); // task_infos() order, its labels
        QCOMPARE(accuracy[0].second, 0.5);                   // the compensated stage, not fp
        QCOMPARE(accuracy[1].first, QStringLiteral("ARC-e"));
        QCOMPARE(accuracy[1].second, 0.3);
        QCOMPARE(accuracy[2].first, QStringLiteral("ARC-e acc_norm"));
        QCOMPARE(accuracy[2].second, 0.4);
        widgets::RunBrowser browser;
        browser.setSource(bridge.browserSource());
        const auto titles = browser.columnTitles();
        const int column = static_cast<int>(titles.indexOf(QStringLiteral("MMLU (%)")));
        QVERIFY2(column >= 0, qPrintable(titles.join(", ")));
        QCOMPARE(browser.tableView()->model()->index(0, column).data().toString(), QStringLiteral("50.00"));
        const int norm = static_cast<int>(titles.indexOf(QStringLiteral("ARC-e acc_norm (%)")));
        QVERIFY2(norm == column + 2, qPrintable(titles.join(", "))); // after MMLU and ARC-e
        QCOMPARE(browser.tableView()->model()->index(0, norm).data().toString(), QStringLiteral("40.00"));
        QVERIFY(rilq::test::show_offscreen(&browser, QSize(1100, 300)));
        QVERIFY(rilq::test::save_screenshot(&browser, "run_browser_accuracy"));
    }

    // Compare's accuracy plot: per scope, the export table's average column (rows rank, columns
    // scope), for the common-sense average and for MMLU; the Export tab offers core's metrics.
    void accuracyPlotIsTheExportTable() {
        QTemporaryDir dir;
        const QString path = make_task_store(dir);
        gui::StoreBridge bridge(path);
        const widgets::RankSweep sweep = bridge.accuracySweep(QStringLiteral("tasks"));
        QVERIFY(bridge.rankSweep(QStringLiteral("tasks")).points.isEmpty()); // no PPL: nothing, no error
        QCOMPARE(sweep.points.size(), 2 * 2 * 3); // (CSQA avg., MMLU) x scopes x ranks 0, 4, 16
        store::StoreOptions ro;
        ro.mode = store::Database::Mode::ReadOnly;
        store::RunStore s(path.toStdString(), ro);
        for (const auto& [metric, line] : {std::pair{"acc", "CSQA avg."}, std::pair{"mmlu", "MMLU"}}) {
            report::ExportRequest request; // rilq export --metric M --cols scope
            request.experiment = "tasks";
            request.metric = metric;
            request.cols = "scope";
            const auto table = report::pivot_from_store(s, request);
            QVERIFY(sweep.protocol.contains(QString::fromStdString(table.footer)));
            int matched = 0;
            for (const auto& p : sweep.points) {
                if (p.dataset != QLatin1String(line)) continue;
                const auto r =
                    std::find(table.row_keys.begin(), table.row_keys.end(), std::to_string(p.rank)) -
                    table.row_keys.begin();
                const auto c =
                    std::find(table.column_keys.begin(), table.column_keys.end(), p.scope.toStdString()) -
                    table.column_keys.begin();
                QCOMPARE(p.value, table.cells[size_t(r)][size_t(c)].mean);
                ++matched;
            }
            QCOMPARE(matched, 6);
        }
        // CSQA avg. of scope model, rank 16: (0.5 + 0.75) / 2 + 16 / 256 = 68.75 %.
        widgets::CompareView view;
        view.setAccuracySweep(sweep);
        QVERIFY(!view.accuracyPlot()->isHidden());
        QVERIFY(!view.accuracyPlot()->logY());
        const QCPGraph* model =
            view.accuracyPlot()->series(QStringLiteral("CSQA avg."), widgets::kScopeModel);
        QVERIFY(model);
        QCOMPARE(rilq::test::keys_of(model), (QVector<double>{4, 16}));
        QCOMPARE(rilq::test::values_of(model).back(), 68.75);
        QCOMPARE(view.accuracyPlot()->baseline(QStringLiteral("CSQA avg.")), 62.5); // rank 0
        view.setAccuracySweep({});
        QVERIFY(view.accuracyPlot()->isHidden());

        gui::ExportPanel panel;
        panel.setStorePath(path);
        QCOMPARE(panel.metricBox()->count(), int(report::export_metric_choices().size()));
        panel.setExperiments({QStringLiteral("tasks")});
        panel.metricBox()->setCurrentText(QStringLiteral("acc"));
        panel.update();
        // The swept scope became the columns (as `rilq run` prints a scope sweep): CSQA avg. cells.
        const auto& shown = panel.preview()->pivotTable();
        QCOMPARE(shown.title, QStringLiteral("CSQA avg. accuracy (%) · tasks · compensated"));
        QCOMPARE(shown.header, (QStringList{"LoRA rank", "scope=model", "scope=linear"}));
        QCOMPARE(shown.rows.value(2), (QStringList{"16", "68.75", "70.31"})); // 68.75 + 1.5625
    }

    void diffOnlyMatchesTheStore() {
        QTemporaryDir dir;
        const QString path = make_store(dir);
        gui::StoreBridge bridge(path);
        widgets::RunBrowser browser;
        browser.setSource(bridge.browserSource());
        browser.setExperimentFilter("sweep");
        const QStringList ids = browser.visibleRunIds();
        browser.selectRuns({ids[0], ids[1]});
        QCOMPARE(browser.selectedRunIds().size(), 2);
        const auto sel = browser.selectedRunIds();
        store::StoreOptions ro;
        ro.mode = store::Database::Mode::ReadOnly;
        store::RunStore s(path.toStdString(), ro);
        const auto expected = s.diff_params(sel[0].toStdString(), sel[1].toStdString());
        // The params that differ (the store's diff), then the results: PPL at each stage, best losses.
        const auto rows = browser.diffRows();
        QCOMPARE(rows.size(), int(expected.size()) + 5);
        for (size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(rows[int(i)][0], QString::fromStdString(expected[i].key));
        QCOMPARE(rows.front()[0], QString("rilq.lora_r"));
        QCOMPARE(rows[int(expected.size())][0], QString("PPL TinyStories · fp"));
        browser.setDiffOnly(false);
        QCOMPARE(browser.diffRows().size(), 3 + 5); // every setting of the two runs (labels are not settings)
    }

    void deleteAsksThenRemoves() {
        QTemporaryDir dir;
        const QString path = make_store(dir);
        gui::StoreBridge bridge(path);
        widgets::RunBrowser browser;
        browser.setSource(bridge.browserSource());
        browser.setStatusFilter("FAILED");
        browser.selectRuns(browser.visibleRunIds());
        browser.setConfirmer([](const QString&) { return false; });
        QVERIFY(!browser.deleteSelected());
        QCOMPARE(bridge.listRuns().size(), 4);
        QString asked;
        browser.setConfirmer([&](const QString& q) {
            asked = q;
            return true;
        });
        QSignalSpy deleted(&browser, &widgets::RunBrowser::runsDeleted);
        QVERIFY(browser.deleteSelected());
        QVERIFY(asked.contains("broken"));
        QCOMPARE(deleted.count(), 1);
        QCOMPARE(bridge.listRuns().size(), 3);
        QCOMPARE(browser.runs().size(), 3);
    }

    void storedRunsBecomeViews() {
        QTemporaryDir dir;
        gui::StoreBridge bridge(make_store(dir));
        QString uuid;
        for (const auto& run : bridge.listRuns())
            if (run.name == "lora_r=4") uuid = run.uuid;
        const auto batches = bridge.liveCurves(uuid);
        QCOMPARE(batches.size(), 2); // t_loss, v_loss
        for (const auto& b : batches)
            QCOMPARE(b.points.size(), 5);
        QCOMPARE(bridge.runCurve(uuid).curves.value("v_loss").size(), 5);
        const auto layers = bridge.layerStats(uuid);
        QVERIFY(std::abs(layers.value("compensated", 0, "q", "rel_error") - 0.1) < 1e-12);
        const auto sweep = bridge.rankSweep("sweep");
        QCOMPARE(sweep.points.size(), 3); // rank 0 (quantized), 4, 16 (compensated)
        QCOMPARE(sweep.fp_value.value("TinyStories"), 10.0);
    }

    void exportEqualsTheCli() {
        QTemporaryDir dir;
        const QString path = make_store(dir);
        gui::ExportChoice choice;
        choice.experiment = "sweep";
        report::ExportRequest request; // what `rilq export --experiment sweep` builds
        request.experiment = "sweep";
        store::StoreOptions ro;
        ro.mode = store::Database::Mode::ReadOnly;
        store::RunStore s(path.toStdString(), ro);
        const auto table = report::pivot_from_store(s, request);
        for (auto [gui_format, cli_format] :
             {std::pair{widgets::PivotFormat::Markdown, report::TableFormat::Markdown},
              std::pair{widgets::PivotFormat::Csv, report::TableFormat::Csv},
              std::pair{widgets::PivotFormat::Latex, report::TableFormat::Latex},
              std::pair{widgets::PivotFormat::Json, report::TableFormat::Json}})
            QCOMPARE(gui::export_text(path, choice, gui_format),
                     QString::fromStdString(report::write_table(table, cli_format)));
        const auto preview = gui::export_preview(path, choice);
        QCOMPARE(preview.rows.size(), 3);
        QCOMPARE(preview.header.value(1), QString("TinyStories"));
    }
};

RILQ_TEST_MAIN(TestGuiStore)
#include "test_gui_store.moc"
