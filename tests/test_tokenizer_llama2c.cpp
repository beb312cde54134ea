// Llama2cTokenizer (tokenizer.bin) against run.c's encode() transcribed to Python
// (tests/reference/tokenizer_reference.py), and against SentencePiece on whole real files.
#include "tests/support/test_support.h"
#include "tests/tokenizer_fixture.h"

#include "core/tokenize/llama2c_tokenizer.h"
#include "core/tokenize/sentencepiece_tokenizer.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <chrono>
#include <cstring>

using rilq::test::first_difference;
using rilq::test::shared_data;

namespace {

rilq::Llama2cTokenizer load_bin(const std::string& relative) {
    const std::string path = shared_data(relative);
    return rilq::Llama2cTokenizer(path, rilq::test::read_file(path));
}

rilq::SentencePieceTokenizer load_sp(const std::string& relative) {
    const std::string path = shared_data(relative);
    return rilq::SentencePieceTokenizer(path, rilq::test::read_file(path));
}

// What tok512.model's remove_extra_whitespaces does to U+0020: runs collapse, ends are trimmed.
std::string collapse_spaces(const std::string& text) {
    std::string out;
    for (const char c : text)
        if (c != ' ' || (!out.empty() && out.back() != ' ')) out.push_back(c);
    if (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string expect_error(const std::string& name, const std::string& bytes) {
    try {
        rilq::Llama2cTokenizer tok(name, bytes);
    } catch (const rilq::Error& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

class TestTokenizerLlama2c : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void header_and_vocabulary() {
        const auto stories = load_bin("stories260K/tok512.bin");
        const auto llama2 = load_bin("llama2-tokenizer/tokenizer.bin");
        QCOMPARE(stories.vocab_size(), int64_t{512});
        QCOMPARE(stories.max_token_length(), 7);
        QCOMPARE(llama2.vocab_size(), int64_t{32000});
        QCOMPARE(llama2.max_token_length(), 27);
        QCOMPARE(llama2.token_text(1), std::string("\n<s>\n"));
        QCOMPARE(llama2.token_text(29871), std::string(" ")); // SentencePiece's U+2581 piece
        QCOMPARE(llama2.score(259), -1e9f);                   // "  " in Llama-2's vocabulary
        QCOMPARE(stories.kind(), std::string("llama2c"));
        QCOMPARE(stories.special_token_id("<s>"), int64_t{1});
    }

    void ids_match_run_c() {
        const auto llama2 = load_bin("llama2-tokenizer/tokenizer.bin");
        const auto stories = load_bin("stories260K/tok512.bin");
        QCOMPARE(llama2.encode("Once upon a time", false), (std::vector<int64_t>{9038, 2501, 263, 931}));
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            for (const auto& [tok, key] :
                 {std::pair{&llama2, "llama2_bin"}, std::pair{&stories, "stories_bin"}}) {
                const auto got = tok->encode(c.text, false);
                const auto want = rilq::test::reference_ids(c, key);
                QVERIFY2(got == want, (c.name + " / " + key + ": " + first_difference(got, want)).c_str());
                auto with_bos = want;
                with_bos.insert(with_bos.begin(), 1);
                QVERIFY2(tok->encode(c.text, true) == with_bos, (c.name + " / " + key + " with BOS").c_str());
            }
        }
    }

    void word_split_and_global_merge_agree() {
        // A piece with a non-space before a space ("\x01 ", never formed from text: \x01 is a byte
        // token) turns off the word-by-word shortcut; the single global loop must give the same ids.
        std::string bytes = rilq::test::read_file(shared_data("stories260K/tok512.bin"));
        const float score = -1000.0f;
        const int32_t len = 2;
        bytes.append(reinterpret_cast<const char*>(&score), 4)
            .append(reinterpret_cast<const char*>(&len), 4)
            .append("\x01 ");
        const rilq::Llama2cTokenizer global("global.bin", bytes);
        QCOMPARE(global.vocab_size(), int64_t{513});
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            const auto got = global.encode(c.text, true);
            auto want = rilq::test::reference_ids(c, "stories_bin");
            want.insert(want.begin(), 1);
            QVERIFY2(got == want, (c.name + ": " + first_difference(got, want)).c_str());
        }
    }

    void decode_inverts_encode() {
        const auto llama2 = load_bin("llama2-tokenizer/tokenizer.bin");
        const auto stories = load_bin("stories260K/tok512.bin");
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            for (const auto* tok : {&llama2, &stories}) {
                QVERIFY2(tok->decode(tok->encode(c.text, true)) == c.text, c.name.c_str());
                QVERIFY2(tok->decode(tok->encode(c.text, false)) == c.text, c.name.c_str());
            }
        }
        // run.c: <0xXX> pieces are bytes, the space after BOS goes, BOS/EOS print nothing.
        QCOMPARE(stories.decode({1, 3 + 'A', 2}), std::string("A"));
        QCOMPARE(llama2.decode({1, 9038, 2501, 1, 9038}), std::string("Once uponOnce"));
    }

    void llama2_bin_equals_sentencepiece_on_wikitext() {
        // Llama-2's model has the identity normaliser and keeps extra whitespace, so run.c's
        // algorithm on tokenizer.bin must give SentencePiece's ids on any text. The library needs
        // seconds for the whole file, so the comparison takes its first 300 KB (whole lines).
        const auto bin = load_bin("llama2-tokenizer/tokenizer.bin");
        const auto sp = load_sp("llama2-tokenizer/tokenizer.model");
        const std::string text = rilq::test::read_file(shared_data("wikitext-2-raw/wiki.test.raw"));
        const std::string head = text.substr(0, text.find('\n', 300000) + 1);
        const auto got = bin.encode(head, true);
        const auto want = sp.encode(head, true);
        QVERIFY2(got == want, first_difference(got, want).c_str());
        QCOMPARE(bin.decode(got), sp.decode(want));

        const auto start = std::chrono::steady_clock::now();
        const auto all = bin.encode(text, true);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        qInfo("llama2.c tokenizer.bin: %zu bytes -> %zu ids in %.3f s (%.2f MB/s)", text.size(), all.size(),
              seconds, static_cast<double>(text.size()) / 1e6 / seconds);
        QCOMPARE(bin.decode(all), text);
        QVERIFY2(seconds < 20.0, "far slower than expected: is the word split working?");
    }

    void stories_bin_differs_from_tok512_model_only_by_whitespace_normalisation() {
        // tok512.model sets remove_extra_whitespaces (llama2.c's train_vocab leaves the default),
        // run.c has no normaliser: on text without space runs or edge spaces the ids agree, and
        // SentencePiece on any text equals run.c on the space-normalised text (first 300 KB of TinyStories).
        const auto bin = load_bin("stories260K/tok512.bin");
        const auto sp = load_sp("stories260K/tok512.model");
        const std::string text = rilq::test::read_file(shared_data("tinystories/tinystories_val.txt"));
        const std::string head = "  " + text.substr(0, text.find('\n', 300000) + 1) + "  two  spaces   ";
        const auto want = sp.encode(head, true);
        const auto got = bin.encode(collapse_spaces(head), true);
        QVERIFY2(got == want, first_difference(got, want).c_str());
        // And the difference is real: the raw text with its extra spaces encodes differently.
        QVERIFY(bin.encode(head, true) != want);
        QVERIFY(bin.encode("a  b", false) != sp.encode("a  b", false));
        QCOMPARE(bin.encode("a b", false), sp.encode("a b", false));
    }

    void malformed_files_are_refused_with_the_reason() {
        const std::string good = rilq::test::read_file(shared_data("stories260K/tok512.bin"));
        QVERIFY(rilq::looks_like_llama2c_tokenizer(good));
        std::string msg = expect_error("cut.bin", good.substr(0, good.size() - 3));
        QVERIFY2(msg.find("cut.bin") != std::string::npos && msg.find("truncated") != std::string::npos,
                 msg.c_str());
        msg = expect_error("tiny.bin", good.substr(0, 2));
        QVERIFY2(msg.find("max_token_length") != std::string::npos, msg.c_str());
        std::string long_piece = good;
        const int32_t max_len = 1; // every piece longer than 1 byte now breaks the header's promise
        std::memcpy(long_piece.data(), &max_len, 4);
        msg = expect_error("short.bin", long_piece);
        QVERIFY2(msg.find("length") != std::string::npos && msg.find("0..1") != std::string::npos,
                 msg.c_str());
        // Byte tokens must sit at 3..258 for run.c's "+3" fallback: misspell id 3.
        std::string swapped = good;
        const size_t first_byte_piece = swapped.find("<0x00>");
        swapped[first_byte_piece + 4] = '1'; // "<0x01>" where "<0x00>" belongs
        msg = expect_error("swapped.bin", swapped);
        QVERIFY2(msg.find("<0x00>") != std::string::npos, msg.c_str());
    }
};

RILQ_TEST_APPLESS_MAIN(TestTokenizerLlama2c)
#include "test_tokenizer_llama2c.moc"
