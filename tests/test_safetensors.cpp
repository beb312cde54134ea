// The safetensors reader and writer: round trips, byte-for-byte agreement with an independent
// writer (tests/reference/make_safetensors_fixture.py), and every kind of corrupt file refused
// with a message that names the file and the tensor.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
using rilq::test::error_of;

// Runs `f`, which must throw rilq::Error; returns the message (empty if nothing was thrown).

// Asserts the message contains every fragment (file name, tensor, what went wrong).
#define EXPECT_ERROR(expr, ...)                                                                              \
    do {                                                                                                     \
        const std::string message_ = error_of([&] { (void)(expr); });                                        \
        QVERIFY2(!message_.empty(), "expected rilq::Error from " #expr);                                     \
        for (const std::string& fragment_ : std::vector<std::string>{__VA_ARGS__})                           \
            QVERIFY2(message_.find(fragment_) != std::string::npos,                                          \
                     ("message lacks \"" + fragment_ + "\": " + message_).c_str());                          \
    } while (0)

// A safetensors file from raw parts: u64 header length, header text, data bytes.
std::string raw_file(const std::string& header, const std::string& data) {
    std::string bytes(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(bytes.data(), &n, 8);
    return bytes + header + data;
}

torch::Dtype torch_dtype_of(const std::string& st) {
    static const std::map<std::string, torch::Dtype> m = {
        {"F64", torch::kFloat64},   {"F32", torch::kFloat32}, {"F16", torch::kFloat16},
        {"BF16", torch::kBFloat16}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
        {"I16", torch::kInt16},     {"I8", torch::kInt8},     {"U8", torch::kUInt8},
        {"BOOL", torch::kBool}};
    return m.at(st);
}

// A tensor of the fixture's values, built from JSON numbers (the independent description).
torch::Tensor tensor_from_json(const json& spec) {
    const auto shape = spec.at("shape").get<std::vector<int64_t>>();
    const auto dtype = torch_dtype_of(spec.at("dtype").get<std::string>());
    std::vector<double> values;
    for (const auto& v : spec.at("values"))
        values.push_back(v.get<double>());
    if (dtype == torch::kInt64) {
        // int64 extremes do not survive a double: take them as integers.
        std::vector<int64_t> ints;
        for (const auto& v : spec.at("values"))
            ints.push_back(v.get<int64_t>());
        return torch::tensor(ints, torch::kInt64).reshape(shape);
    }
    return torch::tensor(values, torch::kFloat64).to(dtype).reshape(shape);
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void round_trips_every_dtype_with_metadata();
    void header_is_compact_and_aligned();
    void reads_independent_fixture();
    void writes_byte_identical_to_independent_writer();
    void tensor_outlives_the_mapping();
    void mapped_tensor_reads_in_place();
    void rejects_truncated_files();
    void rejects_header_length_beyond_file();
    void rejects_invalid_json();
    void rejects_unknown_dtype();
    void rejects_offsets_outside_data();
    void rejects_overlapping_tensors();
    void rejects_length_shape_mismatch();
    void rejects_holes_in_data_area();
    void rejects_malformed_entries();
    void writer_refuses_bad_input_and_keeps_old_file();
};

void TestSafetensors::round_trips_every_dtype_with_metadata() {
    const std::string path = rilq::test::make_temp_dir("st") + "/round.safetensors";
    torch::manual_seed(0);
    const auto f32 = torch::randn({5, 7});
    const auto bf16 = torch::randn({3, 4}).to(torch::kBFloat16);
    const auto f16 = torch::randn({2, 9}).to(torch::kFloat16);
    const auto i64 =
        torch::tensor(std::vector<int64_t>{-(int64_t{1} << 62), -1, 0, 1, (int64_t{1} << 40) + 3});
    const auto empty = torch::empty({0, 4});
    const auto boolean = torch::tensor(std::vector<int64_t>{1, 0, 1}).to(torch::kBool);
    // Written out of alphabetical order: the file keeps the given order.
    const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
        {"z.f32", f32}, {"a.bf16", bf16}, {"m.f16", f16}, {"ids", i64}, {"empty", empty}, {"mask", boolean}};
    const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                         {"note", "caf\xc3\xa9 \"quoted\""}};
    rilq::save_safetensors(path, tensors, metadata);

    rilq::SafetensorsFile file(path);
    QCOMPARE(file.names(), (std::vector<std::string>{"z.f32", "a.bf16", "m.f16", "ids", "empty", "mask"}));
    QCOMPARE(file.metadata(), metadata);
    for (const auto& [name, t] : tensors) {
        const auto back = file.tensor(name);
        QCOMPARE(back.scalar_type(), t.scalar_type());
        QCOMPARE(back.sizes().vec(), t.sizes().vec());
        QVERIFY2(torch::equal(back, t), name.c_str());
    }
    QCOMPARE(file.entry("a.bf16").dtype, std::string("BF16"));
    QCOMPARE(file.entry("m.f16").dtype, std::string("F16"));
    QCOMPARE(file.entry("empty").begin, file.entry("empty").end);
    QVERIFY(file.contains("ids"));
    QVERIFY(!file.contains("missing"));
    EXPECT_ERROR(file.tensor("missing"), path, "\"missing\"");

    // Non-contiguous input is written as its logical (contiguous) values.
    const auto transposed = f32.t();
    rilq::save_safetensors(path, {{"t", transposed}});
    QVERIFY(torch::equal(rilq::SafetensorsFile(path).tensor("t"), transposed));
}

void TestSafetensors::header_is_compact_and_aligned() {
    const std::string path = rilq::test::make_temp_dir("st") + "/aligned.safetensors";
    rilq::save_safetensors(path, {{"a", torch::ones({3})}}, {{"format", "pt"}});
    const std::string bytes = rilq::test::read_file(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    QCOMPARE(n % 8, uint64_t{0});
    const std::string header = bytes.substr(8, n);
    const std::string expected =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
    QCOMPARE(header.substr(0, expected.size()), expected);
    QCOMPARE(header.substr(expected.size()), std::string(n - expected.size(), ' '));
    QCOMPARE(bytes.size(), 8 + n + 12);
}

void TestSafetensors::reads_independent_fixture() {
    const json ref =
        json::parse(rilq::test::read_file(rilq::test::test_data("safetensors/reference_values.json")));
    rilq::SafetensorsFile file(rilq::test::test_data("safetensors/reference.safetensors"));
    QCOMPARE(file.names(), ref.at("order").get<std::vector<std::string>>());
    QCOMPARE(file.metadata(), (ref.at("metadata").get<std::map<std::string, std::string>>()));
    for (const auto& [name, spec] : ref.at("tensors").items()) {
        const auto t = file.tensor(name);
        const auto expected = tensor_from_json(spec);
        QCOMPARE(file.entry(name).dtype, spec.at("dtype").get<std::string>());
        QCOMPARE(t.scalar_type(), expected.scalar_type());
        QCOMPARE(t.sizes().vec(), expected.sizes().vec());
        QVERIFY2(torch::equal(t, expected), name.c_str());
    }
    // Spot values straight from the script, so a shared bug in both conversions cannot hide.
    QCOMPARE(file.tensor("scale.bf16").to(torch::kFloat32)[0][1].item<float>(), -2.5f);
    QCOMPARE(file.tensor("ids")[1][1].item<int64_t>(), (int64_t{1} << 40) + 7);
    QCOMPARE(file.tensor("scalar").item<float>(), 7.5f);
    QCOMPARE(file.tensor("half")[1][0].item<float>(), 65504.0f);
}

void TestSafetensors::writes_byte_identical_to_independent_writer() {
    const json ref =
        json::parse(rilq::test::read_file(rilq::test::test_data("safetensors/reference_values.json")));
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& name : ref.at("order"))
        tensors.emplace_back(name, tensor_from_json(ref.at("tensors").at(name)));
    const std::string path = rilq::test::make_temp_dir("st") + "/ours.safetensors";
    rilq::save_safetensors(path, tensors, ref.at("metadata").get<std::map<std::string, std::string>>());
    const std::string ours = rilq::test::read_file(path);
    const std::string theirs =
        rilq::test::read_file(rilq::test::test_data("safetensors/reference.safetensors"));
    QCOMPARE(ours.size(), theirs.size());
    QVERIFY(ours == theirs);
}

void TestSafetensors::tensor_outlives_the_mapping() {
    const std::string path = rilq::test::make_temp_dir("st") + "/own.safetensors";
    const auto w = torch::arange(12, torch::kFloat32).reshape({3, 4});
    rilq::save_safetensors(path, {{"w", w}});
    torch::Tensor t;
    {
        rilq::SafetensorsFile file(path);
        t = file.tensor("w");
    }
    fs::remove(path);
    QVERIFY(torch::equal(t, w));
}

void TestSafetensors::mapped_tensor_reads_in_place() {
    // Two tensors, the second starting mid-page: each view equals the owned copy, reads its own
    // mapping (it outlives the file object and the file's name), and is flagged as mapped.
    const std::string path = rilq::test::make_temp_dir("st") + "/mapped.safetensors";
    const auto a = torch::arange(1000, torch::kFloat32).reshape({10, 100});
    const auto b = torch::linspace(-3, 3, 2 * 1531, torch::kFloat32).to(torch::kBFloat16).reshape({2, 1531});
    rilq::save_safetensors(path, {{"a", a}, {"b", b}});
    torch::Tensor ma, mb;
    {
        rilq::SafetensorsFile file(path);
        ma = file.mapped_tensor("a");
        mb = file.mapped_tensor("b");
        QVERIFY(rilq::is_file_mapped(ma) && rilq::is_file_mapped(mb));
        QVERIFY(!rilq::is_file_mapped(file.tensor("b")));
        QVERIFY(torch::equal(mb, file.tensor("b")));
    }
    fs::remove(path);
    QCOMPARE(ma.scalar_type(), torch::kFloat32);
    QCOMPARE(mb.sizes().vec(), (std::vector<int64_t>{2, 1531}));
    QVERIFY(torch::equal(ma, a));
    QVERIFY(torch::equal(mb, b));
    QVERIFY(torch::equal(torch::embedding(mb, torch::tensor({1, 0, 1}, torch::kLong)),
                         torch::stack({b[1], b[0], b[1]})));
    QVERIFY(!rilq::is_file_mapped(torch::Tensor()) && !rilq::is_file_mapped(a));

    // Data not aligned to its element size (a header of odd length) is not viewed in place.
    std::string header = R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
    if (header.size() % 2 == 0) header += ' ';
    const std::string odd = rilq::test::make_temp_dir("st") + "/odd.safetensors";
    rilq::test::write_file(odd, raw_file(header, std::string("\x80\x3f\x00\x40", 4)));
    rilq::SafetensorsFile file(odd);
    QVERIFY(!file.mapped_tensor("w").defined());
    QVERIFY(torch::equal(file.tensor("w"), torch::tensor({1.0f, 2.0f}).to(torch::kBFloat16)));
}

void TestSafetensors::rejects_truncated_files() {
    const std::string dir = rilq::test::make_temp_dir("st");
    const std::string good = dir + "/good.safetensors";
    rilq::save_safetensors(good, {{"first", torch::ones({4})}, {"last.weight", torch::ones({8})}});
    const std::string bytes = rilq::test::read_file(good);

    const std::string cut = dir + "/cut.safetensors";
    rilq::test::write_file(cut, bytes.substr(0, bytes.size() - 5));
    EXPECT_ERROR(rilq::SafetensorsFile(cut), cut, "tensor \"last.weight\"", "outside the data area",
                 "truncated");

    const std::string tiny = dir + "/tiny.safetensors";
    rilq::test::write_file(tiny, bytes.substr(0, 5));
    EXPECT_ERROR(rilq::SafetensorsFile(tiny), tiny, "truncated", "5 bytes");

    const std::string empty = dir + "/empty.safetensors";
    rilq::test::write_file(empty, "");
    EXPECT_ERROR(rilq::SafetensorsFile(empty), empty, "truncated");

    // Cut inside the header: the header length now points past the end.
    const std::string in_header = dir + "/in_header.safetensors";
    rilq::test::write_file(in_header, bytes.substr(0, 20));
    EXPECT_ERROR(rilq::SafetensorsFile(in_header), in_header, "header length", "past the end");

    EXPECT_ERROR(rilq::SafetensorsFile(dir + "/absent.safetensors"), dir + "/absent.safetensors",
                 "cannot open");
}

void TestSafetensors::rejects_header_length_beyond_file() {
    const std::string dir = rilq::test::make_temp_dir("st");
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    std::string bytes = raw_file(header, std::string(4, '\0'));
    const uint64_t lie = header.size() + 5; // 1 byte past the end
    std::memcpy(bytes.data(), &lie, 8);
    const std::string path = dir + "/long_header.safetensors";
    rilq::test::write_file(path, bytes);
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "header length " + std::to_string(lie), "past the end");

    const uint64_t huge = uint64_t{1} << 60; // a random 8 bytes read as a length
    std::memcpy(bytes.data(), &huge, 8);
    rilq::test::write_file(path, bytes);
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "header length", "implausible");
}

void TestSafetensors::rejects_invalid_json() {
    const std::string dir = rilq::test::make_temp_dir("st");
    const std::string path = dir + "/bad.safetensors";
    rilq::test::write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[1],)", std::string(4, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "invalid JSON");

    rilq::test::write_file(path, raw_file(R"([{"dtype":"F32"}])", ""));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "must start with '{'");

    rilq::test::write_file(path, raw_file("{} trailing", ""));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "invalid JSON");

    rilq::test::write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                          R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                          std::string(4, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"a\"", "twice");

    rilq::test::write_file(path, raw_file(R"({"__metadata__":{"format":1}})", ""));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "__metadata__ \"format\"", "must be a string");
}

void TestSafetensors::rejects_unknown_dtype() {
    const std::string path = rilq::test::make_temp_dir("st") + "/dtype.safetensors";
    rilq::test::write_file(path,
                           raw_file(R"({"w.weight":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})",
                                    std::string(4, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"w.weight\"", "unknown dtype \"F8_E4M3\"");
}

void TestSafetensors::rejects_offsets_outside_data() {
    const std::string path = rilq::test::make_temp_dir("st") + "/outside.safetensors";
    rilq::test::write_file(
        path, raw_file(R"({"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}})", std::string(16, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"w\"", "[0, 64)",
                 "outside the data area of 16 bytes");

    rilq::test::write_file(
        path, raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", std::string(8, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"w\"", "end before they begin");
}

void TestSafetensors::rejects_overlapping_tensors() {
    const std::string path = rilq::test::make_temp_dir("st") + "/overlap.safetensors";
    rilq::test::write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                          R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                                          std::string(24, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"b\"", "overlap tensor \"a\"");

    // Two tensors claiming the very same bytes.
    rilq::test::write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                                          std::string(8, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "overlap");
}

void TestSafetensors::rejects_length_shape_mismatch() {
    const std::string path = rilq::test::make_temp_dir("st") + "/mismatch.safetensors";
    rilq::test::write_file(path, raw_file(R"({"q_proj":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
                                          std::string(12, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"q_proj\"", "need 16 bytes", "hold 12");

    // Right shape, wrong dtype width.
    rilq::test::write_file(path, raw_file(R"({"q_proj":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})",
                                          std::string(16, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"q_proj\"", "BF16", "need 8 bytes");

    // A shape whose byte count overflows 64 bits must not wrap around to a small number.
    rilq::test::write_file(path, raw_file(R"({"q_proj":{"dtype":"F32","shape":[4294967296,4294967296],)"
                                          R"("data_offsets":[0,0]}})",
                                          ""));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"q_proj\"", "overflows");
}

void TestSafetensors::rejects_holes_in_data_area() {
    const std::string path = rilq::test::make_temp_dir("st") + "/hole.safetensors";
    rilq::test::write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
                                          std::string(24, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"b\"", "hole", "[8, 16)");

    // Bytes after the last tensor that nobody owns.
    rilq::test::write_file(
        path, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(12, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "hole", "[8, 12)", "after tensor \"a\"");

    // The first tensor must start at 0.
    rilq::test::write_file(
        path, raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')));
    EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"a\"", "hole", "[0, 4)");
}

void TestSafetensors::rejects_malformed_entries() {
    const std::string path = rilq::test::make_temp_dir("st") + "/entries.safetensors";
    auto expect = [&](const std::string& header, const std::string& fragment) {
        rilq::test::write_file(path, raw_file(header, std::string(4, '\0')));
        EXPECT_ERROR(rilq::SafetensorsFile(path), path, "tensor \"w\"", fragment);
    };
    expect(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "non-negative integers");
    expect(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "non-negative integers");
    expect(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "missing field \"shape\"");
    expect(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "missing field \"dtype\"");
    expect(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "data_offsets");
    expect(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "data_offsets");
    expect(R"({"w":[1,2]})", "must be a JSON object");

    // A BOOL byte other than 0/1 would be undefined behaviour in torch.
    rilq::test::write_file(path, raw_file(R"({"w":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}})",
                                          std::string("\x01\x00\x02\x01", 4)));
    rilq::SafetensorsFile file(path);
    EXPECT_ERROR(file.tensor("w"), path, "tensor \"w\"", "BOOL byte 2");
}

void TestSafetensors::writer_refuses_bad_input_and_keeps_old_file() {
    const std::string path = rilq::test::make_temp_dir("st") + "/keep.safetensors";
    rilq::save_safetensors(path, {{"w", torch::ones({2})}});
    const std::string before = rilq::test::read_file(path);

    EXPECT_ERROR(rilq::save_safetensors(path, {{"w", torch::ones({2})}, {"w", torch::zeros({2})}}), path,
                 "tensor \"w\"", "twice");
    EXPECT_ERROR(rilq::save_safetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}}), path,
                 "tensor \"c\"", "no safetensors equivalent");
    EXPECT_ERROR(rilq::save_safetensors(path, {{"__metadata__", torch::ones({2})}}), path, "reserved");
    QVERIFY(rilq::test::read_file(path) == before);
    // No temp files left behind next to it.
    int files = 0;
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
        files += e.is_regular_file() ? 1 : 0;
    QCOMPARE(files, 1);
}

RILQ_TEST_APPLESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
