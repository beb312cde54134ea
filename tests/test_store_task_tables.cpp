// Downstream-task accuracy tables from the run store (core/report/task_metric.h): the common-sense
// tasks with their CSQA avg. (RILQ's figure), one task, MMLU's category table (IR-QLoRA's), the
// pivot rules they share with the PPL tables, and the Compare tab's accuracy-vs-rank points. Every
// score is k/64, so each percent (k * 25/16), seed mean and four-task average is exact in binary.
#include "tests/support/test_errors.h"
#include "tests/support/test_support.h"

#include "core/eval/tasks/mmlu_categories.h"
#include "core/eval/tasks/task.h"
#include "core/report/rank_sweep.h"
#include "core/report/store_pivot.h"
#include "core/report/table_writers.h"
#include "core/run/experiment_config.h"
#include "core/run/run_record.h"
#include "core/store/run_store.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

using namespace rilq::report;
using rilq::store::RunStatus;
using rilq::store::RunStore;

namespace {

// A rank sweep that scored tasks (edited per test: bits, scopes).
nlohmann::json task_sweep_doc() {
    return nlohmann::json::parse(R"({
        "name": "task-sweep",
        "seed": [1, 2],
        "datasets": {"c4": {"type": "c4", "path": "c4.jsonl"}, "wiki": {"type": "wikitext2", "path": "w.raw"}},
        "rilq": {"base_model": "m", "lora_r": [0, 16, 64]},
        "quant": {"method": "rtn"},
        "eval": {"datasets": ["wiki"]}
    })");
}

// numerator / 64 in percent, as the task tables show it: exact in binary for the numerators used.
double report_task_percent(double numerator) {
    return numerator * 25.0 / 16.0;
}

// The task sweep's export table of one metric.
PivotTable task_sweep_table(RunStore& store, const std::string& metric) {
    ExportRequest request;
    request.experiment = "task-sweep";
    request.metric = metric;
    return pivot_from_store(store, request);
}

// A task score of numerator / 64 (acc_norm two 64ths more where the task has one), with the
// protocol fields the export's protocol line reads.
rilq::store::TaskScore report_task_score(const std::string& task, const std::string& stage,
                                         double numerator) {
    const rilq::TaskInfo& info = rilq::task_info(task);
    const std::map<std::string, int64_t> items = {
        {"mmlu", 14042}, {"arc_easy", 2376}, {"arc_challenge", 1172}, {"piqa", 1838}, {"winogrande", 1267}};
    rilq::store::TaskScore s;
    s.task = task;
    s.stage = stage;
    s.n = items.at(task);
    s.shots = info.default_shots;
    s.bos = info.default_bos ? "bos" : "none";
    s.acc = numerator / 64.0;
    s.acc_stderr = 0.01;
    s.acc_norm = info.has_acc_norm ? (numerator + 2.0) / 64.0 : std::nan("");
    s.acc_norm_stderr = info.has_acc_norm ? 0.01 : std::nan("");
    return s;
}

// Every run scores fp (base + 10 + seed), quantized (base - 8 + seed) and, with a rank,
// compensated (base + rank / 16 + seed, one more for scope linear), in 64ths. Bases: ARC-e 40,
// ARC-c 20, PIQA 45, WinoGrande 30; MMLU category k 16 + 4k, all questions 21. The first rank-16
// point is recorded twice (the earlier run, 99/64, is superseded) and once more as a FAILED run.
void fill_task_store(RunStore& store, const nlohmann::json& doc) {
    const std::vector<std::pair<std::string, double>> bases = {
        {"arc_easy", 40}, {"arc_challenge", 20}, {"piqa", 45}, {"winogrande", 30}};
    const auto log_all = [&](const std::string& id, const std::string& stage, double offset) {
        for (const auto& [task, base] : bases)
            store.log_task_score(id, report_task_score(task, stage, base + offset));
        rilq::store::TaskScore mmlu = report_task_score("mmlu", stage, 21 + offset);
        int k = 0;
        for (const auto& [category, subcategories] : rilq::mmlu_categories())
            mmlu.groups.push_back({"category", category, 3000, (16.0 + 4.0 * k++ + offset) / 64.0});
        store.log_task_score(id, mmlu);
    };
    const auto experiment = rilq::run::parse_experiment(doc);
    bool superseded = false;
    for (const auto& config : experiment.runs) {
        const double seed = static_cast<double>(config.train.lora.seed);
        const int64_t rank = config.train.lora.r;
        if (rank == 16 && !superseded) {
            const std::string old = store.create_run(rilq::run::to_new_run(config));
            store.start_run(old);
            store.log_task_score(old, report_task_score("arc_easy", "compensated", 99));
            store.end_run(old, RunStatus::Finished);
            rilq::store::NewRun failed_run = rilq::run::to_new_run(config);
            failed_run.config_hash.clear(); // a point of its own, shown with include_unfinished
            const std::string failed = store.create_run(failed_run);
            store.start_run(failed);
            for (const auto& [task, base] : bases)
                store.log_task_score(failed, report_task_score(task, "compensated", 1));
            store.end_run(failed, RunStatus::Failed, "diverged");
            superseded = true;
        }
        const std::string id = store.create_run(rilq::run::to_new_run(config));
        store.start_run(id);
        log_all(id, "fp", 10 + seed);
        log_all(id, "quantized", -8 + seed);
        if (rank > 0)
            log_all(id, "compensated",
                    static_cast<double>(rank) / 16.0 + seed +
                        (config.train.scope == rilq::Scope::Linear ? 1 : 0));
        store.end_run(id, RunStatus::Finished);
    }
}

} // namespace

class TestStoreTaskTables : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // Task accuracy tables (task_metric.h) on known scores: every score is k/64, so each percent
    // (k * 25/16), each mean over two seeds and each average over four tasks is exact in binary.
    void task_accuracy_tables() {
        RunStore store(rilq::test::make_temp_dir("report-tasks") + "/runs.sqlite");
        fill_task_store(store, task_sweep_doc());
        ExportRequest request;
        request.experiment = "task-sweep";
        request.metric = "acc";
        const PivotTable t = pivot_from_store(store, request);
        QVERIFY(t.column_labels ==
                (std::vector<std::string>{"ARC-e", "ARC-c", "PIQA", "WinoGrande", "CSQA avg."}));
        QVERIFY(t.row_labels == (std::vector<std::string>{"0 (wo RILQ)", "16", "64"}));
        QVERIFY(!t.lower_is_better);
        // percent = 100 * (base + rank / 16 + seed) / 64, seeds 1 and 2; rank 0 = quantized, base - 8.
        QCOMPARE(t.cells[1][0].mean, report_task_percent(40 + 1 + 1.5)); // ARC-e, rank 16: 66.40625
        QCOMPARE(t.cells[1][0].n, 2);
        QCOMPARE(t.cells[2][2].mean, report_task_percent(45 + 4 + 1.5)); // PIQA, rank 64
        QCOMPARE(t.cells[0][1].mean, report_task_percent(20 - 8 + 1.5)); // ARC-c, rank 0: its quantized score
        QCOMPARE(t.cells[1][3].mean, report_task_percent(30 + 1 + 1.5)); // WinoGrande
        // CSQA avg.: bases 40 + 20 + 45 + 30 = 135, so the four-task mean is 33.75 + offset.
        QCOMPARE(t.cells[0][4].mean, report_task_percent(33.75 - 8 + 1.5));
        QCOMPARE(t.cells[1][4].mean, report_task_percent(33.75 + 1 + 1.5));
        QCOMPARE(t.cells[2][4].mean, report_task_percent(33.75 + 4 + 1.5));
        QCOMPARE(t.cells[2][4].std, report_task_percent(std::sqrt(0.5))); // seeds 1 and 2 differ by one 64th
        // The protocol line: which accuracy, stage and stand-in, each task's shots and n, BOS.
        for (const char* part :
             {"accuracy % (compensated; quantized where nothing was compensated)", "ARC-e 0-shot n=2376",
              "WinoGrande 0-shot n=1267", "BOS none", "RTN W2A16G64", "mean \xC2\xB1 std over up to 2 runs"})
            QVERIFY2(t.footer.find(part) != std::string::npos, t.footer.c_str());
        QVERIFY(t.footer.find("MMLU") == std::string::npos); // not part of the common-sense average
        // Best = highest: rank 64 wins every column.
        request.mark_best = true;
        const PivotTable best = pivot_from_store(store, request);
        for (size_t c = 0; c < best.column_keys.size(); ++c)
            QVERIFY(best.cells[2][c].best && !best.cells[0][c].best);

        // acc_norm: the norm where a task has one (+2/64), WinoGrande's acc where it has none.
        request.metric = "acc_norm";
        const PivotTable norm = pivot_from_store(store, request);
        QCOMPARE(norm.cells[1][0].mean, report_task_percent(40 + 2 + 1 + 1.5));
        QCOMPARE(norm.cells[1][3].mean, report_task_percent(30 + 1 + 1.5));
        QCOMPARE(norm.cells[1][4].mean, report_task_percent(33.75 + 1.5 + 1 + 1.5)); // (2 + 2 + 2 + 0) / 4
        QVERIFY(norm.footer.find("acc where a task has no acc_norm") != std::string::npos);

        // One task, one column, no average; a stage of its own.
        request.metric = "piqa.acc_norm";
        request.stage = "fp";
        const PivotTable piqa = pivot_from_store(store, request);
        QVERIFY(piqa.column_labels == std::vector<std::string>{"PIQA acc_norm"});
        QCOMPARE(piqa.cells[0][0].mean, report_task_percent(45 + 10 + 2 + 1.5)); // fp = base + 10
        QVERIFY(piqa.footer.find("acc_norm % (fp)") != std::string::npos);
        request.metric = "winogrande.acc_norm";
        QVERIFY_THROWS_EXCEPTION(rilq::Error, pivot_from_store(store, request));
        request.metric = "boolq"; // no run scored it
        request.stage = "compensated";
        QVERIFY_THROWS_EXCEPTION(NoValuesError, pivot_from_store(store, request));

        // A param as columns: each cell is the run's CSQA avg.
        ExportRequest by_seed;
        by_seed.experiment = "task-sweep";
        by_seed.metric = "acc";
        by_seed.cols = "seed";
        const PivotTable seeds = pivot_from_store(store, by_seed);
        QVERIFY(seeds.column_labels == (std::vector<std::string>{"seed=1", "seed=2"}));
        QCOMPARE(seeds.cells[1][1].mean, report_task_percent(33.75 + 1 + 2));
        by_seed.dataset = "arc_challenge";
        QCOMPARE(pivot_from_store(store, by_seed).cells[2][0].mean, report_task_percent(20 + 4 + 1));
    }

    // IR-QLoRA's MMLU table: the four categories of categories.py and, as Avg., the accuracy over
    // all questions (not the mean of the categories, which weighs them equally).
    void mmlu_category_table() {
        RunStore store(rilq::test::make_temp_dir("report-mmlu") + "/runs.sqlite");
        fill_task_store(store, task_sweep_doc());
        const PivotTable t = task_sweep_table(store, "mmlu");
        QVERIFY(t.column_labels ==
                (std::vector<std::string>{"STEM", "Humanities", "Social Sciences", "Other", "Avg."}));
        QVERIFY(t.column_is_average == (std::vector<bool>{false, false, false, false, true}));
        // category k (0..3) scores 16 + 4k + rank/16 + seed; overall 21 + rank/16 + seed.
        for (int k = 0; k < 4; ++k)
            QCOMPARE(t.cells[1][k].mean, report_task_percent(16 + 4 * k + 1 + 1.5));
        QCOMPARE(t.cells[1][4].mean, report_task_percent(21 + 1 + 1.5)); // the micro accuracy, not 22 + 2.5
        QCOMPARE(t.cells[0][4].mean, report_task_percent(21 - 8 + 1.5));
        QVERIFY2(t.footer.find("MMLU 5-shot n=14042") != std::string::npos, t.footer.c_str());
        QVERIFY2(t.footer.find("BOS bos") != std::string::npos, t.footer.c_str());
        const std::string md = write_markdown(t);
        QVERIFY2(
            md.find("| LoRA rank   | STEM         | Humanities   | Social Sciences | Other        | Avg.  "
                    "       |") != std::string::npos,
            md.c_str());
        // rank 16: 36.71875 ± 1.5625 / sqrt(2) (seeds one 64th apart), printed half-up
        QVERIFY2(md.find("| 16          | 28.91 \xC2\xB1 1.10 | 35.16 \xC2\xB1 1.10 | 41.41 \xC2\xB1 1.10    "
                         "| 47.66 \xC2\xB1 "
                         "1.10 | 36.72 \xC2\xB1 1.10 |") != std::string::npos,
                 md.c_str());
        // The overall accuracy alone, with a param as columns.
        ExportRequest by_seed;
        by_seed.experiment = "task-sweep";
        by_seed.metric = "mmlu";
        by_seed.cols = "seed";
        QCOMPARE(pivot_from_store(store, by_seed).cells[2][1].mean, report_task_percent(21 + 4 + 2));
        by_seed.dataset = "humanities";
        QCOMPARE(pivot_from_store(store, by_seed).cells[2][1].mean, report_task_percent(20 + 4 + 2));
    }

    // The rules of the PPL tables hold for accuracy: finished runs only, the latest run of a
    // point, and a cell never averages runs that differ in a setting.
    void task_tables_keep_the_pivot_rules() {
        RunStore store(rilq::test::make_temp_dir("report-task-rules") + "/runs.sqlite");
        nlohmann::json doc = task_sweep_doc();
        doc["quant"]["bits"] = nlohmann::json::array({2, 3});
        fill_task_store(store, doc);
        ExportRequest request;
        request.experiment = "task-sweep";
        request.metric = "arc_easy";
        rilq::test::expect_error([&] { pivot_from_store(store, request); },
                                 {"differ in quant.bits (2 vs 3)"});
        request.where = {parse_where("bits=2")};
        // fill_task_store's superseded (99/64) and failed (1/64) runs are not in the cell.
        QCOMPARE(pivot_from_store(store, request).cells[1][0].mean, report_task_percent(40 + 1 + 1.5));
        request.include_unfinished = true;
        QVERIFY(pivot_from_store(store, request).cells[1][0].n == 3);
    }

    // The Compare tab's accuracy lines are the export table's average column, scope by scope.
    void accuracy_rank_sweep_is_the_export_table() {
        RunStore store(rilq::test::make_temp_dir("report-task-sweep") + "/runs.sqlite");
        nlohmann::json doc = task_sweep_doc();
        doc["rilq"]["scope"] = nlohmann::json::array({"model", "linear"});
        fill_task_store(store, doc);
        for (const std::string metric : {"acc", "mmlu"}) {
            const RankSweep sweep = rank_sweep_from_store(store, "task-sweep", metric);
            QCOMPARE(sweep.metric, metric);
            ExportRequest request;
            request.experiment = "task-sweep";
            request.metric = metric;
            request.cols = "scope";
            const PivotTable table = pivot_from_store(store, request);
            QCOMPARE(sweep.protocol, table.footer);
            int averages = 0;
            for (const auto& p : sweep.points) {
                if (!p.average) continue;
                ++averages;
                const size_t r =
                    size_t(std::find(table.row_keys.begin(), table.row_keys.end(), std::to_string(p.rank)) -
                           table.row_keys.begin());
                const size_t c =
                    size_t(std::find(table.column_keys.begin(), table.column_keys.end(), p.scope) -
                           table.column_keys.begin());
                QVERIFY(r < table.row_keys.size() && c < table.column_keys.size());
                QCOMPARE(p.value, table.cells[r][c].mean);
                QCOMPARE(p.runs, table.cells[r][c].n);
            }
            QCOMPARE(averages, 6); // ranks 0, 16, 64 x scopes model, linear
        }
        const RankSweep acc = rank_sweep_from_store(store, "task-sweep", "acc");
        QCOMPARE(acc.metric_label, std::string("CSQA avg."));
        // linear scope scores one 64th more (task_sweep_value), the FP model base + 10.
        for (const auto& p : acc.points)
            if (p.average && p.rank == 16)
                QCOMPARE(p.value, report_task_percent(33.75 + 1 + 1.5 + (p.scope == "linear" ? 1 : 0)));
        QCOMPARE(acc.fp_value.at("CSQA avg."), report_task_percent(33.75 + 10 + 1.5));
    }
};

RILQ_TEST_APPLESS_MAIN(TestStoreTaskTables)
#include "test_store_task_tables.moc"
