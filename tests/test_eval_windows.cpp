// Evaluation windows against tests/reference/windows_reference.py, which runs GPTQ's c4
// sampling loop with CPython's `random` and the same byte tokenizer (tests/support/byte_tokenizer.h).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/data/eval_windows.h"
#include "core/data/python_random.h"
#include "core/util/error.h"
#include "tests/support/byte_tokenizer.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"
#include "tests/support/token_window_sums.h"

using nlohmann::json;

namespace {
using rilq::test::expect_error;
using rilq::test::row_sum;

json eval_windows_reference() {
    return json::parse(rilq::test::read_file(rilq::test::test_data("windows_reference.json")));
}

// fixture rows: [source, document, offset, draws, sum of ids, first id]
void compare_c4(const rilq::TokenWindows& got, const json& expected, const rilq::DocumentSet& docs) {
    QCOMPARE(got.count(), static_cast<int64_t>(expected.size()));
    const rilq::test::ByteTokenizer tok;
    for (int64_t i = 0; i < got.count(); ++i) {
        const json& e = expected.at(static_cast<size_t>(i));
        const rilq::WindowOrigin& o = got.origins[static_cast<size_t>(i)];
        const std::string where = "window " + std::to_string(i);
        QVERIFY2(o.document == e.at(1).get<int64_t>(),
                 (where + " document " + std::to_string(o.document)).c_str());
        QVERIFY2(o.offset == e.at(2).get<int64_t>(), (where + " offset " + std::to_string(o.offset)).c_str());
        QCOMPARE(o.draws, e.at(3).get<int64_t>());
        QCOMPARE(row_sum(got, i), e.at(4).get<int64_t>());
        QCOMPARE(got.row(i)[0], e.at(5).get<int64_t>());
        // The window is exactly the document's tokens at that offset.
        const std::vector<int64_t> ids = tok.encode(docs.text(static_cast<size_t>(o.document)), true);
        QVERIFY(std::equal(got.row(i), got.row(i) + got.seqlen, ids.begin() + o.offset));
    }
}

} // namespace

class TestEvalWindows : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void c4_sampling_matches_python();
    void c4_protocol_record();
    void wikitext2_stream_windows();
    void wikitext2_raw_file_via_data_root();
    void text_stream_windows();
    void max_windows_keeps_the_first();
    void document_of_exactly_seqlen_is_taken_whole();
    void errors_say_why();
    void progress_and_cancel();
};

void TestEvalWindows::c4_sampling_matches_python() {
    const json ref = eval_windows_reference().at("eval");
    const rilq::DocumentSet docs = rilq::read_c4_documents(rilq::test::shared_data("c4/c4_demo.jsonl"));
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 1024;
    options.c4_windows = 32;
    compare_c4(rilq::sample_c4_eval_windows(docs, tok, options), ref.at("c4_demo_seqlen1024_w32"), docs);
    options.seqlen = 4096; // most documents are shorter: many rejected draws
    options.c4_windows = 8;
    compare_c4(rilq::sample_c4_eval_windows(docs, tok, options), ref.at("c4_demo_seqlen4096_w8"), docs);
}

void TestEvalWindows::c4_protocol_record() {
    const std::string file = rilq::test::shared_data("c4/c4_demo.jsonl");
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 1024;
    options.c4_windows = 32;
    const rilq::EvalWindows ev =
        rilq::build_eval_windows(rilq::parse_dataset_spec("c4=" + file), tok, options);
    const rilq::EvalProtocol& p = ev.protocol;
    QCOMPARE(p.dataset, std::string("c4"));
    QCOMPARE(p.spec, "c4=" + file);
    QCOMPARE(p.file, file);
    QCOMPARE(p.file_sha256, std::string("f51528081ef22279f2840c02c4cd7cdfc372138be0817c5b8714d200af692b78"));
    QCOMPARE(p.tokenizer_kind, std::string("toy-bytes"));
    QCOMPARE(p.seqlen, int64_t{1024});
    QCOMPARE(p.n_windows, int64_t{32});
    QCOMPARE(p.n_tokens, int64_t{32 * 1024});
    QCOMPARE(p.documents, int64_t{300});
    QVERIFY(p.sampling.find("random.seed(0)") != std::string::npos);
    const rilq::DocumentSet docs = rilq::read_c4_documents(file);
    compare_c4(ev.windows, eval_windows_reference().at("eval").at("c4_demo_seqlen1024_w32"), docs);
    const at::Tensor t = rilq::to_tensor(ev.windows); // (n_windows, seqlen)
    QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{32, 1024}));
    QVERIFY(t.scalar_type() == torch::kInt64);
    QCOMPARE(t[3].sum().item<int64_t>(), row_sum(ev.windows, 3));
    const json j = p;
    QCOMPARE(j.at("file_sha256").get<std::string>(), p.file_sha256);
    QCOMPARE(j.at("n_windows").get<int64_t>(), int64_t{32});
    QCOMPARE(j.at("sampling").get<std::string>(), p.sampling);
}

void TestEvalWindows::wikitext2_stream_windows() {
    const json r = eval_windows_reference().at("eval").at("wikitext2_test_txt_seqlen2048");
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 2048;
    const std::string file = rilq::test::shared_data("wikitext-2/test.txt");
    const rilq::EvalWindows ev = rilq::build_eval_windows({rilq::DatasetKind::WikiText2, file}, tok, options);
    QCOMPARE(ev.protocol.stream_tokens, r.at("stream_tokens").get<int64_t>());
    QCOMPARE(ev.protocol.n_windows, r.at("n_windows").get<int64_t>());
    QCOMPARE(ev.protocol.n_windows, ev.protocol.stream_tokens / 2048); // floor, tail dropped
    QCOMPARE(ev.protocol.documents, int64_t{4358});
    QCOMPARE(row_sum(ev.windows, 0), r.at("first_sum").get<int64_t>());
    QCOMPARE(row_sum(ev.windows, ev.windows.count() - 1), r.at("last_sum").get<int64_t>());
    // BOS once, at the very start; windows are consecutive slices of one stream.
    QCOMPARE(ev.windows.row(0)[0], int64_t{1});
    for (int64_t k = 1; k < ev.windows.count(); ++k) {
        QCOMPARE(ev.windows.origins[static_cast<size_t>(k)].offset, k * 2048);
        QVERIFY(ev.windows.row(k)[0] != 1);
    }
    const std::string stream = rilq::wikitext_eval_text(rilq::read_wikitext_rows(file).rows);
    QCOMPARE(tok.decode(ev.windows.row_vector(1)),
             stream.substr(2047, 2048)); // stream offset 2048 = byte 2047
    QVERIFY(ev.protocol.sampling.find("rebuilt") == std::string::npos);
}

void TestEvalWindows::wikitext2_raw_file_via_data_root() {
    const json r = eval_windows_reference().at("eval").at("wikitext2_wiki_test_raw_seqlen2048");
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 2048;
    const rilq::EvalWindows ev = rilq::build_eval_windows(
        rilq::parse_dataset_spec("wikitext2=" + rilq::test::shared_data("")), tok, options);
    QVERIFY(ev.protocol.file.find("wikitext-2-raw/wiki.test.raw") != std::string::npos);
    QCOMPARE(ev.protocol.file_sha256,
             std::string("4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c"));
    QCOMPARE(ev.protocol.stream_tokens, r.at("stream_tokens").get<int64_t>());
    QCOMPARE(ev.protocol.n_windows, r.at("n_windows").get<int64_t>());
    QCOMPARE(row_sum(ev.windows, 0), r.at("first_sum").get<int64_t>());
    QCOMPARE(row_sum(ev.windows, ev.windows.count() - 1), r.at("last_sum").get<int64_t>());
    QVERIFY(ev.protocol.sampling.find("rebuilt") != std::string::npos);
}

void TestEvalWindows::text_stream_windows() {
    const json r = eval_windows_reference().at("eval").at("tinystories_seqlen4096");
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 4096;
    const rilq::EvalWindows ev = rilq::build_eval_windows(
        rilq::parse_dataset_spec("text=" + rilq::test::shared_data("tinystories/tinystories_val.txt")), tok,
        options);
    QCOMPARE(ev.protocol.stream_tokens, int64_t{794375 + 1}); // bytes + BOS
    QCOMPARE(ev.protocol.stream_tokens, r.at("stream_tokens").get<int64_t>());
    QCOMPARE(ev.protocol.n_windows, r.at("n_windows").get<int64_t>());
    QCOMPARE(row_sum(ev.windows, 0), r.at("first_sum").get<int64_t>());
    QCOMPARE(row_sum(ev.windows, ev.windows.count() - 1), r.at("last_sum").get<int64_t>());
}

void TestEvalWindows::max_windows_keeps_the_first() {
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 1024;
    options.c4_windows = 32;
    options.max_windows = 5;
    const std::string file = rilq::test::shared_data("c4/c4_demo.jsonl");
    const rilq::EvalWindows ev = rilq::build_eval_windows({rilq::DatasetKind::C4, file}, tok, options);
    const json all = eval_windows_reference().at("eval").at("c4_demo_seqlen1024_w32");
    compare_c4(ev.windows, json(std::vector<json>(all.begin(), all.begin() + 5)),
               rilq::read_c4_documents(file));
    QCOMPARE(ev.protocol.n_tokens, int64_t{5 * 1024});
    QVERIFY(ev.protocol.sampling.find("first 5") != std::string::npos);
    const std::vector<int64_t> stream(10000, 7);
    QCOMPARE(rilq::stream_windows(stream, 1000, 3).count(), int64_t{3});
    QCOMPARE(rilq::stream_windows(stream, 1000, 0).count(), int64_t{10});
    QCOMPARE(rilq::stream_windows(stream, 999, 0).count(), int64_t{10}); // 10000 / 999
}

// Python's randint(0, -1) raises for such a document; we take it whole and draw no offset.
// Replayed here with PythonRandom: doc 0 has exactly seqlen tokens, doc 1 has more.
void TestEvalWindows::document_of_exactly_seqlen_is_taken_whole() {
    rilq::DocumentSet docs;
    docs.add("abc");      // 4 tokens with BOS
    docs.add("abcdefgh"); // 9 tokens with BOS
    const rilq::test::ByteTokenizer tok;
    rilq::EvalWindowOptions options;
    options.seqlen = 4;
    options.c4_windows = 12;
    const rilq::TokenWindows got = rilq::sample_c4_eval_windows(docs, tok, options);
    rilq::PythonRandom rng(0);
    bool saw_whole = false;
    bool saw_offset = false;
    for (int64_t w = 0; w < 12; ++w) {
        const int64_t doc = rng.randint(0, 1);
        const int64_t offset = doc == 0 ? 0 : rng.randint(0, 9 - 4 - 1);
        QCOMPARE(got.origins[static_cast<size_t>(w)].document, doc);
        QCOMPARE(got.origins[static_cast<size_t>(w)].offset, offset);
        const std::vector<int64_t> ids = tok.encode(docs.text(static_cast<size_t>(doc)), true);
        QCOMPARE(got.row_vector(w), std::vector<int64_t>(ids.begin() + offset, ids.begin() + offset + 4));
        saw_whole = saw_whole || doc == 0;
        saw_offset = saw_offset || doc == 1;
    }
    QVERIFY(saw_whole && saw_offset); // both branches were exercised
}

void TestEvalWindows::errors_say_why() {
    const rilq::test::ByteTokenizer tok;
    rilq::DocumentSet docs;
    docs.add("short");
    docs.add("tiny");
    rilq::EvalWindowOptions options;
    options.seqlen = 64;
    expect_error([&] { rilq::sample_c4_eval_windows(docs, tok, options); },
                 {"no document", "64", "longest has 6"});
    const std::string dir = rilq::test::make_temp_dir("evalerr");
    rilq::test::write_file(dir + "/small.txt", "only a few bytes");
    expect_error(
        [&] {
            rilq::build_eval_windows({rilq::DatasetKind::Text, dir + "/small.txt"}, tok, options);
        },
        {dir + "/small.txt", "17 tokens", "seqlen 64"});
    options.seqlen = 0;
    expect_error(
        [&] {
            rilq::build_eval_windows({rilq::DatasetKind::Text, dir + "/small.txt"}, tok, options);
        },
        {"seqlen"});
}

void TestEvalWindows::progress_and_cancel() {
    const rilq::test::ByteTokenizer tok;
    const rilq::DocumentSet docs = rilq::read_c4_documents(rilq::test::shared_data("c4/c4_demo.jsonl"));
    rilq::EvalWindowOptions options;
    options.seqlen = 512;
    options.c4_windows = 6;
    std::vector<int64_t> done;
    rilq::ProgressSink sink;
    sink.on_progress = [&](const rilq::ProgressInfo& info) {
        QCOMPARE(info.total, int64_t{6});
        done.push_back(info.done);
    };
    rilq::sample_c4_eval_windows(docs, tok, options, sink);
    QCOMPARE(done, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
    rilq::CancelToken cancel;
    cancel.cancel();
    sink.cancel = &cancel;
    QVERIFY_THROWS_EXCEPTION(rilq::Cancelled, rilq::sample_c4_eval_windows(docs, tok, options, sink));
}

RILQ_TEST_APPLESS_MAIN(TestEvalWindows)
#include "test_eval_windows.moc"
