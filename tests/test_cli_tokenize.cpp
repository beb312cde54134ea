// `rilq tokenize` run in-process (linked with rilq_cli by tests/CMakeLists.txt's test_cli_ rule).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <iostream>
#include <sstream>

#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "tests/support/test_support.h"

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

// Runs `rilq tokenize ARGS...` with stdout/stderr captured.
Run tokenize(const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.code = rilq::cli::cmd_tokenize(QStringList{QStringLiteral("rilq tokenize")} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

QString data(const char* relative) {
    return QString::fromStdString(rilq::test::shared_data(relative));
}

} // namespace

class TestCliTokenize : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void ids_on_one_line() {
        // Llama-2's SentencePiece model: "Once upon a time" -> 9038 2501 263 931 after BOS 1.
        Run r = tokenize(
            {data("llama2-tokenizer"), QStringLiteral("--text"), QStringLiteral("Once upon a time")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, std::string("1 9038 2501 263 931\n"));
        r = tokenize({data("llama2-tokenizer/tokenizer.bin"), QStringLiteral("--no-bos"),
                      QStringLiteral("--text"), QStringLiteral("Once upon a time")});
        QCOMPARE(r.out, std::string("9038 2501 263 931\n"));
    }

    void tokenizer_file_and_text_file() {
        const std::string dir = rilq::test::make_temp_dir("cli-tokenize");
        rilq::test::write_file(dir + "/prompt.txt", "Hello world");
        const Run r = tokenize({QStringLiteral("--tokenizer"), data("llama3-tokenizer/tokenizer.model"),
                                QStringLiteral("--file"), QString::fromStdString(dir + "/prompt.txt")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, std::string("128000 9906 1917\n")); // <|begin_of_text|> Hello Ġworld
    }

    void usage_and_errors() {
        Run r = tokenize({data("stories260K")});
        QCOMPARE(r.code, rilq::cli::kExitUsage);
        QVERIFY2(r.err.find("exactly one of --text and --file") != std::string::npos, r.err.c_str());
        r = tokenize({QStringLiteral("--text"), QStringLiteral("x")});
        QCOMPARE(r.code, rilq::cli::kExitUsage);
        r = tokenize({QStringLiteral("/no/such/model"), QStringLiteral("--text"), QStringLiteral("x")});
        QCOMPARE(r.code, rilq::cli::kExitError);
        QVERIFY2(r.err.find("'/no/such/model' does not exist") != std::string::npos, r.err.c_str());
        r = tokenize({data("stories260K"), QStringLiteral("--file"), QStringLiteral("/no/such/file.txt")});
        QCOMPARE(r.code, rilq::cli::kExitError);
        QVERIFY2(r.err.find("/no/such/file.txt") != std::string::npos, r.err.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestCliTokenize)
#include "test_cli_tokenize.moc"
