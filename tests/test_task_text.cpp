// The text layer of task evaluation, against tests/reference/tasks_reference.py (pandas 1.5.3 with
// pandas 2.x's NA strings, CPython's str methods): CSV cells exactly as pandas prints them, Python's
// float repr / strip / capitalize / len, hellaswag's preprocessing, and the one-line errors a bad
// CSV or JSON Lines file produces (file and line named).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/pandas_csv.h"
#include "core/eval/tasks/python_text.h"
#include "core/eval/tasks/task_files.h"
#include "tests/support/task_fixture.h"

#include <limits>

using namespace rilq;
using test::error_of;
using test::mentions;

class TestTaskText : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void csvCellsAsPandasPrintsThem() {
        const auto expected =
            nlohmann::json::parse(test::read_file(test::test_data("tasks/pandas_cells.json")));
        const CsvTable table = read_csv_like_pandas(test::test_data("tasks/pandas_cells.csv"), 9);
        QCOMPARE(table.rows.size(), expected["rows"].size());
        for (size_t r = 0; r < table.rows.size(); ++r)
            for (size_t c = 0; c < 9; ++c)
                QVERIFY2(table.rows[r][c] == expected["rows"][r][c].get<std::string>(),
                         ("row " + std::to_string(r) + " col " + std::to_string(c) + ": got \"" +
                          table.rows[r][c] + "\", pandas \"" + expected["rows"][r][c].get<std::string>() +
                          "\"")
                             .c_str());
        // Record start lines: a quoted LF keeps row 0 on lines 1-2; a blank and a whitespace-only
        // line are skipped before rows 2 and 3.
        QCOMPARE(table.lines.front(), int64_t{1});
        QCOMPARE(table.lines[1], int64_t{3});
        QCOMPARE(table.lines[2], int64_t{6});
        QCOMPARE(table.lines[3], int64_t{8});
    }

    void csvErrorsNameFileAndLine() {
        const std::string file = "questions.csv";
        auto parse = [&](const std::string& bytes) { (void)parse_csv_like_pandas(bytes, file, 3); };
        std::string m = error_of([&] { parse("a,b,c\nd,e\n"); });
        QVERIFY2(mentions(m, {"questions.csv:2", "2 fields, expected 3"}), m.c_str());
        m = error_of([&] { parse("a,b,c\n\"x\ny\",b,c,d\n"); });
        QVERIFY2(mentions(m, {"questions.csv:2", "4 fields"}), m.c_str());
        m = error_of([&] { parse("a,b,c\nd,\"e,f\n"); });
        QVERIFY2(mentions(m, {"questions.csv:2", "not closed"}), m.c_str());
        m = error_of([&] { parse("a,b,c\nd,\xff,f\n"); });
        QVERIFY2(mentions(m, {"questions.csv:2", "UTF-8"}), m.c_str());
        QVERIFY(error_of([&] { parse("a,b,c\r\nd,e,f"); }).empty()); // no final newline is fine
    }

    void pythonFloatRepr() {
        const std::pair<double, const char*> cases[] = {{0.1, "0.1"},
                                                        {1.5, "1.5"},
                                                        {100000.0, "100000.0"},
                                                        {1e16, "1e+16"},
                                                        {1e15, "1000000000000000.0"},
                                                        {1e-5, "1e-05"},
                                                        {0.0001, "0.0001"},
                                                        {-0.0, "-0.0"},
                                                        {1.25e-7, "1.25e-07"},
                                                        {123456789012.5, "123456789012.5"},
                                                        {2.0 / 3.0, "0.6666666666666666"},
                                                        {1.7976931348623157e308, "1.7976931348623157e+308"},
                                                        {5e-324, "5e-324"},
                                                        {std::numeric_limits<double>::infinity(), "inf"},
                                                        {std::numeric_limits<double>::quiet_NaN(), "nan"}};
        for (const auto& [value, text] : cases)
            QCOMPARE(py::float_repr(value), std::string(text));
    }

    void pythonStringMethods() {
        QCOMPARE(py::strip(" \t\n x y \r\x0b\x0c\x1c"), std::string("x y"));
        QCOMPARE(py::strip("\xc2\xa0"
                           "a"
                           "\xe3\x80\x80"),
                 std::string("a")); // NBSP, ideographic space
        QCOMPARE(py::rstrip("  a  \n"), std::string("  a"));
        QCOMPARE(py::capitalize("tHE LADY"), std::string("The lady"));
        QCOMPARE(py::capitalize("\xc3\xa9"
                                "CLAIR"),
                 std::string("\xc3\x89"
                             "clair")); // éCLAIR -> Éclair
        QCOMPARE(py::capitalize(""), std::string());
        QCOMPARE(py::length("caf\xc3\xa9"), size_t{4});
        QVERIFY(!error_of([] { (void)py::length("\xc3"); }).empty());
    }

    void hellaswagPreprocessMatchesPython() {
        const auto ref = test::tasks_reference()["multiple_choice_stories260K"]["hellaswag"]["docs"];
        const McData data = read_hellaswag(test::test_data("tasks/hellaswag/hellaswag_val.jsonl"));
        QCOMPARE(data.docs.size(), ref.size());
        for (size_t i = 0; i < ref.size(); ++i) {
            QCOMPARE(data.docs[i].requests[0].context, ref[i]["contexts"][0].get<std::string>());
            for (size_t j = 0; j < data.docs[i].choices.size(); ++j)
                QCOMPARE(data.docs[i].choices[j], ref[i]["choices"][j].get<std::string>());
            QCOMPARE(data.docs[i].gold, ref[i]["gold"].get<int64_t>());
        }
        QCOMPARE(hellaswag_preprocess("a [x] b [y\nz] c   d"), std::string("a b [y\nz] c  d"));
    }

    void jsonlErrorsNameFileAndLine() {
        const std::string dir = test::make_temp_dir("task-jsonl");
        test::write_file(dir + "/a.jsonl",
                         "{\"sentence\": \"x _ y\", \"option1\": \"a\", \"option2\": \"b\", "
                         "\"answer\": \"1\"}\n\n{\"sentence\": \"no blank\", \"option1\": \"a\", "
                         "\"option2\": \"b\", \"answer\": \"1\"}\n");
        std::string m = error_of([&] { (void)read_winogrande(dir + "/a.jsonl"); });
        QVERIFY2(mentions(m, {dir + "/a.jsonl:3", "blank"}), m.c_str());
        test::write_file(dir + "/b.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\"}\n");
        m = error_of([&] { (void)read_piqa(dir + "/b.jsonl"); });
        QVERIFY2(mentions(m, {"b-labels.lst", "missing"}), m.c_str());
        test::write_file(dir + "/b-labels.lst", "0\n");
        m = error_of([&] { (void)read_piqa(dir + "/b.jsonl"); });
        QVERIFY2(mentions(m, {dir + "/b.jsonl:1", "no field \"sol2\""}), m.c_str());
        test::write_file(dir + "/c.jsonl",
                         "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 0, \"label\": \"false\"}\n");
        m = error_of([&] { (void)read_boolq(dir + "/c.jsonl"); });
        QVERIFY2(mentions(m, {dir + "/c.jsonl:1", "label", "expected boolean"}), m.c_str());
        test::write_file(dir + "/d.jsonl",
                         "{\"id\": \"x\", \"question\": {\"stem\": \"s\", \"choices\": "
                         "[{\"text\": \"a\", \"label\": \"A\"}, {\"text\": \"b\", \"label\": \"B\"}]}, "
                         "\"answerKey\": \"C\"}\nnot json\n");
        m = error_of([&] { (void)read_arc(dir + "/d.jsonl"); });
        QVERIFY2(mentions(m, {dir + "/d.jsonl:2", "not valid JSON"}), m.c_str());
        test::write_file(dir + "/d.jsonl",
                         "{\"id\": \"x\", \"question\": {\"stem\": \"s\", \"choices\": "
                         "[{\"text\": \"a\", \"label\": \"A\"}, {\"text\": \"b\", \"label\": \"B\"}]}, "
                         "\"answerKey\": \"C\"}\n");
        m = error_of([&] { (void)read_arc(dir + "/d.jsonl"); });
        QVERIFY2(mentions(m, {dir + "/d.jsonl:1", "answerKey \"C\""}), m.c_str());
        m = error_of([&] { (void)load_task(parse_task_spec("arc_easy=" + dir)); });
        QVERIFY2(mentions(m, {"arc_easy", "ARC-Easy-Test.jsonl"}), m.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestTaskText)
#include "test_task_text.moc"
