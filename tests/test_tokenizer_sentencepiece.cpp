// SentencePieceTokenizer (libsentencepiece through the rilq_spm shim) on Llama-2's and the
// stories tok512 models, against ids from the Python sentencepiece package
// (tests/reference/tokenizer_reference.py).
#include "tests/support/test_support.h"
#include "tests/tokenizer_fixture.h"

#include "core/tokenize/sentencepiece_model_info.h"
#include "core/tokenize/sentencepiece_tokenizer.h"
#include "core/tokenize/spm_library.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <chrono>
#include <regex>

using rilq::test::first_difference;
using rilq::test::shared_data;

namespace {

std::unique_ptr<rilq::SentencePieceTokenizer> load_sp(const std::string& relative) {
    const std::string path = shared_data(relative);
    return std::make_unique<rilq::SentencePieceTokenizer>(path, rilq::test::read_file(path));
}

// What tok512.model's remove_extra_whitespaces does to U+0020: runs collapse, ends are trimmed.
std::string collapse_spaces(const std::string& text) {
    std::string out = std::regex_replace(text, std::regex(" +"), " ");
    const size_t first = out.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

} // namespace

class TestTokenizerSentencePiece : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void llama2_once_upon_a_time() {
        const auto tok = load_sp("llama2-tokenizer/tokenizer.model");
        QCOMPARE(tok->encode("Once upon a time", false), (std::vector<int64_t>{9038, 2501, 263, 931}));
        // HF LlamaTokenizer: BOS once in front.
        QCOMPARE(tok->encode("Once upon a time", true), (std::vector<int64_t>{1, 9038, 2501, 263, 931}));
        QCOMPARE(tok->decode({1, 9038, 2501, 263, 931, 2}), std::string("Once upon a time"));
    }

    void ids_match_reference() {
        const auto llama2 = load_sp("llama2-tokenizer/tokenizer.model");
        const auto stories = load_sp("stories260K/tok512.model");
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            for (const auto& [tok, key] :
                 {std::pair{llama2.get(), "llama2_sp"}, std::pair{stories.get(), "stories_sp"}}) {
                const auto got = tok->encode(c.text, false);
                const auto want = rilq::test::reference_ids(c, key);
                QVERIFY2(got == want, (c.name + " / " + key + ": " + first_difference(got, want)).c_str());
                auto with_bos = want;
                with_bos.insert(with_bos.begin(), 1);
                QVERIFY2(tok->encode(c.text, true) == with_bos, (c.name + " / " + key + " with BOS").c_str());
            }
        }
    }

    void decode_inverts_encode() {
        const auto llama2 = load_sp("llama2-tokenizer/tokenizer.model");
        const auto stories = load_sp("stories260K/tok512.model");
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            QVERIFY2(llama2->decode(llama2->encode(c.text, true)) == c.text, c.name.c_str());
            // tok512.model normalises spaces before encoding, so its round trip gives the normalised text.
            QVERIFY2(stories->decode(stories->encode(c.text, true)) == collapse_spaces(c.text),
                     c.name.c_str());
        }
    }

    void vocabulary_and_special_tokens() {
        const auto llama2 = load_sp("llama2-tokenizer/tokenizer.model");
        const auto stories = load_sp("stories260K/tok512.model");
        QCOMPARE(llama2->vocab_size(), int64_t{32000});
        QCOMPARE(stories->vocab_size(), int64_t{512});
        for (const auto* tok : {llama2.get(), stories.get()}) {
            QCOMPARE(tok->bos_id(), int64_t{1});
            QCOMPARE(tok->eos_id(), int64_t{2});
            QCOMPARE(tok->kind(), std::string("sentencepiece"));
            QCOMPARE(tok->special_token_id("<s>"), int64_t{1});
            QCOMPARE(tok->special_token_id("</s>"), int64_t{2});
            QCOMPARE(tok->special_token_id("<unk>"), int64_t{0});
            QCOMPARE(tok->special_token_id("the"), int64_t{-1}); // not a control piece
            QCOMPARE(tok->special_token_id("no such piece"), int64_t{-1});
            QCOMPARE(tok->token_text(3), std::string("<0x00>"));
            QCOMPARE(tok->encode("", true), std::vector<int64_t>{1});
            QCOMPARE(tok->encode("", false), std::vector<int64_t>{});
        }
        QCOMPARE(llama2->token_text(9038), std::string("\xE2\x96\x81Once")); // U+2581 + "Once"
    }

    void model_settings_from_the_proto() {
        const std::string llama2_path = shared_data("llama2-tokenizer/tokenizer.model");
        const auto llama2 =
            rilq::read_sentencepiece_model_info(llama2_path, rilq::test::read_file(llama2_path));
        QCOMPARE(llama2.model_type, 2); // BPE
        QCOMPARE(llama2.normalizer_name, std::string("identity"));
        QVERIFY(!llama2.has_precompiled_charsmap);
        QVERIFY(llama2.add_dummy_prefix);
        QVERIFY(!llama2.remove_extra_whitespaces); // Llama-2 keeps "  " (see decode_inverts_encode)
        QVERIFY(!llama2.treat_whitespace_as_suffix);
        const std::string stories_path = shared_data("stories260K/tok512.model");
        const auto stories =
            rilq::read_sentencepiece_model_info(stories_path, rilq::test::read_file(stories_path));
        QCOMPARE(stories.model_type, 2);
        QCOMPARE(stories.normalizer_name, std::string("identity"));
        QVERIFY(stories.remove_extra_whitespaces); // llama2.c's train_vocab keeps the default
        QVERIFY_THROWS_EXCEPTION(rilq::Error, rilq::read_sentencepiece_model_info("x", "\x0a\xff"));
    }

    void chunked_encoding_gives_the_same_ids() {
        const auto llama2 = load_sp("llama2-tokenizer/tokenizer.model");
        const auto stories = load_sp("stories260K/tok512.model");
        QVERIFY(llama2->chunking_is_exact());
        QVERIFY(!stories->chunking_is_exact()); // its whitespace removal is not local
        QVERIFY_THROWS_EXCEPTION(rilq::Error, stories->set_chunk_bytes(1000));
        // Tiny chunks against the Python reference: every passage is cut many times.
        llama2->set_chunk_bytes(40);
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            const auto got = llama2->encode(c.text, false);
            const auto want = rilq::test::reference_ids(c, "llama2_sp");
            QVERIFY2(got == want, (c.name + " in 40-byte chunks: " + first_difference(got, want)).c_str());
        }
        // Default chunks against one library call on 200 KB of WikiText.
        const std::string text = rilq::test::read_file(shared_data("wikitext-2-raw/wiki.test.raw"));
        const std::string head = text.substr(0, text.find('\n', 200000) + 1);
        llama2->set_chunk_bytes(16384);
        auto start = std::chrono::steady_clock::now();
        const auto chunked = llama2->encode(head, true);
        const double chunked_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        llama2->set_chunk_bytes(0);
        start = std::chrono::steady_clock::now();
        const auto whole = llama2->encode(head, true);
        const double whole_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        QVERIFY2(chunked == whole, first_difference(chunked, whole).c_str());
        qInfo("SentencePiece on %zu bytes: %.3f s in 16 KB chunks, %.3f s in one call", head.size(),
              chunked_s, whole_s);
    }

    void out_of_range_ids_name_the_file() {
        const auto tok = load_sp("stories260K/tok512.model");
        try {
            tok->decode({5, 512});
            QFAIL("decode accepted id 512 of a 512-token vocabulary");
        } catch (const rilq::Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("512") != std::string::npos && msg.find("tok512.model") != std::string::npos,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(rilq::Error, tok->token_text(-1));
    }

    void corrupt_model_is_refused() {
        const std::string path = shared_data("stories260K/tok512.model");
        const std::string bytes = rilq::test::read_file(path).substr(0, 500); // cut mid-message
        try {
            rilq::SentencePieceTokenizer tok("cut.model", bytes);
            QFAIL("a truncated ModelProto loaded");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("cut.model") != std::string::npos, e.what());
        }
    }

    void trains_a_small_model() {
        // The shim also carries SentencePieceTrainer: train on real text, then use the result.
        const std::string dir = rilq::test::make_temp_dir("spm-train");
        const std::string corpus = dir + "/corpus.txt";
        rilq::test::write_file(
            corpus, rilq::test::read_file(shared_data("tinystories/tinystories_val.txt")).substr(0, 100000));
        rilq::train_sentencepiece("--input=" + corpus + " --model_prefix=" + dir +
                                  "/m --vocab_size=600 --model_type=bpe --byte_fallback=true "
                                  "--character_coverage=1.0 --minloglevel=2");
        const std::string model = dir + "/m.model";
        rilq::SentencePieceTokenizer tok(model, rilq::test::read_file(model));
        QCOMPARE(tok.vocab_size(), int64_t{600});
        const std::string text = "Once upon a time, Lily saw a big red ball.";
        const auto ids = tok.encode(text, false);
        QVERIFY(ids.size() > 5 && ids.size() < text.size()); // merged, not one id per character
        QCOMPARE(tok.decode(ids), text);
    }
};

RILQ_TEST_APPLESS_MAIN(TestTokenizerSentencePiece)
#include "test_tokenizer_sentencepiece.moc"
