// Pivot tables and their writers. Golden files in tests/data/report were written by an
// independent Python implementation (tests/reference/make_report_goldens.py, exact decimal
// rounding); the Markdown built from a store filled with the RILQ README's numbers must also
// equal the README's own table cell by cell (tests/data/report/rilq_readme_table.md).
#include "tests/support/test_errors.h"
#include "tests/support/test_support.h"

#include "core/eval/tasks/mmlu_categories.h"
#include "core/eval/tasks/task.h"
#include "core/report/number_format.h"
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
#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

using namespace rilq::report;
using rilq::store::RunStatus;
using rilq::store::RunStore;
namespace fs = std::filesystem;

namespace {

std::string report_golden(const std::string& name) {
    return rilq::test::read_file(rilq::test::test_data("report/" + name));
}

std::string shipped_experiment_file(const std::string& name) {
    return fs::path(rilq::test::test_data("../../experiments/" + name)).lexically_normal().string();
}

// Cells of the Markdown table rows in `text` ("|a | b|" -> {"a", "b"}), separator row skipped.
std::vector<std::vector<std::string>> markdown_cells(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const size_t start = line.find_first_not_of(' ');
        if (start == std::string::npos || line[start] != '|') continue;
        if (line.find("---") != std::string::npos) continue;
        std::vector<std::string> cells;
        std::string cell;
        for (size_t i = start + 1; i < line.size(); ++i) {
            if (line[i] != '|') {
                cell += line[i];
                continue;
            }
            const size_t a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
            cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
            cell.clear();
        }
        rows.push_back(cells);
    }
    return rows;
}

rilq::store::EvalResult ppl(const std::string& dataset, const std::string& stage, double value) {
    rilq::store::EvalResult r;
    r.dataset = dataset;
    r.stage = stage;
    r.file_sha256 = "0000";
    r.tokenizer = "llama2 sentencepiece";
    r.seqlen = 2048;
    r.n_windows = 140;
    r.n_tokens = 140 * 2048;
    r.ppl = value;
    return r;
}

// The README's rank sweep recorded the way the trainer will record it: rank 0 has only the
// quantized model's PPL; the others also have FP and compensated results.
void fill_readme_store(RunStore& store) {
    const auto sweep =
        rilq::run::parse_experiment_file(shipped_experiment_file("rilq-llama2-7b-rank-sweep.json"));
    const std::map<int, std::pair<double, double>> readme = {{0, {433.65, 474.32}},
                                                             {16, {10.23, 12.00}},
                                                             {32, {10.01, 11.84}},
                                                             {64, {10.05, 11.79}},
                                                             {128, {10.12, 11.87}}};
    for (const auto& config : sweep.runs) {
        const auto [wiki, c4] = readme.at(config.train.lora.r);
        if (config.train.lora.r == 64) {
            // An earlier attempt at the same point that also finished: the later run replaces it.
            const std::string old = store.create_run(rilq::run::to_new_run(config, sweep.document_json));
            store.start_run(old);
            store.log_eval_result(old, ppl("wikitext2", "compensated", 99.0));
            store.log_eval_result(old, ppl("c4_val", "compensated", 99.0));
            store.end_run(old, RunStatus::Finished);
        }
        const std::string id = store.create_run(rilq::run::to_new_run(config, sweep.document_json));
        store.start_run(id);
        store.log_eval_result(id, ppl("wikitext2", "fp", 5.47));
        store.log_eval_result(id, ppl("c4_val", "fp", 6.97));
        store.log_eval_result(id, ppl("wikitext2", "quantized", 433.65));
        store.log_eval_result(id, ppl("c4_val", "quantized", 474.32));
        if (config.train.lora.r > 0) {
            store.log_eval_result(id, ppl("wikitext2", "compensated", wiki));
            store.log_eval_result(id, ppl("c4_val", "compensated", c4));
        }
        store.end_run(id, RunStatus::Finished);
    }
    // A failed run does not make it into the table.
    const std::string failed = store.create_run(rilq::run::to_new_run(sweep.runs[1]));
    store.start_run(failed);
    store.log_eval_result(failed, ppl("wikitext2", "compensated", 1.0));
    store.end_run(failed, RunStatus::Failed, "diverged");
}

// The observations behind seeds_best.* (same numbers as the Python script).
PivotTable seeds_table() {
    std::vector<PivotObservation> obs;
    const auto add = [&](const std::string& row, const std::string& run, double tiny, double wiki) {
        obs.push_back({row, "tiny", run, tiny});
        if (!std::isnan(wiki)) obs.push_back({row, "wiki", run, wiki});
    };
    const double none = std::nan("");
    add("16", "r16-s1", 9.0, 19.0); // listed out of order: rows sort numerically
    add("16", "r16-s2", 9.4, 19.0);
    add("16", "r16-s3", 9.2, 19.0);
    add("0", "r0-s1", 120.0, 300.0);
    add("0", "r0-s2", 121.0, 310.0);
    add("0", "r0-s3", 119.0, 320.0);
    add("2", "r2-s1", 10.5, 23.25);
    add("4", "r4-s1", 9.1, 20.0);
    add("4", "r4-s2", 9.2, 21.0);
    add("4", "r4-s3", 9.3, 22.0);
    add("8", "r8-s1", 9.6, none);
    add("8", "r8-s2", 9.8, none);
    PivotOptions options;
    options.row_header = "LoRA rank";
    options.row_labels["0"] = "0 (wo RILQ)";
    options.columns = {"tiny", "wiki"};
    options.column_labels = {{"tiny", "TinyStories"}, {"wiki", "Wiki2"}};
    options.mark_best = true;
    options.footer =
        "Protocol: RTN W2A16G64 (omniquant); eval on tinystories_val.txt [0.5, 1); mean \xC2\xB1 std over "
        "up to 3 runs";
    return build_pivot(obs, options);
}

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

void compare_text(const std::string& actual, const std::string& expected, const char* what) {
    if (actual == expected) return;
    QFAIL(
        qPrintable(QStringLiteral("%1 differs from its golden file.\n--- actual ---\n%2--- expected ---\n%3")
                       .arg(what, QString::fromStdString(actual), QString::fromStdString(expected))));
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void fixed_rounding_is_decimal_half_up() {
        // The README's averages: exact halves that binary rounding of the nearest double gets wrong.
        QCOMPARE(format_fixed((433.65 + 474.32) / 2, 2), std::string("453.99"));
        QCOMPARE(format_fixed((10.23 + 12.00) / 2, 2), std::string("11.12"));
        QCOMPARE(format_fixed((10.01 + 11.84) / 2, 2), std::string("10.93"));
        QCOMPARE(format_fixed((10.12 + 11.87) / 2, 2), std::string("11.00"));
        QCOMPARE(format_fixed(2.675, 2), std::string("2.68"));
        QCOMPARE(format_fixed(1.005, 2), std::string("1.01"));
        QCOMPARE(format_fixed(-2.675, 2), std::string("-2.68"));
        QCOMPARE(format_fixed(-0.001, 2), std::string("0.00"));
        QCOMPARE(format_fixed(10.924999, 2), std::string("10.92"));
        QCOMPARE(format_fixed(7.0, 0), std::string("7"));
        QCOMPARE(format_fixed(std::nan(""), 2), std::string("nan"));
        QCOMPARE(shortest_number(433.65), std::string("433.65"));
        QCOMPARE(shortest_number(1e-4), std::string("0.0001"));
        QCOMPARE(shortest_number(120.0), std::string("120"));
        QCOMPARE(shortest_number(0.1 + 0.2), std::string("0.30000000000000004"));
        QCOMPARE(shortest_number(1e-7), std::string("1e-07"));
    }

    void seeds_and_best_marking_match_the_reference_goldens() {
        const PivotTable t = seeds_table();
        QVERIFY(t.row_keys == (std::vector<std::string>{"0", "2", "4", "8", "16"}));
        compare_text(write_markdown(t), report_golden("seeds_best.md"), "Markdown");
        compare_text(write_csv(t), report_golden("seeds_best.csv"), "CSV");
        compare_text(write_latex(t), report_golden("seeds_best.tex"), "LaTeX");
        compare_text(write_json(t), report_golden("seeds_best.json"), "JSON");
    }

    void readme_table_from_the_store() {
        RunStore store(rilq::test::make_temp_dir("report") + "/runs.sqlite");
        fill_readme_store(store);
        ExportRequest request;
        request.experiment = "rilq-llama2-7b-rank-sweep";
        const PivotTable t = pivot_from_store(store, request);
        compare_text(write_markdown(t), report_golden("rilq_rank_sweep.md"), "Markdown");
        compare_text(write_csv(t), report_golden("rilq_rank_sweep.csv"), "CSV");
        compare_text(write_latex(t), report_golden("rilq_rank_sweep.tex"), "LaTeX");
        compare_text(write_json(t), report_golden("rilq_rank_sweep.json"), "JSON");
        for (auto format : {TableFormat::Markdown, TableFormat::Csv, TableFormat::Latex, TableFormat::Json}) {
            QCOMPARE(write_table(t, format),
                     report_golden(std::string("rilq_rank_sweep.") + file_extension(format)));
        }

        // The README itself, cell by cell.
        const auto ours = markdown_cells(write_markdown(t));
        const auto readme = markdown_cells(report_golden("rilq_readme_table.md"));
        QCOMPARE(readme.size(), size_t(6));
        QCOMPARE(ours.size(), readme.size());
        for (size_t r = 0; r < readme.size(); ++r) {
            QCOMPARE(ours[r].size(), readme[r].size());
            for (size_t c = 0; c < readme[r].size(); ++c) {
                QVERIFY2(ours[r][c] == readme[r][c],
                         qPrintable(QStringLiteral("row %1 column %2: ours \"%3\", README \"%4\"")
                                        .arg(r)
                                        .arg(c)
                                        .arg(QString::fromStdString(ours[r][c]),
                                             QString::fromStdString(readme[r][c]))));
            }
        }
    }

    void other_stages_and_logged_metrics() {
        RunStore store(rilq::test::make_temp_dir("report-stage") + "/runs.sqlite");
        fill_readme_store(store);
        ExportRequest request;
        request.experiment = "rilq-llama2-7b-rank-sweep";
        request.stage = "fp";
        const PivotTable fp = pivot_from_store(store, request);
        QCOMPARE(fp.cells[2][0].mean, 5.47);
        QVERIFY(fp.footer.find("PPL (fp) at seqlen 2048") != std::string::npos);
        request.stage = "quantized";
        request.mark_best = true;
        const PivotTable q = pivot_from_store(store, request);
        QCOMPARE(q.cells[4][1].mean, 474.32);
        QVERIFY(q.cells[0][0].best && q.cells[4][0].best); // every rank ties

        // A logged metric's minimum, one column.
        for (const auto& run : store.list_runs({request.experiment, RunStatus::Finished, "", false, 0})) {
            store.log_metrics(run.uuid, 25, {{"v_loss", 1.0 + run.name.size()}});
            store.log_metrics(run.uuid, 50, {{"v_loss", 0.5 + run.name.size()}});
        }
        ExportRequest loss;
        loss.experiment = request.experiment;
        loss.metric = "v_loss";
        const PivotTable l = pivot_from_store(store, loss);
        QVERIFY(l.column_labels == std::vector<std::string>{"v_loss"});
        QCOMPARE(l.cells[0][0].mean, 0.5 + std::string("lora_r=0").size());
        QCOMPARE(l.cells[4][0].mean, 0.5 + std::string("lora_r=128").size());
        loss.metric_stat = "max";
        QCOMPARE(pivot_from_store(store, loss).cells[4][0].mean, 1.0 + std::string("lora_r=128").size());
        loss.metric_stat = "median";
        QVERIFY_THROWS_EXCEPTION(rilq::Error, pivot_from_store(store, loss));
    }

    void a_cell_never_mixes_settings() {
        // Ranks x bits x two seeds: rows by rank alone would average 2-bit and 3-bit runs.
        nlohmann::json doc = nlohmann::json::parse(R"({
            "name": "bits-sweep",
            "seed": [1, 2],
            "datasets": {"c4": {"type": "c4", "path": "c4.jsonl"}, "wiki": {"type": "wikitext2", "path": "w.raw"}},
            "rilq": {"base_model": "m", "lora_r": [0, 16]},
            "quant": {"method": "rtn", "bits": [2, 3]},
            "eval": {"datasets": ["wiki"]}
        })");
        const auto experiment = rilq::run::parse_experiment(doc);
        RunStore store(rilq::test::make_temp_dir("report-mix") + "/runs.sqlite");
        for (const auto& config : experiment.runs) {
            const std::string id = store.create_run(rilq::run::to_new_run(config));
            store.start_run(id);
            // ppl = 10 * bits-penalty + rank bonus + seed noise, all exact in binary.
            const double value = (config.quant.bits == 2 ? 40.0 : 20.0) -
                                 static_cast<double>(config.train.lora.r) / 8.0 +
                                 static_cast<double>(config.train.lora.seed) * 0.25;
            store.log_eval_result(id, ppl("wiki", config.train.lora.r ? "compensated" : "quantized", value));
            store.end_run(id, RunStatus::Finished);
        }
        ExportRequest request;
        request.experiment = "bits-sweep";
        try {
            pivot_from_store(store, request);
            QFAIL("runs with different bits were averaged");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("differ in quant.bits (2 vs 3)") != std::string::npos,
                     e.what());
        }
        request.where = {parse_where("bits=3")};
        const PivotTable three = pivot_from_store(store, request);
        QCOMPARE(three.cells[0][0].mean, 20.375); // 20 + (0.25 + 0.5) / 2
        QCOMPARE(three.cells[0][0].n, 2);
        QCOMPARE(three.cells[1][0].mean, 18.375); // 20 - 2 + 0.375
        QVERIFY(three.footer.find("RTN W3A16G64") != std::string::npos);
        QVERIFY(three.footer.find("mean \xC2\xB1 std over up to 2 runs") != std::string::npos);

        request.where.clear();
        request.cols = "bits";
        const PivotTable grid = pivot_from_store(store, request);
        QVERIFY(grid.column_labels == (std::vector<std::string>{"bits=2", "bits=3"}));
        QCOMPARE(grid.cells[1][0].mean, 38.375);
        QCOMPARE(grid.cells[1][1].mean, 18.375);
        QVERIFY(grid.footer.find("RTN W2A16G64 (omniquant)/RTN W3A16G64 (omniquant)") != std::string::npos);

        QVERIFY_THROWS_EXCEPTION(rilq::Error, parse_where("bits"));
        request.rows = "lora_rr";
        try {
            pivot_from_store(store, request);
            QFAIL("unknown param accepted");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("did you mean \"rilq.lora_r\"") != std::string::npos,
                     e.what());
        }
        request.experiment = "bits-swep";
        try {
            pivot_from_store(store, request);
            QFAIL("unknown experiment accepted");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("did you mean \"bits-sweep\"") != std::string::npos,
                     e.what());
        }
    }

    // The Compare tab's figure: the same runs, stage rule and seed averaging as the export tables.
    void rank_sweep_is_the_export_tables() {
        nlohmann::json doc = nlohmann::json::parse(R"({
            "name": "scope-sweep",
            "seed": [1, 2],
            "datasets": {"c4": {"type": "c4", "path": "c4.jsonl"},
                         "wiki": {"type": "wikitext2", "path": "w.raw", "label": "Wiki2"}},
            "rilq": {"base_model": "m", "lora_r": [0, 16], "scope": ["model", "linear"]},
            "quant": {"method": "rtn"},
            "eval": {"datasets": ["wiki", "c4"]}
        })");
        const auto experiment = rilq::run::parse_experiment(doc);
        RunStore store(rilq::test::make_temp_dir("report-rank-sweep") + "/runs.sqlite");
        // PPL = base - rank / 8 (+ 1 for scope linear) + seed / 4, exact in binary; c4 is wiki + 2.
        const auto value = [](const rilq::run::RunConfig& c, double base) {
            return base - static_cast<double>(c.train.lora.r) / 8.0 +
                   (c.train.scope == rilq::Scope::Linear ? 1.0 : 0.0) +
                   static_cast<double>(c.train.lora.seed) / 4.0;
        };
        bool first = true;
        for (const auto& config : experiment.runs) {
            if (first) { // an earlier record of the same point: replaced by the later one
                const std::string old = store.create_run(rilq::run::to_new_run(config));
                store.start_run(old);
                store.log_eval_result(old, ppl("wiki", "quantized", 999.0));
                store.end_run(old, RunStatus::Finished);
                first = false;
            }
            const std::string id = store.create_run(rilq::run::to_new_run(config));
            store.start_run(id);
            store.log_eval_result(id, ppl("wiki", "fp", 5.5));
            store.log_eval_result(id, ppl("c4", "fp", 7.5));
            const std::string stage = config.train.lora.r ? "compensated" : "quantized";
            store.log_eval_result(
                id, ppl("wiki", "quantized", 40.0 + static_cast<double>(config.train.lora.seed) / 4.0));
            store.log_eval_result(
                id, ppl("c4", "quantized", 42.0 + static_cast<double>(config.train.lora.seed) / 4.0));
            if (config.train.lora.r) {
                store.log_eval_result(id, ppl("wiki", stage, value(config, 20.0)));
                store.log_eval_result(id, ppl("c4", stage, value(config, 22.0)));
            }
            store.end_run(id, RunStatus::Finished);
        }
        const RankSweep sweep = rank_sweep_from_store(store, "scope-sweep");
        QCOMPARE(sweep.points.size(), size_t{12}); // (2 datasets + Avg.) x 2 scopes x ranks 0, 16
        QCOMPARE(
            std::count_if(sweep.points.begin(), sweep.points.end(), [](const auto& p) { return p.average; }),
            4);
        std::map<std::tuple<std::string, std::string, int64_t>, RankSweepPoint> by_cell;
        for (const auto& p : sweep.points)
            QVERIFY(by_cell.emplace(std::make_tuple(p.dataset, p.scope, p.rank), p).second); // one per cell
        QCOMPARE(by_cell.at({"Wiki2", "model", 0}).value, 40.375); // the quantized model, seeds 1 and 2
        QCOMPARE(by_cell.at({"Wiki2", "model", 0}).runs, 2);
        QCOMPARE(by_cell.at({"Wiki2", "model", 16}).value, 18.375); // 20 - 2 + 0.375
        QCOMPARE(by_cell.at({"Wiki2", "linear", 16}).value, 19.375);
        QCOMPARE(by_cell.at({"c4", "linear", 16}).value, 21.375);
        QCOMPARE(sweep.fp_value.at("Wiki2"), 5.5);
        QCOMPARE(sweep.fp_value.at("c4"), 7.5);
        // Every point is the export table's cell for that dataset, rank and scope.
        ExportRequest request;
        request.experiment = "scope-sweep";
        request.cols = "scope";
        request.dataset = "wiki";
        const PivotTable wiki = pivot_from_store(store, request);
        QCOMPARE(sweep.protocol, wiki.footer);
        for (size_t r = 0; r < wiki.row_keys.size(); ++r)
            for (size_t c = 0; c < wiki.column_keys.size(); ++c)
                QCOMPARE(by_cell.at({"Wiki2", wiki.column_keys[c], std::stoll(wiki.row_keys[r])}).value,
                         wiki.cells[r][c].mean);
    }

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
        const auto md = markdown_cells(write_markdown(t));
        QVERIFY(md.at(0) == (std::vector<std::string>{"LoRA rank", "STEM", "Humanities", "Social Sciences",
                                                      "Other", "Avg."}));
        // rank 16: 36.71875 ± 1.5625 / sqrt(2) (seeds one 64th apart), printed half-up
        QCOMPARE(md.at(2).back(), std::string("36.72 \xC2\xB1 1.10"));
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

    void duplicate_values_and_formats() {
        QVERIFY_THROWS_EXCEPTION(rilq::Error,
                                 build_pivot({{"1", "c", "run", 1.0}, {"1", "c", "run", 2.0}}, {}));
        QCOMPARE(parse_table_format("md"), TableFormat::Markdown);
        QCOMPARE(parse_table_format("tex"), TableFormat::Latex);
        QVERIFY_THROWS_EXCEPTION(rilq::Error, parse_table_format("xlsx"));
        // Non-numeric rows keep their order of appearance; LaTeX escapes labels.
        PivotOptions options;
        options.row_header = "scope_name";
        options.average_column = false;
        const PivotTable t = build_pivot({{"model", "c4", "a", 1.0}, {"linear", "c4", "b", 2.0}}, options);
        QVERIFY(t.row_keys == (std::vector<std::string>{"model", "linear"}));
        QVERIFY(write_latex(t).find("scope\\_name & c4 \\\\") != std::string::npos);
    }
};

RILQ_TEST_APPLESS_MAIN(TestReport)
#include "test_report.moc"
