// Our loaders + forward against independent implementations: logits written by
// tests/reference/llama_reference.py (a from-scratch PyTorch HF-style Llama, cross-checked there
// against a llama2.c-style numpy forward and, for the hand-sized model, a loop-by-loop numpy one).
// Also the model's public surface that later layers build on: hidden states, per-layer outputs,
// named linears, bf16 compute, and config.json errors.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/io/hf_checkpoint.h"
#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
using rilq::test::error_of;

#define EXPECT_ERROR(expr, ...)                                                                              \
    do {                                                                                                     \
        const std::string message_ = error_of([&] { (void)(expr); });                                        \
        QVERIFY2(!message_.empty(), "expected rilq::Error from " #expr);                                     \
        for (const std::string& fragment_ : std::vector<std::string>{__VA_ARGS__})                           \
            QVERIFY2(message_.find(fragment_) != std::string::npos,                                          \
                     ("message lacks \"" + fragment_ + "\": " + message_).c_str());                          \
    } while (0)

constexpr double kTolerance = 1e-4; // fp32 logits vs the PyTorch reference

std::string model_path(const std::string& name) {
    if (name == "stories260K") return rilq::test::shared_data("stories260K/stories260K.bin");
    return rilq::test::test_data(name);
}

// Checks one reference model: loads it with load_model, compares logits, returns max |diff|.
double compare_with_reference(const std::string& name) {
    const rilq::SafetensorsFile ref(rilq::test::test_data("reference_logits.safetensors"));
    const auto ids = ref.tensor(name + ".input_ids");
    const auto expected = ref.tensor(name + ".logits");
    const auto model = rilq::load_model(model_path(name));
    torch::NoGradGuard no_grad;
    const auto logits = model.logits(ids);
    if (logits.sizes() != expected.sizes()) return 1e30;
    return rilq::test::max_abs_diff(logits, expected);
}

void write_config(const std::string& dir, const json& config) {
    rilq::test::write_file(dir + "/config.json", config.dump(2));
}

} // namespace

class TestModelReference : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void logits_match_reference_data();
    void logits_match_reference();
    void hidden_and_layer_outputs();
    void linear_names_and_errors();
    void bf16_compute_stays_close();
    void config_errors_name_file_and_field();
};

void TestModelReference::logits_match_reference_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("stories260K (llama2.c .bin)") << "stories260K";
    QTest::newRow("Llama-2 shape, MHA, untied, fp32") << "hf_llama2_mha";
    QTest::newRow("Llama-3 shape, GQA 4/2, llama3 RoPE, tied, bf16 file") << "hf_llama3_gqa_tied";
    QTest::newRow("Llama-3 shape, GQA 8/2, head_dim 16, untied, 2 shards") << "hf_llama3_gqa_sharded";
    QTest::newRow("hand-sized 2 layers dim 8 (numpy loops)") << "hf_hand_tiny";
}

void TestModelReference::logits_match_reference() {
    QFETCH(QString, name);
    const double diff = compare_with_reference(name.toStdString());
    qInfo("%s: max |logits - reference| = %.3g", qPrintable(name), diff);
    QVERIFY2(diff <= kTolerance, qPrintable(QString("max diff %1 > %2").arg(diff).arg(kTolerance)));
}

void TestModelReference::hidden_and_layer_outputs() {
    const auto model = rilq::load_model(rilq::test::test_data("hf_llama3_gqa_sharded"));
    torch::manual_seed(0);
    const auto ids = torch::randint(0, 128, {2, 7}, torch::kInt64);
    rilq::ForwardOptions opts;
    opts.want_hidden = true;
    opts.want_layer_outputs = true;
    const auto r = model.forward(ids, opts);
    QCOMPARE(r.logits.sizes().vec(), (std::vector<int64_t>{2, 7, 128}));
    QCOMPARE(r.hidden.sizes().vec(), (std::vector<int64_t>{2, 7, 32}));
    QCOMPARE(r.layer_outputs.size(), size_t{2});
    for (const auto& h : r.layer_outputs)
        QCOMPARE(h.sizes().vec(), (std::vector<int64_t>{2, 7, 32}));
    // The hidden state is the final norm applied to the last layer's output, and the logits
    // are lm_head of it.
    QVERIFY(torch::allclose(model.lm_head_forward(r.hidden), r.logits, 1e-5, 1e-5));
    const auto last = r.layer_outputs.back();
    const auto normed =
        last * torch::rsqrt(last.pow(2).mean(-1, true) + model.config().rms_norm_eps) * model.final_norm();
    QVERIFY(torch::allclose(normed, r.hidden, 1e-5, 1e-5));

    rilq::ForwardOptions hidden_only;
    hidden_only.want_logits = false;
    hidden_only.want_hidden = true;
    const auto h = model.forward(ids, hidden_only);
    QVERIFY(!h.logits.defined());
    QVERIFY(torch::equal(h.hidden, r.hidden));
}

void TestModelReference::linear_names_and_errors() {
    auto model = rilq::load_model(rilq::test::test_data("hf_llama3_gqa_sharded"));
    const auto names = model.linear_names();
    QCOMPARE(names.size(), size_t{14});
    const std::vector<std::string> first = {"layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj",
                                            "layers.0.self_attn.v_proj", "layers.0.self_attn.o_proj",
                                            "layers.0.mlp.gate_proj",    "layers.0.mlp.up_proj",
                                            "layers.0.mlp.down_proj"};
    QCOMPARE(std::vector<std::string>(names.begin(), names.begin() + 7), first);
    QCOMPARE(names.back(), std::string("layers.1.mlp.down_proj"));
    // Shapes (out, in): q 8 heads x 16 = 128 rows from C = 32, k/v 2 kv heads x 16 = 32.
    QCOMPARE(model.linear("layers.1.self_attn.q_proj").weight.sizes().vec(), (std::vector<int64_t>{128, 32}));
    QCOMPARE(model.linear("layers.1.self_attn.k_proj").weight.sizes().vec(), (std::vector<int64_t>{32, 32}));
    QCOMPARE(model.linear("layers.1.self_attn.o_proj").weight.sizes().vec(), (std::vector<int64_t>{32, 128}));
    QCOMPARE(model.linear("layers.0.mlp.down_proj").weight.sizes().vec(), (std::vector<int64_t>{32, 64}));
    // The name reaches the same tensor as the checkpoint's.
    const rilq::HfCheckpoint ckpt(rilq::test::test_data("hf_llama3_gqa_sharded"));
    QVERIFY(torch::equal(model.linear("layers.1.mlp.up_proj").weight,
                         ckpt.tensor("model.layers.1.mlp.up_proj.weight")));
    for (const std::string bad : {"layers.2.self_attn.q_proj", "layers.0.self_attn.x_proj",
                                  "layers.x.mlp.up_proj", "model.layers.0.mlp.up_proj", "layers.0", ""})
        EXPECT_ERROR(model.linear(bad), "no linear named \"" + bad + "\"");
}

void TestModelReference::bf16_compute_stays_close() {
    const rilq::SafetensorsFile ref(rilq::test::test_data("reference_logits.safetensors"));
    rilq::ModelOptions options;
    options.compute_dtype = torch::kBFloat16;
    for (const std::string name : {"stories260K", "hf_llama2_mha"}) {
        const auto model = rilq::load_model(model_path(name), options);
        QCOMPARE(model.embed_tokens().scalar_type(), torch::kBFloat16);
        torch::NoGradGuard no_grad;
        const auto logits = model.logits(ref.tensor(name + ".input_ids"));
        QCOMPARE(logits.scalar_type(), torch::kBFloat16);
        const auto expected = ref.tensor(name + ".logits");
        const double diff = rilq::test::max_abs_diff(logits, expected);
        const double scale = expected.abs().max().item<double>();
        qInfo("%s bf16 compute: max |diff| = %.3g (max |logit| %.3g)", name.c_str(), diff, scale);
        // bf16 keeps 8 bits of mantissa: a few percent of the logit range, never garbage.
        QVERIFY2(diff < 0.05 * scale, name.c_str());
        QVERIFY(diff > 0); // really computed in bf16
        // And the greedy choice agrees almost everywhere.
        const double agree =
            (logits.argmax(-1) == expected.argmax(-1)).to(torch::kFloat32).mean().item<double>();
        QVERIFY2(agree > 0.9, name.c_str());
    }
}

void TestModelReference::config_errors_name_file_and_field() {
    const json good = json::parse(rilq::test::read_file(rilq::test::test_data("hf_llama2_mha/config.json")));
    const std::string dir = rilq::test::make_temp_dir("cfg") + "/model";
    fs::copy(rilq::test::test_data("hf_llama2_mha"), dir, fs::copy_options::recursive);
    const std::string config_path = dir + "/config.json";

    json bad = good;
    bad["model_type"] = "mistral";
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "model_type", "\"mistral\"");

    bad = good;
    bad.erase("model_type");
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "missing field \"model_type\"");

    bad = good;
    bad.erase("hidden_size");
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "missing field \"hidden_size\"");

    bad = good;
    bad["num_attention_heads"] = "four";
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "num_attention_heads", "\"four\"");

    bad = good;
    bad["num_key_value_heads"] = 3;
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "num_key_value_heads");

    bad = good;
    bad["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), config_path, "rope_scaling", "low_freq_factor");

    // A config that disagrees with the weights names the tensor.
    bad = good;
    bad["intermediate_size"] = 65;
    write_config(dir, bad);
    EXPECT_ERROR(rilq::load_model(dir), dir, "model.layers.0.mlp.gate_proj.weight", "expected [65, 32]");

    rilq::test::write_file(config_path, "{ not json");
    EXPECT_ERROR(rilq::load_model(dir), config_path, "invalid JSON");

    write_config(dir, good);
    QCOMPARE(rilq::load_model(dir).config().intermediate_size, int64_t{64});
}

RILQ_TEST_APPLESS_MAIN(TestModelReference)
#include "test_model_reference.moc"
