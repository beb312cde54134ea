// Pivot tables and their writers. Golden files in tests/data/report were written by an
// independent Python implementation (tests/reference/make_report_goldens.py, exact decimal
// rounding); the Markdown built from a store filled with the RILQ README's numbers must also
// equal the README's own table cell by cell (tests/data/report/rilq_readme_table.md).
#include "tests/support/test_support.h"

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

        // Columns from two params: one per combination (in run order), nothing averaged.
        request.cols = "bits,seed";
        const PivotTable pairs = pivot_from_store(store, request);
        QVERIFY(pairs.column_labels == (std::vector<std::string>{"2 / 1", "3 / 1", "2 / 2", "3 / 2"}));
        QCOMPARE(pairs.cells[1][2].mean, 38.5); // rank 16, bits 2, seed 2: 40 - 2 + 0.5
        QCOMPARE(pairs.cells[1][2].n, 1);
        QVERIFY(!pairs.has_spread());
        QVERIFY(pairs.footer.find("; columns: bits / seed") != std::string::npos);
        request.cols = "bits,";
        QVERIFY_THROWS_EXCEPTION(rilq::Error, pivot_from_store(store, request));
        request.cols = "bits";

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
