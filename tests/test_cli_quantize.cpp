// `rilq quantize` and `rilq qstats` run in-process on the real stories260K model: the written
// folder reloads with exactly the dequantized weights, carries the tokenizer, the stats and codes
// files are complete, calibration adds the output error, and bad usage exits 2.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <torch/torch.h>

#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/quant/quantizer.h"
#include "tests/quant/quant_fixture.h"
#include "tests/support/test_support.h"

using nlohmann::json;
using namespace rilq;

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

Run run(int (*cmd)(const QStringList&), const QString& name, const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.code = cmd(QStringList{QStringLiteral("rilq ") + name} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

QString stories() {
    return QString::fromStdString(test::shared_data("stories260K/stories260K.bin"));
}
QString tinystories() {
    return QStringLiteral("text=") +
           QString::fromStdString(test::shared_data("tinystories/tinystories_val.txt"));
}

} // namespace

class TestCliQuantize : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    // ICQ-NF 2-bit with double quantization: the saved model reloads with exactly the weights
    // quantize_weight gives for each projection of the original; everything else is untouched.
    void quantize_writes_a_loadable_fake_quant_model() {
        const std::string dir = test::make_temp_dir("cli-quantize");
        const std::string out = dir + "/q";
        const Run r =
            run(rilq::cli::cmd_quantize, "quantize",
                {stories(), "--method", "icq-nf", "--bits", "2", "--set", "double_quant=true", "--out",
                 QString::fromStdString(out), "--stats", QString::fromStdString(dir + "/stats.json"),
                 "--codes", "--no-spectrum", "--quiet", "--threads", "1"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("quantized 35 linears") != std::string::npos, r.out.c_str());
        QVERIFY(std::filesystem::exists(out + "/config.json"));
        QVERIFY(std::filesystem::exists(out + "/tok512.model")); // found beside the .bin, copied
        const LlamaModel fp = load_model(stories().toStdString());
        const LlamaModel q = load_model(out);
        QuantSpec spec;
        spec.method = "icq-nf";
        spec.bits = 2;
        spec.double_quant = true;
        for (const auto& name : fp.linear_names()) {
            const auto expected = quantize_weight(fp.linear(name).weight, spec, name).dequantized;
            QVERIFY2(test::count_differences(q.linear(name).weight, expected) == 0, name.c_str());
        }
        QVERIFY(torch::equal(q.embed_tokens(), fp.embed_tokens()));
        QVERIFY(torch::equal(q.final_norm(), fp.final_norm()));

        std::ifstream in(dir + "/stats.json");
        json stats;
        in >> stats;
        QCOMPARE(stats["linears"].size(), size_t{35});
        QCOMPARE(stats["spec"]["method"].get<std::string>(), std::string("icq-nf"));
        QCOMPARE(stats["summary"]["by_layer"].size(), size_t{5});
        QVERIFY(stats["summary"]["overall"]["icq_gain_bits"].get<double>() > 0.0);

        SafetensorsFile codes(out + "/quant_codes.safetensors");
        QCOMPARE(codes.entry("model.layers.4.mlp.down_proj.codes").shape, (std::vector<int64_t>{64, 172}));
        QCOMPARE(codes.entry("model.layers.4.mlp.down_proj.codes").dtype, std::string("U8"));
        QVERIFY(codes.contains("model.layers.0.self_attn.q_proj.offset_codes"));
        QVERIFY(codes.contains("dynamic_map"));
        QVERIFY(std::filesystem::exists(out + "/quant_codes.json"));
    }

    // qstats with calibration windows from TinyStories: every linear gets an output error.
    void qstats_json_with_calibration() {
        const Run r =
            run(rilq::cli::cmd_qstats, "qstats",
                {stories(), "--method", "rtn", "--bits", "3", "--group", "32", "--calib", tinystories(),
                 "--calib-samples", "4", "--calib-seqlen", "64", "--json", "--quiet", "--threads", "1"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const json j = json::parse(r.out);
        QCOMPARE(j["calibration"]["windows"].get<int>(), 4);
        QCOMPARE(j["calibration"]["tokens"].get<int>(), 256);
        for (const auto& l : j["linears"]) {
            QVERIFY(l["output_error"]["rel_error"].get<double>() > 0.0);
            QCOMPARE(l["output_error"]["rows"].get<int>(), 256);
        }
        // w2 (down_proj, in = 172) has 172 % 32 = 12-wide last groups; the summary says so.
        QCOMPARE(j["summary"]["linears_with_partial_groups"].get<int>(), 5);
        QCOMPARE(j["linears"][6]["groups"]["last_group_size"].get<int>(), 12);
        QVERIFY(j["linears"][0]["spectrum"]["energy_at_rank"]["64"].get<double>() == 1.0); // rank <= 64
    }

    void usage_errors_exit_2() {
        QCOMPARE(run(rilq::cli::cmd_quantize, "quantize", {stories(), "--bits", "2"}).code, 2); // no --out
        QCOMPARE(run(rilq::cli::cmd_qstats, "qstats", {stories(), "--method", "nf", "--bits", "8"}).code, 2);
        QCOMPARE(run(rilq::cli::cmd_qstats, "qstats", {stories(), "--method", "gptq"}).code, 2);
        const Run missing = run(rilq::cli::cmd_qstats, "qstats", {"/nonexistent/model.bin", "--quiet"});
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.find("/nonexistent/model.bin") != std::string::npos);
    }
};

RILQ_TEST_APPLESS_MAIN(TestCliQuantize)
#include "test_cli_quantize.moc"
