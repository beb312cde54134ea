// IR-QLoRA's Alpaca data handling against tests/reference/sft_reference.py (irlora.py re-done in
// Python on the real Llama-2 and stories260K tokenizers): prompts byte for byte, token ids,
// truncation and label masks for both templates; the held-out split as datasets draws it with
// NumPy's default_rng(42); HF's length-grouped order; right padding; and clear errors on bad
// Alpaca files. Every comparison here is exact (integers and strings).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include "tests/support/test_support.h"

#include "core/data/numpy_random.h"
#include "core/finetune/alpaca_data.h"
#include "core/finetune/alpaca_prompt.h"
#include "core/finetune/length_grouped_order.h"
#include "core/finetune/sft_batch.h"
#include "core/finetune/sft_example.h"
#include "core/finetune/sft_split.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <memory>

using namespace rilq;
using nlohmann::json;

namespace {

const json& reference() {
    static const json j = json::parse(test::read_file(test::test_data("sft/sft_reference.json")));
    return j;
}

const std::vector<AlpacaRecord>& demo() {
    static const auto records = read_alpaca_file(test::shared_data("alpaca/alpaca_en_demo.json"));
    return records;
}

const std::vector<AlpacaRecord>& cases() {
    static const auto records = read_alpaca_file(test::test_data("sft/alpaca_cases.json"));
    return records;
}

const Tokenizer& tokenizer(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
    auto& t = loaded[name];
    if (!t)
        t = load_tokenizer(test::shared_data(name == "llama2" ? "llama2-tokenizer/tokenizer.model"
                                                              : "stories260K/tok512.model"));
    return *t;
}

std::vector<int64_t> ints(const json& j) {
    return j.get<std::vector<int64_t>>();
}

// The error text of parsing `text`, or "" when it parses.
std::string parse_error(const std::string& text) {
    try {
        parse_alpaca_text(text, "data.json");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

} // namespace

class TestSftData : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void readsArraysAndJsonLines() {
        QCOMPARE(demo().size(), size_t(999));
        QCOMPARE(demo()[0].instruction, std::string("Describe a process of making crepes."));
        QVERIFY(demo()[0].input.empty());
        QCOMPARE(cases().size(), size_t(8));
        QVERIFY(cases()[7].input.empty()); // no "input" key: none
        QCOMPARE(cases()[7].output, std::string("ok"));
        const auto lines =
            parse_alpaca_text("{\"instruction\": \"a\", \"output\": \"b\"}\n\n"
                              "{\"instruction\": \"c\", \"input\": \"d\", \"output\": \"e\"}\n",
                              "x.jsonl");
        QCOMPARE(lines.size(), size_t(2));
        QCOMPARE(lines[1].input, std::string("d"));
    }

    void badRecordsNameFileAndRecord() {
        QCOMPARE(
            parse_error(R"([{"instruction": "a", "output": "b"}, {"instruction": "a", "output": null}])"),
            std::string("data.json: record 1 ($[1].output): expected a string, found null"));
        QCOMPARE(parse_error(R"([{"instruction": "a", "input": 3, "output": "b"}])"),
                 std::string("data.json: record 0 ($[0].input): expected a string, found 3"));
        QCOMPARE(parse_error(R"([{"output": "b"}])"),
                 std::string("data.json: record 0 ($[0]): missing field \"instruction\""));
        QCOMPARE(
            parse_error(R"([{"instruction": "a", "output": "b"}, ["x"]])"),
            std::string("data.json: record 1 ($[1]): expected an object with instruction, input and output, "
                        "found array"));
        QCOMPARE(parse_error("{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\"}\n"),
                 std::string("data.json: line 2 ($): missing field \"output\""));
        QCOMPARE(parse_error("[]"), std::string("data.json: no Alpaca records"));
        QCOMPARE(parse_error("  \n"), std::string("data.json: empty file, expected Alpaca records"));
        QVERIFY(parse_error("[{\"instruction\": \"a\", ").find("data.json: not valid JSON") == 0);
        QVERIFY(parse_error("{\"instruction\": \"a\", \"output\": \"b\"}\n{oops}\n")
                    .find("data.json: line 2: not valid JSON") == 0);
        QVERIFY(parse_error("\"text\"").find("data.json: expected a JSON array") == 0);
        QVERIFY_THROWS_EXCEPTION(Error, read_alpaca_file(test::test_data("sft/no-such-file.json")));
    }

    // Templates, the trailing space, verbatim braces, whitespace-only input, lengths in code points.
    void promptsAndLengthsMatchTheReference() {
        int checked = 0;
        for (const auto& c : reference()["tokenization"]) {
            const auto& records = c["file"] == "demo" ? demo() : cases();
            const auto& record = records[c["record"].get<size_t>()];
            QCOMPARE(alpaca_prompt(record), c["prompt"].get<std::string>());
            QCOMPARE(alpaca_length_chars(record), c["length"].get<int64_t>());
            ++checked;
        }
        QCOMPARE(checked, 52);
        QVERIFY(alpaca_template_of(cases()[1]) == AlpacaTemplate::Input); // input "  "
        QVERIFY(alpaca_template_of(cases()[0]) == AlpacaTemplate::NoInput);
        QCOMPARE(code_point_count("Ünïcödé ✓ 😀"), int64_t(11));
    }

    // Token ids, source length and labels of every reference case: both templates, special-token
    // texts inside the data, non-ASCII, an empty output, truncation of source and target.
    void tokenizationMatchesTheReference() {
        int truncated_sources = 0, truncated_targets = 0;
        for (const auto& c : reference()["tokenization"]) {
            const auto& records = c["file"] == "demo" ? demo() : cases();
            const auto& record = records[c["record"].get<size_t>()];
            const SftTokenizer tok(tokenizer(c["tokenizer"].get<std::string>()));
            const auto e =
                tok.example(record, c["source_max_len"].get<int64_t>(), c["target_max_len"].get<int64_t>());
            const std::string what = c["tokenizer"].get<std::string>() + " " + c["file"].get<std::string>() +
                                     " " + std::to_string(c["record"].get<int>()) + " at " +
                                     std::to_string(c["source_max_len"].get<int>());
            QVERIFY2(e.ids == ints(c["input_ids"]), what.c_str());
            QVERIFY2(e.labels(false) == ints(c["labels"]), what.c_str());
            QCOMPARE(e.source_tokens, c["source_tokens"].get<int64_t>());
            QCOMPARE(e.length_chars, c["length"].get<int64_t>());
            QVERIFY(e.labels(true) == e.ids);
            truncated_sources += e.source_truncated ? 1 : 0;
            truncated_targets += e.target_truncated ? 1 : 0;
        }
        QVERIFY(truncated_sources > 5);
        QVERIFY(truncated_targets > 5);
        // The source ends in "\n### Response: " with the lone "▁" of the trailing space (PROTOCOL.md
        // section 2). After "\n" inside the prompt "###" has no dummy prefix: "##", "#" (13, 2277,
        // 29937), not the "▁###" (835) of the string "### Response: " encoded alone.
        const auto e = SftTokenizer(tokenizer("llama2")).example(cases()[0], 384, 128);
        const std::vector<int64_t> tail(e.ids.begin() + e.source_tokens - 6, e.ids.begin() + e.source_tokens);
        QVERIFY(tail == std::vector<int64_t>({13, 2277, 29937, 13291, 29901, 29871}));
        QVERIFY(SftTokenizer(tokenizer("llama2")).encode("### Response: ") ==
                std::vector<int64_t>({835, 13291, 29901, 29871}));
        QCOMPARE(e.ids.front(), int64_t(1));
        QCOMPARE(e.ids.back(), int64_t(2));
    }

    void numpyPermutationMatchesNumpy() {
        const auto& s = reference()["split"];
        const auto head = NumpyPcg64(42).permutation(52002);
        QVERIFY(std::vector<int64_t>(head.begin(), head.begin() + 16) == ints(s["permutation_52002_head"]));
        QCOMPARE(NumpyPcg64(7).random_interval(0), uint64_t(0));
    }

    void splitMatchesDatasetsTrainTestSplit() {
        const auto& s = reference()["split"];
        SftDataConfig c;
        c.eval_dataset_size = s["eval_dataset_size"].get<int64_t>();
        c.max_eval_samples = s["max_eval_samples"].get<int64_t>();
        const auto split = split_train_eval(999, c);
        QVERIFY(split.train_rows == ints(s["train_rows"]));
        QVERIFY(split.eval_rows == ints(s["eval_rows"]));
        QCOMPARE(split.held_out, int64_t(64));
        c.max_train_samples = 10;
        QVERIFY(split_train_eval(999, c).train_rows ==
                std::vector<int64_t>(split.train_rows.begin(), split.train_rows.begin() + 10));
        c.eval_dataset_size = 1024; // the recipe's size on the 999-record demo file
        try {
            split_train_eval(999, c);
            QFAIL("a split with no training rows must fail");
        } catch (const Error& e) {
            QCOMPARE(
                std::string(e.what()),
                std::string("eval_dataset_size 1024 leaves no training rows: the data has 999 records (hold "
                            "out fewer)"));
        }
    }

    // HF's get_length_grouped_indices on a seeded torch generator: one draw per pass.
    void lengthGroupedOrderMatchesHf() {
        const auto& s = reference()["split"];
        const auto lengths = ints(s["train_lengths"]);
        const auto batch = s["group_batch_size"].get<int64_t>();
        for (int64_t epoch = 0; epoch < 2; ++epoch)
            QVERIFY(epoch_order(lengths, batch, s["data_seed"].get<uint64_t>(), epoch, true) ==
                    ints(s["orders"][static_cast<size_t>(epoch)]));
        const auto& ties = s["ties"];
        for (int64_t epoch = 0; epoch < 3; ++epoch)
            QVERIFY(epoch_order(ints(ties["lengths"]), ties["batch_size"].get<int64_t>(),
                                ties["seed"].get<uint64_t>(), epoch,
                                true) == ints(ties["orders"][static_cast<size_t>(epoch)]));
        // The demo's lengths come from the records the split keeps for training.
        SftDataConfig c;
        c.eval_dataset_size = 64;
        const auto split = split_train_eval(999, c);
        for (size_t i = 0; i < split.train_rows.size(); ++i)
            QCOMPARE(alpaca_length_chars(demo()[static_cast<size_t>(split.train_rows[i])]), lengths[i]);
        // Without grouping: the plain permutation of the same draw.
        const auto plain = epoch_order(lengths, batch, 42, 0, false);
        QCOMPARE(plain.size(), lengths.size());
        QVERIFY(plain != ints(s["orders"][0]));
    }

    // Right padding to the longest row, -100 on the source and the padding, labels counted after
    // the one-token shift.
    void collatePadsRightAndMasksLabels() {
        const SftTokenizer tok(tokenizer("tok512"));
        const auto a = tok.example(cases()[0], 384, 128), b = tok.example(demo()[1], 384, 128);
        const auto batch = collate_sft_batch({&a, &b}, 7, false);
        const auto width = static_cast<int64_t>(std::max(a.ids.size(), b.ids.size()));
        QCOMPARE(batch.input_ids.size(0), int64_t(2));
        QCOMPARE(batch.input_ids.size(1), width);
        const auto short_row = a.ids.size() < b.ids.size() ? 0 : 1;
        const auto& e = short_row == 0 ? a : b;
        const auto n = static_cast<int64_t>(e.ids.size());
        QVERIFY(batch.input_ids[short_row].slice(0, n).eq(7).all().item<bool>());
        QVERIFY(batch.labels[short_row].slice(0, n).eq(kIgnoreIndex).all().item<bool>());
        QVERIFY(batch.labels[short_row].slice(0, 0, e.source_tokens).eq(kIgnoreIndex).all().item<bool>());
        QCOMPARE(batch.labels[short_row][e.source_tokens].item<int64_t>(),
                 e.ids[static_cast<size_t>(e.source_tokens)]);
        QCOMPARE(batch.label_count, a.target_tokens() + b.target_tokens());
        const auto on_source = collate_sft_batch({&a}, 7, true);
        QCOMPARE(on_source.label_count, static_cast<int64_t>(a.ids.size()) - 1);
    }
};

RILQ_TEST_APPLESS_MAIN(TestSftData)
#include "test_sft_data.moc"
