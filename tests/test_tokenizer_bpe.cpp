// Byte-level BPE (Llama-3): the hand-written pre-tokenizer against the `regex` module, the
// tiktoken rank file and the HF tokenizer.json loaders against Python implementations of
// tiktoken's and HF's algorithms (tests/reference/tokenizer_reference.py).
#include "tests/support/test_support.h"
#include "tests/tokenizer_fixture.h"

#include "core/tokenize/hf_tokenizer_json.h"
#include "core/tokenize/llama3_pretokenizer.h"
#include "core/tokenize/tiktoken_file.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <chrono>

using nlohmann::json;
using rilq::test::first_difference;
using rilq::test::shared_data;

namespace {

std::unique_ptr<rilq::Tokenizer> load_llama3() {
    const std::string path = shared_data("llama3-tokenizer/tokenizer.model");
    return rilq::load_tiktoken_file(path, rilq::test::read_file(path));
}

json subset_json() {
    return json::parse(rilq::test::read_file(rilq::test::test_data("llama3_subset_tokenizer.json")));
}

// Writes `doc` as tokenizer.json in a fresh folder (plus tokenizer_config.json when given) and loads it.
std::unique_ptr<rilq::Tokenizer> load_json(const json& doc, const json& config = json()) {
    const std::string dir = rilq::test::make_temp_dir("hf-bpe");
    rilq::test::write_file(dir + "/tokenizer.json", doc.dump());
    if (!config.is_null()) rilq::test::write_file(dir + "/tokenizer_config.json", config.dump());
    return rilq::load_hf_tokenizer_json(dir + "/tokenizer.json", doc.dump());
}

std::string json_error(const json& doc) {
    try {
        load_json(doc);
    } catch (const rilq::Error& e) {
        return e.what();
    }
    return "no error";
}

std::vector<std::string> pieces(const std::string& text) {
    std::vector<std::string> out;
    for (const auto& span : rilq::llama3_pretokenize(text))
        out.push_back(text.substr(span.begin, span.end - span.begin));
    return out;
}

void check_whole_file(const rilq::Tokenizer& tok, const char* label) {
    const std::string text = rilq::test::read_file(shared_data("wikitext-2-raw/wiki.test.raw"));
    const auto start = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text, true);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    qInfo("%s: %zu bytes -> %zu ids in %.3f s (%.2f MB/s)", label, text.size(), ids.size(), seconds,
          static_cast<double>(text.size()) / 1e6 / seconds);
    QCOMPARE(ids.front(), tok.bos_id());
    QVERIFY(tok.decode(std::vector<int64_t>(ids.begin() + 1, ids.end())) == text);
    QVERIFY2(seconds < 20.0, "far slower than expected: is the per-piece cache working?");
}

} // namespace

class TestTokenizerBpe : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void pretokenizer_matches_the_regex() {
        int checked = 0;
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            if (c.pretokens.empty() && !c.text.empty()) continue;
            std::vector<int64_t> got;
            for (const auto& span : rilq::llama3_pretokenize(c.text))
                got.push_back(static_cast<int64_t>(span.end - span.begin));
            QVERIFY2(got == c.pretokens, (c.name + ": " + first_difference(got, c.pretokens)).c_str());
            ++checked;
        }
        QVERIFY(checked >= 20);
    }

    void pretokenizer_by_hand() {
        // Worked out from the regex alternatives by hand.
        QCOMPARE(pieces("'sup I'll"), (std::vector<std::string>{"'s", "up", " I", "'ll"}));
        QCOMPARE(pieces("  word"), (std::vector<std::string>{" ", " word"})); // \s+(?!\S) leaves one space
        QCOMPARE(pieces("1234567"), (std::vector<std::string>{"123", "456", "7"}));
        QCOMPARE(pieces("x \n\n y"), (std::vector<std::string>{"x", " \n\n", " y"})); // \s*[\r\n]+
        QCOMPARE(pieces("end  "), (std::vector<std::string>{"end", "  "}));
        QCOMPARE(pieces("a...\r\nb"), (std::vector<std::string>{"a", "...\r\n", "b"}));
        QCOMPARE(pieces("\tword"), (std::vector<std::string>{"\tword"}));
        // Bytes that are not UTF-8 count as "other" characters, one each.
        QCOMPARE(pieces("a\xff\xfe b"), (std::vector<std::string>{"a", "\xff\xfe", " b"}));
    }

    void tiktoken_ids_match_reference() {
        const auto tok = load_llama3();
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            const auto got = tok->encode(c.text, false);
            const auto want = rilq::test::reference_ids(c, "llama3_tiktoken");
            QVERIFY2(got == want, (c.name + ": " + first_difference(got, want)).c_str());
            QVERIFY2(tok->decode(got) == c.text, c.name.c_str());
            auto with_bos = want;
            with_bos.insert(with_bos.begin(), 128000);
            QVERIFY(tok->encode(c.text, true) == with_bos);
        }
    }

    void tiktoken_special_tokens_follow_meta() {
        const auto tok = load_llama3();
        QCOMPARE(tok->kind(), std::string("tiktoken"));
        QCOMPARE(tok->vocab_size(), int64_t{128256});
        QCOMPARE(tok->bos_id(), int64_t{128000});
        QCOMPARE(tok->eos_id(), int64_t{128001});
        // Meta's llama3 tokenizer.py order.
        QCOMPARE(tok->special_token_id("<|begin_of_text|>"), int64_t{128000});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_0|>"), int64_t{128002});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_3|>"), int64_t{128005});
        QCOMPARE(tok->special_token_id("<|start_header_id|>"), int64_t{128006});
        QCOMPARE(tok->special_token_id("<|end_header_id|>"), int64_t{128007});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_4|>"), int64_t{128008});
        QCOMPARE(tok->special_token_id("<|eot_id|>"), int64_t{128009});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_5|>"), int64_t{128010});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_250|>"), int64_t{128255});
        QCOMPARE(tok->special_token_id("<|reserved_special_token_251|>"), int64_t{-1});
        QCOMPARE(tok->decode({128006, 882, 128007}), std::string("<|start_header_id|>user<|end_header_id|>"));
        // Special-token text in the input is ordinary text (allowed_special = none).
        const auto ids = tok->encode("<|eot_id|>", false);
        QVERIFY(ids.size() > 1);
        QVERIFY(std::find(ids.begin(), ids.end(), 128009) == ids.end());
        QCOMPARE(tok->decode(ids), std::string("<|eot_id|>"));
        QCOMPARE(tok->token_text(40), std::string("I"));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, tok->decode({128256}));
    }

    void tiktoken_keeps_bytes_that_are_not_utf8() {
        const auto tok = load_llama3();
        const std::string text = "ok \xff\xc3( caf\xc3\xa9 \xe2\x82"; // stray bytes, a cut-off character
        QCOMPARE(tok->decode(tok->encode(text, false)), text);
    }

    void tiktoken_whole_wikitext() { check_whole_file(*load_llama3(), "tiktoken llama3"); }

    void tokenizer_json_ids_match_reference() {
        const json doc = subset_json();
        const auto tok = load_json(doc);
        QCOMPARE(tok->kind(), std::string("hf-bpe"));
        QCOMPARE(tok->bos_id(), int64_t{3000});
        QCOMPARE(tok->eos_id(), int64_t{3001});
        QCOMPARE(tok->vocab_size(), int64_t{3010}); // 3000 ranks, 5 specials, 5 whole-word tokens

        json pairs = doc; // the newer merges layout: ["a", "b"] instead of "a b"
        for (auto& m : pairs["model"]["merges"]) {
            const std::string s = m.get<std::string>();
            m = json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
        }
        const auto tok_pairs = load_json(pairs);
        json no_ignore = doc;
        no_ignore["model"]["ignore_merges"] = false;
        const auto tok_no_ignore = load_json(no_ignore);

        int differ = 0;
        for (const auto& c : rilq::test::load_tokenizer_cases()) {
            const auto want = rilq::test::reference_ids(c, "llama3_subset_json");
            const auto got = tok->encode(c.text, false);
            QVERIFY2(got == want, (c.name + ": " + first_difference(got, want)).c_str());
            QVERIFY2(tok_pairs->encode(c.text, false) == want, c.name.c_str());
            QVERIFY2(tok->decode(got) == c.text, c.name.c_str());
            const auto want_no_ignore = rilq::test::reference_ids(c, "llama3_subset_json_no_ignore");
            QVERIFY2(tok_no_ignore->encode(c.text, false) == want_no_ignore,
                     (c.name + " without ignore_merges").c_str());
            differ += want_no_ignore != want;
        }
        QVERIFY(differ > 0); // the fixture does exercise ignore_merges
    }

    void tokenizer_json_bos_eos_from_tokenizer_config() {
        const auto tok = load_json(subset_json(), json{{"bos_token", "<|begin_of_text|>"},
                                                       {"eos_token", {{"content", "<|eot_id|>"}}}});
        QCOMPARE(tok->bos_id(), int64_t{3000});
        QCOMPARE(tok->eos_id(), int64_t{3004}); // an Instruct model stops on <|eot_id|>
        try {
            load_json(subset_json(), json{{"eos_token", "<|no_such_token|>"}});
            QFAIL("an unknown eos_token was accepted");
        } catch (const rilq::Error& e) {
            QVERIFY2(std::string(e.what()).find("tokenizer_config.json' at $.eos_token") != std::string::npos,
                     e.what());
        }
    }

    void tokenizer_json_refuses_what_it_cannot_reproduce() {
        json gpt2 = subset_json(); // GPT-2 style: ByteLevel with its own regex, no Split
        gpt2["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
        QVERIFY(json_error(gpt2).find("$.pre_tokenizer.use_regex") != std::string::npos);

        json other_regex = subset_json();
        other_regex["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
        QVERIFY(json_error(other_regex).find("$.pre_tokenizer.pretokenizers[0].pattern") !=
                std::string::npos);

        json wordpiece = subset_json();
        wordpiece["model"]["type"] = "WordPiece";
        QVERIFY(json_error(wordpiece).find("$.model.type") != std::string::npos);

        json bad_merge = subset_json();
        bad_merge["model"]["merges"][0] = "Ġt nosuchtoken";
        const std::string msg = json_error(bad_merge);
        QVERIFY2(msg.find("$.model.merges[0]") != std::string::npos &&
                     msg.find("tokenizer.json") != std::string::npos,
                 msg.c_str());

        json normalizer = subset_json();
        normalizer["normalizer"] = {{"type", "NFC"}};
        QVERIFY(json_error(normalizer).find("$.normalizer") != std::string::npos);

        json missing_byte = subset_json();
        missing_byte["model"]["vocab"].erase("!");
        missing_byte["model"]["merges"] = json::array();
        QVERIFY(json_error(missing_byte).find("byte 0x21") != std::string::npos);

        QVERIFY(json_error(json::object()).find("$: missing \"model\"") != std::string::npos);
    }

    void tokenizer_json_whole_wikitext() {
        check_whole_file(*load_json(subset_json()), "hf tokenizer.json (3000-rank subset)");
    }
};

RILQ_TEST_APPLESS_MAIN(TestTokenizerBpe)
#include "test_tokenizer_bpe.moc"
