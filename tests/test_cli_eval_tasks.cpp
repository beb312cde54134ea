// `rilq eval MODEL --task ...` run in-process on stories260K: the JSON result per task (acc from
// the reference predictions of tests/reference/tasks_reference.py, MMLU categories), the per-item
// log, --record (the same numbers and protocol read back from the run store), and bad input - one
// error line naming file and line, exit 1, no log file written, no run recorded.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/eval/tasks/task_record.h"
#include "core/store/run_store.h"
#include "tests/support/cli_capture.h"
#include "tests/support/task_fixture.h"

#include <cmath>
#include <filesystem>
#include <fstream>

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Run = rilq::test::CliRun;

Run eval(const QStringList& args) {
    return rilq::test::run_cli(rilq::cli::cmd_eval, QStringLiteral("rilq eval"), args);
}

QString shared(const char* relative) {
    return QString::fromStdString(rilq::test::shared_data(relative));
}
QString q(const std::string& s) {
    return QString::fromStdString(s);
}

} // namespace

class TestCliEvalTasks : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void jsonAndSampleLog() {
        const std::string log = rilq::test::make_temp_dir("cli-eval-tasks") + "/samples.jsonl";
        const Run r = eval(
            {shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
             QStringLiteral("arc_easy=") + shared("tasks/arc/ARC-Easy-Test.jsonl"), QStringLiteral("--task"),
             QStringLiteral("mmlu=") + shared("mmlu"), QStringLiteral("--subjects"),
             QStringLiteral("abstract_algebra,college_mathematics"), QStringLiteral("--limit"),
             QStringLiteral("10"), QStringLiteral("--json"), QStringLiteral("--log-samples"), q(log)});
        QVERIFY2(r.code == 0, r.err.c_str());
        const json j = json::parse(r.out);
        QVERIFY(j["perplexity"].empty());
        const json& arc = j["tasks"][0];
        QCOMPARE(arc["task"].get<std::string>(), std::string("arc_easy"));
        QCOMPARE(arc["n"].get<int64_t>(), int64_t{10});
        // acc and acc_norm of the first 10 docs, from the reference's predictions.
        const json ref = rilq::test::tasks_reference();
        double acc = 0, acc_norm = 0;
        for (size_t i = 0; i < 10; ++i) {
            const json& d = ref["multiple_choice_stories260K"]["arc_easy"]["docs"][i];
            acc += d["pred"] == d["gold"] ? 0.1 : 0.0;
            acc_norm += d["pred_norm"] == d["gold"] ? 0.1 : 0.0;
        }
        QVERIFY(std::abs(arc["acc"].get<double>() - acc) < 1e-9);
        QVERIFY(std::abs(arc["acc_norm"].get<double>() - acc_norm) < 1e-9);
        const json& mmlu = j["tasks"][1];
        QCOMPARE(mmlu["n"].get<int64_t>(), int64_t{20});
        QVERIFY(mmlu["acc_norm"].is_null());
        QCOMPARE(mmlu["categories"].size(), size_t{1}); // both subjects are math: STEM
        QCOMPARE(mmlu["categories"][0]["name"].get<std::string>(), std::string("STEM"));
        QCOMPARE(mmlu["protocol"]["shots"].get<int64_t>(), int64_t{5});
        QCOMPARE(mmlu["protocol"]["bos"].get<std::string>(), std::string("bos"));

        std::ifstream in(log);
        int lines = 0;
        for (std::string line; std::getline(in, line); ++lines) {
            const json s = json::parse(line);
            QVERIFY(s.contains("task") && s.contains("id") && s.contains("gold") && s.contains("pred"));
        }
        QCOMPARE(lines, 30);
    }

    void textSummaryAndOptions() {
        const Run r =
            eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                  QStringLiteral("piqa=") + shared("tasks/piqa"), QStringLiteral("--limit"),
                  QStringLiteral("4"), QStringLiteral("--bos"), QStringLiteral("--no-prefix-reuse")});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("piqa") != std::string::npos && r.out.find("acc_norm") != std::string::npos &&
                     r.out.find("BOS bos") != std::string::npos,
                 r.out.c_str());
    }

    void recordedInRunStore() {
        const std::string dir = rilq::test::make_temp_dir("cli-eval-record");
        const std::string db = dir + "/runs.db";
        const Run r = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                            QStringLiteral("mmlu=") + shared("mmlu"), QStringLiteral("--task"),
                            QStringLiteral("piqa=") + shared("tasks/piqa"), QStringLiteral("--subjects"),
                            QStringLiteral("abstract_algebra,marketing"), QStringLiteral("--limit"),
                            QStringLiteral("6"), QStringLiteral("--json"), QStringLiteral("--record"),
                            QStringLiteral("tasks-test"), QStringLiteral("--db"), q(db)});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.err.find("recorded as run") != std::string::npos, r.err.c_str());
        const json printed = json::parse(r.out)["tasks"];
        rilq::store::RunStore store(db);
        const auto runs = store.list_runs();
        QCOMPARE(runs.size(), size_t{1});
        const auto detail = store.get_run(runs[0].uuid);
        QCOMPARE(detail.summary.status, rilq::store::RunStatus::Finished);
        QCOMPARE(detail.summary.experiment, std::string("tasks-test"));
        QCOMPARE(detail.tags.at("kind"), std::string("eval"));
        QCOMPARE(store.params(runs[0].uuid).at("limit"), std::string("6"));
        // Stored by time, then task name: the order given here (mmlu, piqa) either way.
        QCOMPARE(detail.task_scores.size(), size_t{2});
        for (size_t i = 0; i < 2; ++i) {
            const auto& t = detail.task_scores[i];
            const json& p = printed[i];
            QCOMPARE(t.task, p["task"].get<std::string>());
            QCOMPARE(t.stage, std::string("fp"));
            QCOMPARE(t.n, p["n"].get<int64_t>());
            QCOMPARE(t.acc, p["acc"].get<double>());
            QCOMPARE(t.data_sha256, p["protocol"]["data_sha256"].get<std::string>());
            QCOMPARE(json::parse(t.protocol_json), p["protocol"]);
        }
        QVERIFY(std::isnan(detail.task_scores[0].acc_norm)); // MMLU has none
        QCOMPARE(detail.task_scores[1].acc_norm, printed[1]["acc_norm"].get<double>());
        // MMLU's groups: categories, then subcategories, then subjects, in the printed order.
        const auto& groups = detail.task_scores[0].groups;
        const json& m = printed[0];
        QCOMPARE(groups.size(), m["categories"].size() + m["subcategories"].size() + m["subjects"].size());
        QCOMPARE(groups[0].kind, std::string("category"));
        QCOMPARE(groups[0].name, m["categories"][0]["name"].get<std::string>());
        QCOMPARE(groups.back().kind, std::string("subject"));
        QCOMPARE(groups.back().name, std::string("marketing"));
        QCOMPARE(groups.back().acc, m["subjects"][1]["acc"].get<double>());

        // The run list's accuracy columns (the GUI's Runs table): task_infos() order, acc_norm where defined.
        const auto columns = rilq::task_score_columns(detail.task_scores);
        QCOMPARE(columns.size(), size_t{3});
        QCOMPARE(columns[0], std::make_pair(std::string("mmlu"), printed[0]["acc"].get<double>()));
        QCOMPARE(columns[1], std::make_pair(std::string("piqa"), printed[1]["acc"].get<double>()));
        QCOMPARE(columns[2],
                 std::make_pair(std::string("piqa acc_norm"), printed[1]["acc_norm"].get<double>()));

        // `rilq runs show` prints them (text: one row per task and MMLU's categories; JSON: all).
        const Run shown =
            rilq::test::run_cli(rilq::cli::cmd_runs, QStringLiteral("rilq runs"),
                                {QStringLiteral("show"), q(runs[0].uuid), QStringLiteral("--db"), q(db)});
        QVERIFY2(shown.code == 0, shown.err.c_str());
        QVERIFY2(rilq::test::mentions(shown.out, {"tasks", "piqa", "mmlu", "STEM"}), shown.out.c_str());
        const Run shown_json = rilq::test::run_cli(rilq::cli::cmd_runs, QStringLiteral("rilq runs"),
                                                   {QStringLiteral("show"), q(runs[0].uuid),
                                                    QStringLiteral("--json"), QStringLiteral("--db"), q(db)});
        const json stored = json::parse(shown_json.out)["task_results"];
        QCOMPARE(stored.size(), size_t{2});
        QCOMPARE(stored[0]["protocol"], printed[0]["protocol"]);
        QVERIFY(stored[0]["acc_norm"].is_null());

        // A bad stage or a failed evaluation records nothing.
        Run bad = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                        QStringLiteral("piqa=") + shared("tasks/piqa"), QStringLiteral("--limit"),
                        QStringLiteral("2"), QStringLiteral("--record"), QStringLiteral("tasks-test"),
                        QStringLiteral("--stage"), QStringLiteral("student"), QStringLiteral("--db"), q(db)});
        QCOMPARE(bad.code, 1);
        QVERIFY2(
            rilq::test::mentions(bad.err, {"--stage: the stage \"student\"", "fp, quantized or compensated"}),
            bad.err.c_str());
        bad = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                    q("piqa=" + dir + "/missing"), QStringLiteral("--record"), QStringLiteral("tasks-test"),
                    QStringLiteral("--db"), q(db)});
        QCOMPARE(bad.code, 1);
        QCOMPARE(store.list_runs().size(), size_t{1});
    }

    void badInputFailsBeforeAnyWork() {
        const std::string dir = rilq::test::make_temp_dir("cli-eval-bad");
        fs::create_directories(dir + "/mmlu/dev");
        fs::create_directories(dir + "/mmlu/test");
        rilq::test::write_file(dir + "/mmlu/dev/toy_dev.csv",
                               "q,a,b,c,d,A\nq,a,b,c,d,B\nq,a,b,c,d,C\nq,a,b,c,d,D\nq,a,b,c,d,A\n");
        rilq::test::write_file(dir + "/mmlu/test/toy_test.csv", "q,a,b,c,d,A\nq,a,b,c,d,F\n");
        const std::string log = dir + "/samples.jsonl";
        Run r = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                      QStringLiteral("arc_easy=") + shared("tasks/arc/ARC-Easy-Test.jsonl"),
                      QStringLiteral("--task"), q("mmlu=" + dir + "/mmlu"), QStringLiteral("--log-samples"),
                      q(log)});
        QCOMPARE(r.code, 1);
        QVERIFY2(
            rilq::test::mentions(r.err, {"rilq: error: ", dir + "/mmlu/test/toy_test.csv:2", "answer \"F\""}),
            r.err.c_str());
        QVERIFY(r.out.empty()); // arc_easy was not evaluated either
        QVERIFY(!fs::exists(log));

        rilq::test::write_file(dir + "/mmlu/test/toy_test.csv", "q,a,b,c,d,A\n");
        fs::remove(dir + "/mmlu/dev/toy_dev.csv");
        r = eval(
            {shared("stories260K/stories260K.bin"), QStringLiteral("--task"), q("mmlu=" + dir + "/mmlu")});
        QCOMPARE(r.code, 1);
        QVERIFY2(rilq::test::mentions(r.err, {dir + "/mmlu/dev/toy_dev.csv", "missing"}), r.err.c_str());

        r = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"),
                  QStringLiteral("piqa=") + shared("tasks/piqa"), QStringLiteral("--log-samples"),
                  q(dir + "/no/such/folder/x.jsonl")});
        QCOMPARE(r.code, 1);
        QVERIFY2(rilq::test::mentions(r.err, {"--log-samples", "does not exist"}), r.err.c_str());

        r = eval({shared("stories260K/stories260K.bin")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.find("--dataset or --task") != std::string::npos, r.err.c_str());
        r = eval({shared("stories260K/stories260K.bin"), QStringLiteral("--task"), QStringLiteral("arc=x")});
        QCOMPARE(r.code, 1);
        QVERIFY2(rilq::test::mentions(r.err, {"unknown task \"arc\"", "arc_easy"}), r.err.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestCliEvalTasks)
#include "test_cli_eval_tasks.moc"
