// Dataset specs, data roots and the three readers on the real files in shared/data. The
// expected strings come from tests/reference/windows_reference.py, which applies HF's
// wikitext row rule and json.loads independently.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <zlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/data/text_sources.h"
#include "core/util/error.h"
#include "core/util/sha256.h"
#include "tests/support/test_support.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json reference() {
    return json::parse(rilq::test::read_file(rilq::test::test_data("windows_reference.json")));
}

// Runs `fn`, expects a rilq::Error whose message contains every one of `needles`.
template <class Fn> void expect_error(Fn fn, const std::vector<std::string>& needles) {
    try {
        fn();
    } catch (const rilq::Error& e) {
        const std::string message = e.what();
        for (const std::string& needle : needles)
            QVERIFY2(message.find(needle) != std::string::npos,
                     ("'" + needle + "' not in: " + message).c_str());
        return;
    }
    QFAIL("expected rilq::Error");
}

void write_gzip(const std::string& path, const std::string& bytes) {
    gzFile out = gzopen(path.c_str(), "wb");
    QVERIFY(out != nullptr);
    QCOMPARE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    QCOMPARE(gzclose(out), Z_OK);
}

} // namespace

class TestTextSources : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // Ranges let calibration and evaluation take disjoint parts of one file: cuts land on line
    // starts, and [0, x) + [x, 1) is the whole text for any x.
    void sliceTextCutsAtLineStarts() {
        const std::string text = "aaa\nbbb\nccc\nddd\n"; // 16 bytes
        QCOMPARE(rilq::slice_text(text, 0.0, 0.5), std::string("aaa\nbbb\n"));
        QCOMPARE(rilq::slice_text(text, 0.5, 1.0), std::string("ccc\nddd\n"));
        QCOMPARE(rilq::slice_text(text, 0.3, 0.6), std::string("bbb\nccc\n")); // bytes 4.8 -> 4, 9.6 -> 12
        for (const double x : {0.01, 0.2, 0.37, 0.5, 0.74, 0.99})
            QCOMPARE(rilq::slice_text(text, 0.0, x) + rilq::slice_text(text, x, 1.0), text);
        QCOMPARE(rilq::slice_indices(10, 0.25, 0.75), (std::pair<size_t, size_t>{2, 7}));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, rilq::slice_text(text, 0.6, 0.5));
        QVERIFY_THROWS_EXCEPTION(rilq::Error, rilq::slice_text(text, -0.1, 0.5));
    }

    void parses_specs();
    void spec_errors_name_the_problem();
    void data_root_finds_standard_files();
    void wikitext_heading_levels();
    void wikitext_test_split_matches_hf_rows();
    void wikitext_rebuild_rule_on_the_tokenized_split();
    void wikitext_raw_file_without_blank_lines();
    void c4_jsonl_matches_python();
    void c4_gzip_round_trip();
    void c4_bad_lines_name_file_and_line();
    void c4_truncated_gzip_is_an_error();
    void text_file_is_verbatim();
};

void TestTextSources::parses_specs() {
    const std::string c4 = rilq::test::shared_data("c4/c4_demo.jsonl");
    const rilq::DatasetSpec spec = rilq::parse_dataset_spec("c4=" + c4);
    QVERIFY(spec.kind == rilq::DatasetKind::C4);
    QCOMPARE(spec.path, c4);
    QCOMPARE(rilq::format_dataset_spec(spec), "c4=" + c4);
    const std::string wt = rilq::test::shared_data("wikitext-2/test.txt");
    const auto list = rilq::parse_dataset_specs("c4=" + c4 + ", wikitext2=" + wt + ",text=" + wt);
    QCOMPARE(list.size(), size_t{3});
    QVERIFY(list[1].kind == rilq::DatasetKind::WikiText2);
    QCOMPARE(list[1].path, wt);
    QVERIFY(list[2].kind == rilq::DatasetKind::Text);
    QCOMPARE(rilq::dataset_kind_name(rilq::DatasetKind::WikiText2), std::string("wikitext2"));
}

void TestTextSources::spec_errors_name_the_problem() {
    expect_error([] { rilq::parse_dataset_spec("ptb=/tmp"); }, {"ptb", "wikitext2, c4, text"});
    expect_error([] { rilq::parse_dataset_spec("wikitext2"); }, {"wikitext2", "NAME=PATH"});
    expect_error([] { rilq::parse_dataset_spec("c4="); }, {"c4=", "empty"});
    expect_error([] { rilq::parse_dataset_spec("c4=/nonexistent/c4.jsonl.gz"); },
                 {"/nonexistent/c4.jsonl.gz", "does not exist"});
    expect_error([] { rilq::parse_dataset_specs("c4=/nonexistent/a,,text=/b"); }, {"/nonexistent/a"});
}

void TestTextSources::data_root_finds_standard_files() {
    const std::string root = rilq::test::shared_data("");
    const auto resolve = [&](rilq::DatasetKind kind, rilq::DataUse use) {
        return fs::path(rilq::resolve_dataset_file(rilq::DatasetSpec{kind, root}, use)).lexically_normal();
    };
    QCOMPARE(resolve(rilq::DatasetKind::WikiText2, rilq::DataUse::Evaluation),
             (fs::path(root) / "wikitext-2-raw/wiki.test.raw").lexically_normal());
    QCOMPARE(resolve(rilq::DatasetKind::C4, rilq::DataUse::Evaluation),
             (fs::path(root) / "c4/c4_demo.jsonl").lexically_normal());
    QCOMPARE(resolve(rilq::DatasetKind::C4, rilq::DataUse::Calibration),
             (fs::path(root) / "c4/c4_demo.jsonl").lexically_normal());
    // No wikitext train split is shared: the error lists the folder and the names tried.
    expect_error([&] { resolve(rilq::DatasetKind::WikiText2, rilq::DataUse::Calibration); },
                 {root, "wiki.train.raw", "wikitext-2/train.txt", "calibration"});
    expect_error([&] { resolve(rilq::DatasetKind::Text, rilq::DataUse::Evaluation); },
                 {root, "must name a file"});
    // A real shard name wins over the demo file, and a file path is taken as is.
    const std::string dir = rilq::test::make_temp_dir("root");
    fs::create_directories(fs::path(dir) / "en");
    rilq::test::write_file(dir + "/c4_demo.jsonl", "{\"text\":\"a\"}\n");
    rilq::test::write_file(dir + "/en/c4-validation.00000-of-00008.json.gz", "x");
    QCOMPARE(rilq::resolve_dataset_file({rilq::DatasetKind::C4, dir}, rilq::DataUse::Evaluation),
             (fs::path(dir) / "en/c4-validation.00000-of-00008.json.gz").string());
    QCOMPARE(rilq::resolve_dataset_file({rilq::DatasetKind::C4, dir + "/c4_demo.jsonl"},
                                        rilq::DataUse::Evaluation),
             dir + "/c4_demo.jsonl");
    fs::copy_file(rilq::test::shared_data("wikitext-2/test.txt"), fs::path(dir) / "test.txt");
    QCOMPARE(rilq::resolve_dataset_file({rilq::DatasetKind::WikiText2, dir}, rilq::DataUse::Evaluation),
             (fs::path(dir) / "test.txt").string());
}

void TestTextSources::wikitext_heading_levels() {
    QCOMPARE(rilq::wikitext_heading_level(" = Robert Boulter = \n"), 1);
    QCOMPARE(rilq::wikitext_heading_level(" = = Career = = \n"), 2);
    QCOMPARE(rilq::wikitext_heading_level(" = = = 2000 – 2005 = = = \n"), 3);
    QCOMPARE(rilq::wikitext_heading_level(" = = Unbalanced = \n"), 0);
    QCOMPARE(rilq::wikitext_heading_level(" Robert Boulter is an English film actor . \n"), 0);
    QCOMPARE(rilq::wikitext_heading_level(" = = \n"), 0);
    QCOMPARE(rilq::wikitext_heading_level(""), 0);
}

void TestTextSources::wikitext_test_split_matches_hf_rows() {
    const json ref = reference().at("sources").at("wikitext2_test_txt");
    const rilq::WikiTextRows rows = rilq::read_wikitext_rows(rilq::test::shared_data("wikitext-2/test.txt"));
    QVERIFY(!rows.layout_rebuilt); // the tokenized split keeps its blank lines
    QCOMPARE(static_cast<int64_t>(rows.rows.size()), ref.at("rows").get<int64_t>());
    QCOMPARE(rows.rows[0], std::string());                       // " \n" -> ""
    QCOMPARE(rows.rows[1], std::string(" = Robert <unk> = \n")); // rows keep their newline
    const std::string eval = rilq::wikitext_eval_text(rows.rows);
    QCOMPARE(static_cast<int64_t>(eval.size()), ref.at("eval_bytes").get<int64_t>());
    QCOMPARE(rilq::sha256_hex(eval), ref.at("eval_sha256").get<std::string>());
    QCOMPARE(eval.substr(0, 22), std::string("\n\n = Robert <unk> = \n\n"));
    const std::string calib = rilq::wikitext_calibration_text(rows.rows);
    QCOMPARE(static_cast<int64_t>(calib.size()), ref.at("calib_bytes").get<int64_t>());
    QCOMPARE(rilq::sha256_hex(calib), ref.at("calib_sha256").get<std::string>());
}

// The blank-row rule, applied to the non-blank rows of a split that kept its layout, gives the
// HF rows back except at the 3 documented places (7 extra "" rows, 14 characters).
void TestTextSources::wikitext_rebuild_rule_on_the_tokenized_split() {
    const json ref = reference().at("sources");
    const rilq::WikiTextRows hf = rilq::read_wikitext_rows(rilq::test::shared_data("wikitext-2/test.txt"));
    std::vector<std::string> nonblank;
    for (const std::string& row : hf.rows)
        if (!row.empty()) nonblank.push_back(row);
    const std::vector<std::string> rebuilt = rilq::rebuild_wikitext_layout(nonblank);
    const json& r = ref.at("wikitext2_test_txt_rebuilt");
    QCOMPARE(static_cast<int64_t>(rebuilt.size()), r.at("rows").get<int64_t>());
    QCOMPARE(rebuilt.size(), hf.rows.size() + 7);
    const std::string eval = rilq::wikitext_eval_text(rebuilt);
    QCOMPARE(rilq::sha256_hex(eval), r.at("eval_sha256").get<std::string>());
    QCOMPARE(eval.size(), rilq::wikitext_eval_text(hf.rows).size() + 14);
    int64_t equal = 0;
    for (size_t i = 0; i < std::min(rebuilt.size(), hf.rows.size()); ++i)
        equal += rebuilt[i] == hf.rows[i] ? 1 : 0;
    QCOMPARE(equal, r.at("rows_equal_by_position").get<int64_t>());
    // Up to the first formula line (row 2148) the rebuilt rows are the HF rows exactly.
    for (size_t i = 0; i < 2148; ++i)
        QCOMPARE(rebuilt[i], hf.rows[i]);
}

void TestTextSources::wikitext_raw_file_without_blank_lines() {
    const json r = reference().at("sources").at("wikitext2_wiki_test_raw");
    const rilq::WikiTextRows rows =
        rilq::read_wikitext_rows(rilq::test::shared_data("wikitext-2-raw/wiki.test.raw"));
    QVERIFY(rows.layout_rebuilt); // CRLF, no blank lines: the TyloQuant re-serialization
    QCOMPARE(static_cast<int64_t>(rows.rows.size()), r.at("rows").get<int64_t>());
    QCOMPARE(rows.rows[1], std::string(" = Robert Boulter = \n")); // CR stripped
    const std::string eval = rilq::wikitext_eval_text(rows.rows);
    QVERIFY(eval.find('\r') == std::string::npos);
    QCOMPARE(static_cast<int64_t>(eval.size()), r.at("eval_bytes").get<int64_t>());
    QCOMPARE(rilq::sha256_hex(eval), r.at("eval_sha256").get<std::string>());
    QCOMPARE(rilq::sha256_hex(rilq::wikitext_calibration_text(rows.rows)),
             r.at("calib_sha256").get<std::string>());
}

void TestTextSources::c4_jsonl_matches_python() {
    const json r = reference().at("sources").at("c4_demo");
    const rilq::DocumentSet docs = rilq::read_c4_documents(rilq::test::shared_data("c4/c4_demo.jsonl"));
    QCOMPARE(static_cast<int64_t>(docs.size()), r.at("documents").get<int64_t>());
    QCOMPARE(static_cast<int64_t>(docs.total_bytes()), r.at("bytes").get<int64_t>());
    std::string joined;
    for (size_t i = 0; i < docs.size(); ++i)
        joined += (i ? "\n" : "") + docs.text(i);
    QCOMPARE(rilq::sha256_hex(joined), r.at("joined_sha256").get<std::string>());
    QVERIFY(docs.text(0).rfind(r.at("first_doc_head").get<std::string>(), 0) == 0); // \u2019 decoded to UTF-8
    QVERIFY_THROWS_EXCEPTION(rilq::Error, docs.view(docs.size()));
}

void TestTextSources::c4_gzip_round_trip() {
    const std::string dir = rilq::test::make_temp_dir("c4gz");
    const std::string plain = rilq::test::shared_data("c4/c4_demo.jsonl");
    const std::string gz = dir + "/c4-validation.00000-of-00008.json.gz";
    write_gzip(gz, rilq::test::read_file(plain));
    QVERIFY(fs::file_size(gz) < fs::file_size(plain) / 2); // really compressed
    const rilq::DocumentSet a = rilq::read_c4_documents(plain);
    const rilq::DocumentSet b = rilq::read_c4_documents(gz);
    QCOMPARE(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i)
        QVERIFY(a.view(i) == b.view(i));
    // CRLF line ends, blank lines and a last line without "\n"; escapes decode to UTF-8.
    const std::string small = dir + "/small.jsonl.gz";
    write_gzip(
        small,
        "{\"text\": \"one\\nline\", \"url\": \"u\"}\r\n\r\n{\"text\": \"caf\\u00e9\"}\n{\"text\":\"last\"}");
    const rilq::DocumentSet c = rilq::read_c4_documents(small);
    QCOMPARE(c.size(), size_t{3});
    QCOMPARE(c.text(0), std::string("one\nline"));
    QCOMPARE(c.text(1), std::string("caf\xc3\xa9"));
    QCOMPARE(c.text(2), std::string("last"));
}

void TestTextSources::c4_bad_lines_name_file_and_line() {
    const std::string dir = rilq::test::make_temp_dir("c4bad");
    const std::string broken = dir + "/broken.jsonl";
    rilq::test::write_file(broken, "{\"text\": \"ok\"}\n\n{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n");
    expect_error([&] { rilq::read_c4_documents(broken); }, {broken, "line 4", "not valid JSON"});
    const std::string no_text = dir + "/no_text.jsonl.gz";
    write_gzip(no_text, "{\"text\": \"ok\"}\n{\"content\": \"x\"}\n");
    expect_error([&] { rilq::read_c4_documents(no_text); }, {no_text, "line 2", "\"text\""});
    const std::string not_string = dir + "/not_string.jsonl";
    rilq::test::write_file(not_string, "{\"text\": 12}\n");
    expect_error([&] { rilq::read_c4_documents(not_string); }, {not_string, "line 1", "string", "number"});
    const std::string array = dir + "/array.jsonl";
    rilq::test::write_file(array, "[1, 2]\n");
    expect_error([&] { rilq::read_c4_documents(array); }, {array, "line 1", "object"});
    const std::string empty = dir + "/empty.jsonl";
    rilq::test::write_file(empty, "\n\n");
    expect_error([&] { rilq::read_c4_documents(empty); }, {empty, "no documents"});
    expect_error([&] { rilq::read_c4_documents(dir + "/absent.jsonl"); }, {dir + "/absent.jsonl"});
}

void TestTextSources::c4_truncated_gzip_is_an_error() {
    const std::string dir = rilq::test::make_temp_dir("c4trunc");
    const std::string gz = dir + "/whole.jsonl.gz";
    write_gzip(gz, rilq::test::read_file(rilq::test::shared_data("c4/c4_demo.jsonl")));
    const std::string bytes = rilq::test::read_file(gz);
    const std::string cut = dir + "/cut.jsonl.gz";
    rilq::test::write_file(cut, bytes.substr(0, bytes.size() / 2));
    expect_error([&] { rilq::read_c4_documents(cut); }, {cut});
}

void TestTextSources::text_file_is_verbatim() {
    const std::string path = rilq::test::shared_data("tinystories/tinystories_val.txt");
    const std::string text = rilq::read_text_file(path);
    QCOMPARE(text.size(), size_t{794375}); // PROVENANCE.md
    QCOMPARE(rilq::sha256_hex(text),
             std::string("5fc1fb0113df62b567fb271806cd645ce8d75f59c58ca0b764c03d3b6ff34ca6"));
    expect_error([] { rilq::read_text_file("/nonexistent/story.txt"); }, {"/nonexistent/story.txt"});
}

RILQ_TEST_APPLESS_MAIN(TestTextSources)
#include "test_text_sources.moc"
