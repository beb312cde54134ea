// `rilq info` run in-process on the real stories260K file and on our HF fixtures.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/io/llama2c.h"
#include "core/io/model_loader.h"
#include "tests/support/test_support.h"

using nlohmann::json;

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

// Runs `rilq info ARGS...` with stdout/stderr captured.
Run info(const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Run r;
    r.code = rilq::cli::cmd_info(QStringList{QStringLiteral("rilq info")} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

QString stories() {
    return QString::fromStdString(rilq::test::shared_data("stories260K/stories260K.bin"));
}

} // namespace

class TestCliInfo : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void text_for_llama2c_file();
    void json_for_sharded_hf_folder();
    void summary_matches_loaded_model();
    void usage_and_errors();
};

void TestCliInfo::text_for_llama2c_file() {
    const Run r = info({stories()});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.find("(llama2.c file)") != std::string::npos, r.out.c_str());
    QVERIFY(r.out.find("  hidden_size               64\n") != std::string::npos);
    QVERIFY(r.out.find("  num_key_value_heads       4\n") != std::string::npos);
    // 512*64 + 5*(2*64 + 64*64 + 2*32*64 + 64*64 + 3*172*64) + 64
    QVERIFY2(r.out.find("parameters: 260,032 (0.260 M)") != std::string::npos, r.out.c_str());
    QVERIFY(r.out.find("linear layers (35, weight shape out x in):") != std::string::npos);
    QVERIFY(r.out.find("  layers.0.self_attn.k_proj  32 x 64\n") != std::string::npos);
    QVERIFY(r.out.find("  layers.4.mlp.down_proj     64 x 172\n") != std::string::npos);
}

void TestCliInfo::json_for_sharded_hf_folder() {
    const QString dir = QString::fromStdString(rilq::test::test_data("hf_llama3_gqa_sharded"));
    const Run r = info({dir, QStringLiteral("--json")});
    QCOMPARE(r.code, 0);
    const json j = json::parse(r.out);
    QCOMPARE(j.at("format").get<std::string>(), std::string("hf"));
    QCOMPARE(j.at("config").at("head_dim").get<int64_t>(), int64_t{16});
    QCOMPARE(j.at("config").at("rope_scaling").at("rope_type").get<std::string>(), std::string("llama3"));
    // embed 128*32 + lm_head 128*32 + norm 32 + 2 * (2*32 + 128*32 + 2*32*32 + 32*128 + 3*64*32)
    QCOMPARE(j.at("parameter_count").get<int64_t>(),
             int64_t{8192 + 32 + 2 * (64 + 4096 + 2048 + 4096 + 6144)});
    QCOMPARE(j.at("linears").size(), size_t{14});
    QCOMPARE(j.at("linears").at(0).at("name").get<std::string>(), std::string("layers.0.self_attn.q_proj"));
    QCOMPARE(j.at("linears").at(0).at("out_features").get<int64_t>(), int64_t{128});
    QCOMPARE(j.at("linears").at(0).at("in_features").get<int64_t>(), int64_t{32});
}

void TestCliInfo::summary_matches_loaded_model() {
    for (const std::string& path :
         {rilq::test::test_data("hf_llama3_gqa_tied"), rilq::test::test_data("hf_llama2_mha"),
          rilq::test::shared_data("stories260K/stories260K.bin")}) {
        const auto summary = rilq::summarize_model(path);
        const auto model = rilq::load_model(path);
        QCOMPARE(summary.parameter_count, model.parameter_count());
        const auto names = model.linear_names();
        QCOMPARE(summary.linears.size(), names.size());
        for (size_t i = 0; i < names.size(); ++i) {
            QCOMPARE(summary.linears[i].name, names[i]);
            QCOMPARE(summary.linears[i].out_features, model.linear(names[i]).weight.size(0));
            QCOMPARE(summary.linears[i].in_features, model.linear(names[i]).weight.size(1));
        }
        QCOMPARE(summary.config.to_json(), model.config().to_json());
    }
}

void TestCliInfo::usage_and_errors() {
    Run r = info({});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.find("wrong number of arguments") != std::string::npos);
    r = info({stories(), QStringLiteral("--bogus")});
    QCOMPARE(r.code, 2);
    r = info({QStringLiteral("--help")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.find("--json") != std::string::npos);
    const std::string missing = rilq::test::make_temp_dir("info") + "/nothing";
    r = info({QString::fromStdString(missing)});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "rilq: error: " + missing + ": no such file or folder\n");
}

RILQ_TEST_APPLESS_MAIN(TestCliInfo)
#include "test_cli_info.moc"
