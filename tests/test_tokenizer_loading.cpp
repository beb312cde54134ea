// load_tokenizer recognises formats by content, find_tokenizer picks the tokenizer beside a
// model, and bad files fail with messages that name them.
#include "tests/support/test_support.h"

#include "core/tokenize/tokenizer.h"
#include "core/tokenize/tokenizer_format.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <filesystem>

using rilq::test::shared_data;
namespace fs = std::filesystem;

namespace {

// Copies a shared file into `dir` under another name, so detection cannot lean on the name.
std::string copy_as(const std::string& relative, const std::string& dir, const std::string& name) {
    const std::string target = dir + "/" + name;
    rilq::test::write_file(
        target, rilq::test::read_file(relative.rfind("/", 0) == 0 ? relative : shared_data(relative)));
    return target;
}

std::string load_error(const std::string& path) {
    try {
        rilq::load_tokenizer(path);
    } catch (const rilq::Error& e) {
        return e.what();
    }
    return "no error";
}

std::string find_error(const std::string& path) {
    try {
        rilq::find_tokenizer(path);
    } catch (const rilq::Error& e) {
        return e.what();
    }
    return "no error";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

class TestTokenizerLoading : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void detects_each_format_by_content() {
        const std::string dir = rilq::test::make_temp_dir("tok-detect");
        const struct {
            std::string source;
            rilq::TokenizerFormat format;
            std::string kind;
            int64_t vocab;
        } cases[] = {
            {"llama2-tokenizer/tokenizer.model", rilq::TokenizerFormat::SentencePiece, "sentencepiece",
             32000},
            {"stories260K/tok512.model", rilq::TokenizerFormat::SentencePiece, "sentencepiece", 512},
            {"llama3-tokenizer/tokenizer.model", rilq::TokenizerFormat::Tiktoken, "tiktoken", 128256},
            {"stories260K/tok512.bin", rilq::TokenizerFormat::Llama2cBin, "llama2c", 512},
            {"llama2-tokenizer/tokenizer.bin", rilq::TokenizerFormat::Llama2cBin, "llama2c", 32000},
            {rilq::test::test_data("llama3_subset_tokenizer.json"), rilq::TokenizerFormat::HfTokenizerJson,
             "hf-bpe", 3010},
        };
        int n = 0;
        for (const auto& c : cases) {
            const std::string path = copy_as(c.source, dir, "renamed_" + std::to_string(n++) + ".dat");
            QCOMPARE(rilq::detect_tokenizer_format(rilq::test::read_file(path)), c.format);
            const auto tok = rilq::load_tokenizer(path);
            QCOMPARE(tok->kind(), c.kind);
            QCOMPARE(tok->vocab_size(), c.vocab);
            QCOMPARE(tok->path(), path);
        }
        QCOMPARE(rilq::detect_tokenizer_format("hello world"), rilq::TokenizerFormat::Unknown);
    }

    void finds_the_tokenizer_beside_a_llama2c_model() {
        // stories260K/ holds tok512.model and tok512.bin: the SentencePiece model is preferred.
        const auto tok = rilq::find_tokenizer(shared_data("stories260K/stories260K.bin"));
        QCOMPARE(tok->kind(), std::string("sentencepiece"));
        QCOMPARE(fs::path(tok->path()).filename().string(), std::string("tok512.model"));
        QCOMPARE(tok->encode("Once upon a time", true), (std::vector<int64_t>{1, 403, 407, 261, 378}));

        const std::string dir = rilq::test::make_temp_dir("tok-find-bin");
        copy_as("stories260K/tok512.bin", dir, "tok512.bin");
        rilq::test::write_file(dir + "/model.bin", "not looked at");
        const auto bin = rilq::find_tokenizer(dir + "/model.bin");
        QCOMPARE(bin->kind(), std::string("llama2c"));
    }

    void finds_the_tokenizer_in_a_model_folder() {
        const std::string hf = rilq::test::make_temp_dir("tok-find-hf");
        copy_as(rilq::test::test_data("llama3_subset_tokenizer.json"), hf, "tokenizer.json");
        copy_as("llama3-tokenizer/tokenizer.model", hf, "tokenizer.model");
        QCOMPARE(rilq::find_tokenizer(hf)->kind(), std::string("hf-bpe")); // tokenizer.json first

        const std::string meta = rilq::test::make_temp_dir("tok-find-meta");
        copy_as("llama3-tokenizer/tokenizer.model", meta, "tokenizer.model");
        QCOMPARE(rilq::find_tokenizer(meta)->kind(), std::string("tiktoken"));

        // A tokenizer.json we cannot use (an HF Llama-2 folder's is Metaspace, not byte-level)
        // gives way to the next candidate.
        const std::string llama2 = rilq::test::make_temp_dir("tok-find-llama2");
        rilq::test::write_file(
            llama2 + "/tokenizer.json",
            R"({"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Metaspace"}})");
        copy_as("llama2-tokenizer/tokenizer.model", llama2, "tokenizer.model");
        const auto tok = rilq::find_tokenizer(llama2);
        QCOMPARE(tok->kind(), std::string("sentencepiece"));
        QCOMPARE(tok->vocab_size(), int64_t{32000});
    }

    void find_errors_name_the_path() {
        const std::string empty = rilq::test::make_temp_dir("tok-find-empty");
        std::string msg = find_error(empty);
        QVERIFY2(contains(msg, empty) && contains(msg, "tok*.model"), msg.c_str());
        msg = find_error(empty + "/missing.bin");
        QVERIFY2(contains(msg, "missing.bin") && contains(msg, "does not exist"), msg.c_str());
        // Every candidate failing: each failure is listed.
        rilq::test::write_file(empty + "/tokenizer.model", "garbage");
        msg = find_error(empty);
        QVERIFY2(contains(msg, "no usable tokenizer") &&
                     contains(msg, "tokenizer.model' is not a recognised format"),
                 msg.c_str());
    }

    void bad_files_fail_clearly() {
        const std::string dir = rilq::test::make_temp_dir("tok-bad");
        std::string msg = load_error(dir + "/nope.model");
        QVERIFY2(contains(msg, "nope.model") && contains(msg, "cannot be opened"), msg.c_str());
        msg = load_error(dir);
        QVERIFY2(contains(msg, "is a folder"), msg.c_str());

        rilq::test::write_file(dir + "/empty.model", "");
        msg = load_error(dir + "/empty.model");
        QVERIFY2(contains(msg, "empty.model") && contains(msg, "is empty"), msg.c_str());

        rilq::test::write_file(dir + "/random.bin", std::string("\x01\x02\x03\x04garbage", 11));
        msg = load_error(dir + "/random.bin");
        QVERIFY2(contains(msg, "random.bin") && contains(msg, "not a recognised format") &&
                     contains(msg, "01 02 03 04"),
                 msg.c_str());

        // A rank file with a broken line: the line number is in the message.
        const std::string ranks = rilq::test::read_file(shared_data("llama3-tokenizer/tokenizer.model"));
        const size_t third_line = ranks.find('\n', ranks.find('\n') + 1) + 1;
        rilq::test::write_file(dir + "/ranks.model",
                               ranks.substr(0, third_line) + "Iw== x\n" + ranks.substr(third_line));
        msg = load_error(dir + "/ranks.model");
        QVERIFY2(contains(msg, "ranks.model' line 3") && contains(msg, "invalid rank 'x'"), msg.c_str());

        rilq::test::write_file(dir + "/dup.model", "IQ== 0\nIQ== 1\n");
        msg = load_error(dir + "/dup.model");
        QVERIFY2(contains(msg, "dup.model") && contains(msg, "tokens 0 and 1 have the same bytes"),
                 msg.c_str());

        rilq::test::write_file(dir + "/broken.json", "{\"model\": ");
        msg = load_error(dir + "/broken.json");
        QVERIFY2(contains(msg, "broken.json") && contains(msg, "invalid JSON"), msg.c_str());

        // A SentencePiece model cut short is recognised as neither format.
        const std::string sp = rilq::test::read_file(shared_data("stories260K/tok512.model"));
        rilq::test::write_file(dir + "/cut.model", sp.substr(0, sp.size() / 2));
        msg = load_error(dir + "/cut.model");
        QVERIFY2(contains(msg, "cut.model") && contains(msg, "not a recognised format"), msg.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestTokenizerLoading)
#include "test_tokenizer_loading.moc"
