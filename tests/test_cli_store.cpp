// The store's CLI commands (`rilq runs ...`, `rilq export`, `rilq bench store`) run in-process
// against a store filled with the RILQ README's numbers; their sources are compiled into this
// test (tests/CMakeLists.txt), so they are tested before the whole `rilq` links.
#include "tests/support/test_support.h"

#include "app/cli/commands.h"
#include "core/run/experiment_config.h"
#include "core/run/run_record.h"
#include "core/store/run_store.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

using rilq::store::RunStatus;
using rilq::store::RunStore;
namespace fs = std::filesystem;

namespace {

struct Result {
    int code = 0;
    std::string out, err;
};

// Runs one command with its stdout/stderr captured and `input` on stdin.
Result run(int (*command)(const QStringList&), const QStringList& args, const std::string& input = "") {
    std::ostringstream out, err;
    std::istringstream in(input);
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    auto* old_in = std::cin.rdbuf(in.rdbuf());
    Result r;
    r.code = command(args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    std::cin.rdbuf(old_in);
    r.out = out.str();
    r.err = err.str();
    return r;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string golden(const std::string& name) {
    return rilq::test::read_file(rilq::test::test_data("report/" + name));
}

QStringList q(std::initializer_list<const char*> items) {
    QStringList list;
    for (const char* s : items)
        list << QString::fromUtf8(s);
    return list;
}

} // namespace

class TestCliStore : public QObject {
    Q_OBJECT
    std::string db_;
    QString db_arg_;

  private Q_SLOTS:
    void initTestCase() {
        db_ = rilq::test::make_temp_dir("cli") + "/runs.sqlite";
        db_arg_ = QString::fromStdString(db_);
        const auto sweep = rilq::run::parse_experiment_file(
            fs::path(rilq::test::test_data("../../experiments/rilq-llama2-7b-rank-sweep.json"))
                .lexically_normal()
                .string());
        const std::map<int, std::pair<double, double>> readme = {{0, {433.65, 474.32}},
                                                                 {16, {10.23, 12.00}},
                                                                 {32, {10.01, 11.84}},
                                                                 {64, {10.05, 11.79}},
                                                                 {128, {10.12, 11.87}}};
        RunStore store(db_);
        for (const auto& config : sweep.runs) {
            const std::string id = store.create_run(rilq::run::to_new_run(config, sweep.document_json));
            store.start_run(id);
            const auto [wiki, c4] = readme.at(config.train.lora.r);
            const std::string stage = config.train.lora.r ? "compensated" : "quantized";
            store.log_eval_result(
                id, {"wikitext2", stage, "sha-wiki", "llama2 sentencepiece", 2048, 140, 286720, wiki, 0});
            store.log_eval_result(
                id, {"c4_val", stage, "sha-c4", "llama2 sentencepiece", 2048, 256, 524288, c4, 0});
            store.log_metrics(id, 25, {{"v_loss", 2.0}, {"t_a_loss", 0.7}});
            store.log_metrics(id, 50, {{"v_loss", 1.5}, {"t_a_loss", 0.5}});
            store.end_run(id, RunStatus::Finished);
        }
        const std::string failed = store.create_run({"scratch", "", "diverged", "{}", "h", {}, {}});
        store.start_run(failed);
        store.end_run(failed, RunStatus::Failed, "loss became NaN");
    }

    void export_every_format_equals_the_goldens() {
        const QStringList base = q({"rilq export", "--experiment", "rilq-llama2-7b-rank-sweep", "--db"})
                                 << db_arg_;
        Result md = run(rilq::cli::cmd_export, base);
        QCOMPARE(md.code, 0);
        QCOMPARE(md.out, golden("rilq_rank_sweep.md"));
        Result csv = run(rilq::cli::cmd_export, QStringList(base)
                                                    << QStringLiteral("--format") << QStringLiteral("csv"));
        QCOMPARE(csv.out, golden("rilq_rank_sweep.csv"));
        Result json = run(rilq::cli::cmd_export, QStringList(base)
                                                     << QStringLiteral("--format") << QStringLiteral("json"));
        QCOMPARE(json.out, golden("rilq_rank_sweep.json"));
        const std::string out_file = rilq::test::make_temp_dir("cli-out") + "/table.tex";
        Result tex = run(rilq::cli::cmd_export,
                         QStringList(base) << QStringLiteral("--format") << QStringLiteral("latex")
                                           << QStringLiteral("--out") << QString::fromStdString(out_file));
        QCOMPARE(tex.code, 0);
        QVERIFY(tex.out.empty());
        QCOMPARE(rilq::test::read_file(out_file), golden("rilq_rank_sweep.tex"));
        // Through the environment variable instead of --db.
        setenv("RILQ_DB", db_.c_str(), 1);
        Result env =
            run(rilq::cli::cmd_export, q({"rilq export", "--experiment", "rilq-llama2-7b-rank-sweep"}));
        unsetenv("RILQ_DB");
        QCOMPARE(env.out, golden("rilq_rank_sweep.md"));
    }

    void export_errors() {
        Result missing = run(rilq::cli::cmd_export, q({"rilq export", "--db"}) << db_arg_);
        QCOMPARE(missing.code, 2);
        QVERIFY(has(missing.err, "--experiment E is required"));
        Result typo = run(rilq::cli::cmd_export,
                          q({"rilq export", "--experiment", "rilq-llama2-7b-rank-swep", "--db"}) << db_arg_);
        QCOMPARE(typo.code, 1);
        QVERIFY2(has(typo.err, "did you mean \"rilq-llama2-7b-rank-sweep\""), typo.err.c_str());
        Result format =
            run(rilq::cli::cmd_export,
                q({"rilq export", "--experiment", "rilq-llama2-7b-rank-sweep", "--format", "xls", "--db"})
                    << db_arg_);
        QCOMPARE(format.code, 1);
        QVERIFY(has(format.err, "unknown table format \"xls\""));
        Result loss =
            run(rilq::cli::cmd_export,
                q({"rilq export", "--experiment", "rilq-llama2-7b-rank-sweep", "--metric", "v_loss", "--db"})
                    << db_arg_);
        QCOMPARE(loss.code, 0);
        QVERIFY2(has(loss.out, "| 0 (wo RILQ) | 1.50   |"), loss.out.c_str());
    }

    void runs_list_and_filters() {
        Result all = run(rilq::cli::cmd_runs, q({"rilq runs", "list", "--db"}) << db_arg_);
        QCOMPARE(all.code, 0);
        QVERIFY2(has(all.out, "BEST v_loss"), all.out.c_str());
        for (const char* name :
             {"lora_r=0 ", "lora_r=16 ", "lora_r=32 ", "lora_r=64 ", "lora_r=128 ", "diverged "})
            QVERIFY2(has(all.out, name), name);
        QVERIFY(has(all.out, "1.5 @50"));
        Result failed =
            run(rilq::cli::cmd_runs, q({"rilq runs", "list", "--status", "failed", "--db"}) << db_arg_);
        QCOMPARE(failed.code, 0);
        QVERIFY(has(failed.out, "diverged") && !has(failed.out, "lora_r=16"));
        Result none =
            run(rilq::cli::cmd_runs, q({"rilq runs", "list", "--experiment", "nothing", "--db"}) << db_arg_);
        QVERIFY(has(none.out, "no runs in experiment nothing"));
        Result bad =
            run(rilq::cli::cmd_runs, q({"rilq runs", "list", "--status", "DONE", "--db"}) << db_arg_);
        QCOMPARE(bad.code, 1);
        QVERIFY(has(bad.err, "unknown run status \"DONE\""));
        QCOMPARE(run(rilq::cli::cmd_runs, q({"rilq runs", "frobnicate"})).code, 2);
        QCOMPARE(run(rilq::cli::cmd_runs, q({"rilq runs"})).code, 2);
    }

    void runs_show_text_and_json() {
        Result text = run(rilq::cli::cmd_runs, q({"rilq runs", "show", "lora_r=16", "--db"}) << db_arg_);
        QCOMPARE(text.code, 0);
        QVERIFY2(has(text.out, "status      FINISHED"), text.out.c_str());
        QVERIFY(has(text.out, "rilq.approx_lr"));
        QVERIFY(has(text.out, "wikitext2"));
        QVERIFY(has(text.out, "10.23"));
        QVERIFY(has(text.out, "compensated"));
        Result json =
            run(rilq::cli::cmd_runs,
                q({"rilq runs", "show", "--json", "rilq-llama2-7b-rank-sweep/lora_r=32", "--db"}) << db_arg_);
        QCOMPARE(json.code, 0);
        const auto doc = nlohmann::json::parse(json.out);
        QCOMPARE(doc.at("name").get<std::string>(), std::string("lora_r=32"));
        QCOMPARE(doc.at("params").at("rilq.lora_r").get<std::string>(), std::string("32"));
        QCOMPARE(doc.at("config").at("rilq").at("lora_r").get<int>(), 32);
        QCOMPARE(doc.at("metrics").at("v_loss").at("min").get<double>(), 1.5);
        QCOMPARE(doc.at("eval_results").size(), size_t(2));
        // The id prefix printed by `list` finds the run too.
        const std::string prefix = doc.at("id").get<std::string>().substr(0, 12);
        Result by_id =
            run(rilq::cli::cmd_runs, q({"rilq runs", "show"}) << QString::fromStdString(prefix)
                                                              << QStringLiteral("--db") << db_arg_);
        QVERIFY(has(by_id.out, "lora_r=32"));
        Result unknown = run(rilq::cli::cmd_runs, q({"rilq runs", "show", "lora_r=7", "--db"}) << db_arg_);
        QCOMPARE(unknown.code, 1);
        QVERIFY(has(unknown.err, "no run matches \"lora_r=7\""));
    }

    void runs_diff_shows_only_differences() {
        Result diff =
            run(rilq::cli::cmd_runs, q({"rilq runs", "diff", "lora_r=16", "lora_r=32", "--db"}) << db_arg_);
        QCOMPARE(diff.code, 0);
        std::istringstream lines(diff.out);
        std::string line;
        std::vector<std::string> params;
        while (std::getline(lines, line)) {
            if (line.rfind("rilq.", 0) == 0) params.push_back(line);
        }
        QCOMPARE(params.size(), size_t(2));
        QVERIFY2(has(params[0], "rilq.lora_r") && has(params[0], "16") && has(params[0], "32"),
                 params[0].c_str());
        QVERIFY(has(params[1], "rilq.output_dir"));
    }

    void runs_delete_asks_first() {
        const auto count = [&] { return RunStore(db_).list_runs().size(); };
        const size_t before = count();
        Result no =
            run(rilq::cli::cmd_runs, q({"rilq runs", "delete", "diverged", "--db"}) << db_arg_, "n\n");
        QCOMPARE(no.code, 1);
        QVERIFY(has(no.out, "about to delete 1 run(s)"));
        QVERIFY(has(no.out, "nothing deleted"));
        QCOMPARE(count(), before);
        Result silent =
            run(rilq::cli::cmd_runs, q({"rilq runs", "delete", "diverged", "--db"}) << db_arg_, "");
        QCOMPARE(silent.code, 1); // no answer (no terminal) is no
        QCOMPARE(count(), before);
        Result yes =
            run(rilq::cli::cmd_runs, q({"rilq runs", "delete", "diverged", "--db"}) << db_arg_, "y\n");
        QCOMPARE(yes.code, 0);
        QVERIFY(has(yes.out, "deleted 1 run(s)"));
        QCOMPARE(count(), before - 1);
        QCOMPARE(run(rilq::cli::cmd_runs, q({"rilq runs", "delete", "--db"}) << db_arg_).code, 2);
    }

    void bench_store_prints_its_figures() {
        Result bench = run(rilq::cli::run_bench_store,
                           q({"rilq bench store", "--runs", "2", "--metrics", "3", "--steps", "50"}));
        QCOMPARE(bench.code, 0);
        QVERIFY2(has(bench.out, "run store: 300 metric points (2 runs x 50 steps x 3 metrics)"),
                 bench.out.c_str());
        QVERIFY(has(bench.out, "insert, batched (log_metric, 1 commits)"));
        QVERIFY(has(bench.out, "insert, one commit per step (log_metrics, 100)"));
        QVERIFY(has(bench.out, "curve read (one run, one metric, 50 points)"));
        QVERIFY(has(bench.out, "run read (one run, all 3 metrics, 150 points)"));
        QVERIFY(has(bench.out, "list runs (2 runs"));
        Result quick =
            run(rilq::cli::run_bench_store, q({"rilq bench store", "--batched-only", "--steps", "10"}));
        QVERIFY(!has(quick.out, "one commit per step"));
        QCOMPARE(run(rilq::cli::run_bench_store, q({"rilq bench store", "--steps", "0"})).code, 1);
    }

    void cleanupTestCase() {
        // Last: deleting a whole experiment.
        Result all =
            run(rilq::cli::cmd_runs,
                q({"rilq runs", "delete", "--experiment", "rilq-llama2-7b-rank-sweep", "--yes", "--db"})
                    << db_arg_);
        QCOMPARE(all.code, 0);
        QVERIFY(has(all.out, "deleted 5 run(s)"));
        rilq::store::RunFilter sweep;
        sweep.experiment = "rilq-llama2-7b-rank-sweep";
        QCOMPARE(RunStore(db_).list_runs(sweep).size(), size_t(0));
    }
};

RILQ_TEST_GUILESS_MAIN(TestCliStore)
#include "test_cli_store.moc"
