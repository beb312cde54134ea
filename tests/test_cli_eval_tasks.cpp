// `rilq eval MODEL --task ...` run in-process on stories260K: the JSON result per task (acc from
// the reference predictions of tests/reference/tasks_reference.py, MMLU categories), the per-item
// log, and bad input - one error line naming file and line, exit 1, no log file written.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "tests/support/task_fixture.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

Run eval(const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.code = rilq::cli::cmd_eval(QStringList{QStringLiteral("rilq eval")} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
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
