// RILQ calibration windows against tests/reference/windows_reference.py, which runs RILQ's
// get_calib_dataset / get_dataset logic with CPython's `random` and the byte tokenizer.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/data/calibration.h"
#include "core/util/error.h"
#include "tests/support/byte_tokenizer.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"
#include "tests/support/token_window_sums.h"

using nlohmann::json;

namespace {
using rilq::test::expect_error;
using rilq::test::row_sum;

json reference(const std::string& name) {
    static const json all =
        json::parse(rilq::test::read_file(rilq::test::test_data("windows_reference.json")));
    return all.at("calibration").at(name);
}

std::string c4_file() {
    return rilq::test::shared_data("c4/c4_demo.jsonl");
}
std::string stories_file() {
    return rilq::test::shared_data("tinystories/tinystories_val.txt");
}

// fixture rows: [source, document, offset, draws, sum of ids]
void compare(const rilq::TokenWindows& got, const json& expected, const std::string& part) {
    QVERIFY2(
        got.count() == static_cast<int64_t>(expected.size()),
        (part + ": " + std::to_string(got.count()) + " windows, Python " + std::to_string(expected.size()))
            .c_str());
    for (int64_t i = 0; i < got.count(); ++i) {
        const json& e = expected.at(static_cast<size_t>(i));
        const rilq::WindowOrigin& o = got.origins[static_cast<size_t>(i)];
        const std::string where = part + " window " + std::to_string(i);
        QVERIFY2(o.source == e.at(0).get<int64_t>(), where.c_str());
        QVERIFY2(o.document == e.at(1).get<int64_t>(),
                 (where + " document " + std::to_string(o.document)).c_str());
        QVERIFY2(o.offset == e.at(2).get<int64_t>(), (where + " offset " + std::to_string(o.offset)).c_str());
        QVERIFY2(o.draws == e.at(3).get<int64_t>(), where.c_str());
        QVERIFY2(row_sum(got, i) == e.at(4).get<int64_t>(), where.c_str());
    }
}

rilq::CalibrationSet build(const std::vector<rilq::CalibrationSource>& sources, int64_t seqlen,
                           double val_ratio) {
    const rilq::test::ByteTokenizer tok;
    rilq::CalibrationOptions options;
    options.seqlen = seqlen;
    options.val_ratio = val_ratio;
    return rilq::build_calibration(sources, tok, options);
}

} // namespace

class TestCalibration : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void c4_matches_rilq();
    void text_matches_rilq();
    void wikitext2_matches_rilq();
    void mixed_datasets_match_rilq();
    void no_validation_split();
    void zero_count_dataset_is_skipped();
    void sources_from_counts();
    void errors_say_why();
};

void TestCalibration::c4_matches_rilq() {
    const rilq::CalibrationSet set = build({{{rilq::DatasetKind::C4, c4_file()}, 40}}, 512, 0.2);
    const json ref = reference("c4_L512_n40_r0.2");
    compare(set.train, ref.at("train"), "train");
    compare(set.val, ref.at("val"), "val");
    // Each window is the drawn document's tokens at the drawn offset, and the document is
    // longer than L (strict, unlike evaluation's >=).
    const rilq::DocumentSet docs = rilq::read_c4_documents(c4_file());
    const rilq::test::ByteTokenizer tok;
    for (int64_t i = 0; i < set.train.count(); ++i) {
        const rilq::WindowOrigin& o = set.train.origins[static_cast<size_t>(i)];
        const std::vector<int64_t> ids = tok.encode(docs.text(static_cast<size_t>(o.document)), true);
        QVERIFY(static_cast<int64_t>(ids.size()) > 512);
        QCOMPARE(set.train.row_vector(i),
                 std::vector<int64_t>(ids.begin() + o.offset, ids.begin() + o.offset + 512));
    }
    const at::Tensor train = rilq::to_tensor(set.train); // (N_train, L)
    const at::Tensor val = rilq::to_tensor(set.val);     // (N_val, L)
    QCOMPARE(train.sizes().vec(), (std::vector<int64_t>{32, 512}));
    QCOMPARE(val.sizes().vec(), (std::vector<int64_t>{8, 512}));
    QVERIFY(train.scalar_type() == torch::kInt64);
    QCOMPARE(set.files, std::vector<std::string>{c4_file()});
    QCOMPARE(set.file_sha256,
             std::vector<std::string>{"f51528081ef22279f2840c02c4cd7cdfc372138be0817c5b8714d200af692b78"});
    QVERIFY(set.description.find("32 train, 8 validation") != std::string::npos);
}

void TestCalibration::text_matches_rilq() {
    const rilq::CalibrationSet set = build({{{rilq::DatasetKind::Text, stories_file()}, 20}}, 256, 0.2);
    const json ref = reference("text_L256_n20_r0.2");
    compare(set.train, ref.at("train"), "train");
    compare(set.val, ref.at("val"), "val");
    const std::string text = rilq::read_text_file(stories_file());
    const rilq::test::ByteTokenizer tok;
    const rilq::WindowOrigin& o = set.val.origins[0];
    QCOMPARE(tok.decode(set.val.row_vector(0)),
             text.substr(static_cast<size_t>(o.offset - 1), 256)); // BOS at 0
}

// RILQ reads the wikitext2 *train* split, which is not shared; the validation split stands in.
void TestCalibration::wikitext2_matches_rilq() {
    const rilq::CalibrationSet set = build(
        {{{rilq::DatasetKind::WikiText2, rilq::test::shared_data("wikitext-2/valid.txt")}, 10}}, 256, 0.2);
    const json ref = reference("wikitext2_valid_L256_n10_r0.2");
    compare(set.train, ref.at("train"), "train");
    compare(set.val, ref.at("val"), "val");
    QVERIFY(set.description.find("first 1000 rows") != std::string::npos);
}

void TestCalibration::mixed_datasets_match_rilq() {
    const auto specs = rilq::parse_dataset_specs("c4=" + c4_file() + ",text=" + stories_file());
    const rilq::CalibrationSet set = build(rilq::calibration_sources(specs, {12, 8}), 512, 0.25);
    const json ref = reference("mix_c4_12_text_8_L512_r0.25");
    compare(set.train, ref.at("train"), "train"); // 9 c4 + 6 text, shuffled together
    compare(set.val, ref.at("val"), "val");       // 3 c4 + 2 text
    QCOMPARE(set.files.size(), size_t{2});
}

void TestCalibration::no_validation_split() {
    const rilq::CalibrationSet set = build({{{rilq::DatasetKind::C4, c4_file()}, 6}}, 512, 0.0);
    compare(set.train, reference("c4_L512_n6_r0").at("train"), "train");
    QCOMPARE(set.val.count(), int64_t{0});
    QCOMPARE(rilq::to_tensor(set.val).sizes().vec(), (std::vector<int64_t>{0, 512}));
}

// RILQ `continue`s past a dataset with 0 samples: no re-seed, no draws.
void TestCalibration::zero_count_dataset_is_skipped() {
    const rilq::CalibrationSet alone = build({{{rilq::DatasetKind::Text, stories_file()}, 20}}, 256, 0.2);
    const rilq::CalibrationSet mixed = build(
        {{{rilq::DatasetKind::C4, c4_file()}, 0}, {{rilq::DatasetKind::Text, stories_file()}, 20}}, 256, 0.2);
    QCOMPARE(mixed.train.ids, alone.train.ids);
    QCOMPARE(mixed.val.ids, alone.val.ids);
    QCOMPARE(mixed.train.origins[0].source, int64_t{1});
}

void TestCalibration::sources_from_counts() {
    const auto specs =
        rilq::parse_dataset_specs("c4=" + c4_file() + ",text=" + stories_file() + ",c4=" + c4_file());
    const auto even = rilq::calibration_sources(specs, {320});
    QCOMPARE(even.size(), size_t{3});
    QCOMPARE(even[0].n_samples, int64_t{107});
    QCOMPARE(even[1].n_samples, int64_t{107});
    QCOMPARE(even[2].n_samples, int64_t{106});
    const auto each = rilq::calibration_sources(specs, {10, 0, 5});
    QCOMPARE(each[1].n_samples, int64_t{0});
    QVERIFY(each[1].spec.kind == rilq::DatasetKind::Text);
    expect_error([&] { rilq::calibration_sources(specs, {1, 2}); }, {"2 sample counts for 3 datasets"});
    expect_error([&] { rilq::calibration_sources(specs, {-1}); }, {"-1"});
}

void TestCalibration::errors_say_why() {
    // int(3 * 0.2) == 0: RILQ would put every sample into validation.
    expect_error(
        [] {
            build({{{rilq::DatasetKind::C4, c4_file()}, 3}}, 512, 0.2);
        },
        {"c4", "int(3", "validation"});
    // No c4 document longer than L.
    expect_error(
        [] {
            build({{{rilq::DatasetKind::C4, c4_file()}, 10}}, 1000000, 0.2);
        },
        {c4_file(), "no document"});
    // A stream of <= L tokens.
    const std::string dir = rilq::test::make_temp_dir("calerr");
    rilq::test::write_file(dir + "/short.txt", "abc");
    expect_error(
        [&] {
            build({{{rilq::DatasetKind::Text, dir + "/short.txt"}, 5}}, 4, 0.2);
        },
        {dir + "/short.txt", "4 tokens", "at least 5"});
    expect_error([] { build({{{rilq::DatasetKind::Text, stories_file()}, 5}}, 64, 1.0); }, {"val_ratio"});
    expect_error(
        [] {
            build({{{rilq::DatasetKind::Text, stories_file()}, 0}}, 64, 0.2);
        },
        {"no training windows"});
}

RILQ_TEST_APPLESS_MAIN(TestCalibration)
#include "test_calibration.moc"
