// LoRA adapters in Hugging Face PEFT's format: names, shapes and config fields as PEFT writes
// them, a save / load round trip that reproduces the adapted model (IEC folded exactly), and
// clear errors on files PEFT would write but we cannot represent.
// Links against core/io/safetensors.cpp (the io branch).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/io/safetensors.h"
#include "core/lora/lora_set.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

LoraSet trained_looking_adapters(LlamaModel& model, bool iec) {
    LoraConfig c;
    c.r = 4;
    c.alpha = 16.0;
    c.iec = iec;
    auto set = attach_lora(model, c);
    auto gen = at::detail::createCPUGenerator(3);
    for (const auto& a : set.adapters()) {
        a->set_parameter("lora_B", torch::randn(a->B().sizes(), gen) * 0.05);
        if (iec) {
            a->set_parameter("iec_beta1", torch::randn({}, gen));
            a->set_parameter("iec_beta2", torch::randn({}, gen));
        }
    }
    return set;
}

// The safetensors header, parsed here by hand (independent of SafetensorsFile).
nlohmann::json safetensors_header(const std::string& path) {
    const auto bytes = test::read_file(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    return nlohmann::json::parse(bytes.substr(8, n));
}

} // namespace

class TestLoraPeft : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void savesPeftNamesShapesAndConfig() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 41);
        auto student = test::fake_quantized_copy(base);
        auto set = trained_looking_adapters(student, false);
        const auto dir = test::make_temp_dir("peft");
        save_peft_adapter(dir, set, "out/quantized-base");

        const auto header = safetensors_header((fs::path(dir) / "adapter_model.safetensors").string());
        QCOMPARE(static_cast<int>(header.size()), 2 * 14 + 1);   // + __metadata__
        QCOMPARE(header["__metadata__"]["format"].get<std::string>(), std::string("pt"));
        const auto& q = header["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"];
        QCOMPARE(q["dtype"].get<std::string>(), std::string("F32"));
        QVERIFY(q["shape"] == nlohmann::json::array({4, 32}));
        QVERIFY(header["base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight"]["shape"] ==
                nlohmann::json::array({16, 4}));
        QVERIFY(header["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"]["shape"] ==
                nlohmann::json::array({4, 64}));

        const auto cfg = nlohmann::json::parse(test::read_file((fs::path(dir) / "adapter_config.json").string()));
        QCOMPARE(cfg["peft_type"].get<std::string>(), std::string("LORA"));
        QCOMPARE(cfg["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
        QCOMPARE(cfg["r"].get<int>(), 4);
        QCOMPARE(cfg["lora_alpha"].get<double>(), 16.0);
        QCOMPARE(cfg["lora_dropout"].get<double>(), 0.0);
        QCOMPARE(cfg["init_lora_weights"].get<std::string>(), std::string("gaussian"));
        QCOMPARE(cfg["base_model_name_or_path"].get<std::string>(), std::string("out/quantized-base"));
        QCOMPARE(cfg["bias"].get<std::string>(), std::string("none"));
        QVERIFY(cfg["target_modules"] ==
                nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}));
        QCOMPARE(cfg["use_rslora"].get<bool>(), false);
        fs::remove_all(dir);
    }

    void roundTripReproducesTheAdaptedModel() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 42);
        const auto ids = test::random_windows(2, 12, 64, 6);
        for (const bool iec : {false, true}) {
            auto student = test::fake_quantized_copy(base);
            auto set = trained_looking_adapters(student, iec);
            torch::NoGradGuard no_grad;
            const auto expected = student.logits(ids);
            const auto dir = test::make_temp_dir("peft-rt");
            save_peft_adapter(dir, set, "base");

            auto fresh = test::fake_quantized_copy(base);
            const auto loaded = load_peft_adapter(dir, fresh);
            QCOMPARE(static_cast<int>(loaded.size()), 14);
            QVERIFY(!loaded.config().iec);   // IEC was folded into A and B
            const double d = test::max_abs_diff(fresh.logits(ids), expected);
            QVERIFY2(d < 1e-5, std::to_string(d).c_str());
            QVERIFY(test::max_abs_diff(fresh.logits(ids), base.logits(ids)) > 1e-4);   // adapters are live
            fs::remove_all(dir);
        }
    }

    void rejectsWhatItCannotRepresent() {
        const auto base = LlamaModel::random(test::tiny_llama_config(), 43);
        auto student = test::fake_quantized_copy(base);
        auto set = trained_looking_adapters(student, false);
        const auto dir = test::make_temp_dir("peft-bad");
        save_peft_adapter(dir, set, "base");
        const auto config_path = (fs::path(dir) / "adapter_config.json").string();
        const auto good = test::read_file(config_path);

        auto expect_error = [&](const std::string& fragment) {
            auto fresh = test::fake_quantized_copy(base);
            try {
                load_peft_adapter(dir, fresh);
                QFAIL(("expected an error mentioning " + fragment).c_str());
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
            }
            // Nothing stays attached after a failed load.
            for (const auto& name : fresh.linear_names()) QVERIFY(!fresh.linear(name).adapter);
        };
        auto edit = [&](const std::function<void(nlohmann::json&)>& change) {
            auto j = nlohmann::json::parse(good);
            change(j);
            test::write_file(config_path, j.dump());
        };
        edit([](nlohmann::json& j) { j["use_rslora"] = true; });
        expect_error("use_rslora");
        edit([](nlohmann::json& j) { j["peft_type"] = "IA3"; });
        expect_error("peft_type");
        edit([](nlohmann::json& j) { j["rank_pattern"] = {{"q_proj", 8}}; });
        expect_error("rank_pattern");
        edit([](nlohmann::json& j) { j["r"] = 8; });
        expect_error("has shape [4, 32], expected [8, 32]");   // tensors are rank 4, config says 8
        edit([](nlohmann::json& j) { j.erase("r"); });
        expect_error("$.r");
        // A tensor missing from the file.
        test::write_file(config_path, good);
        std::vector<std::pair<std::string, torch::Tensor>> partial;
        SafetensorsFile file((fs::path(dir) / "adapter_model.safetensors").string());
        for (const auto& name : file.names())
            if (name.find("layers.1.mlp.up_proj.lora_B") == std::string::npos) partial.emplace_back(name, file.tensor(name));
        save_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), partial);
        expect_error("missing tensor \"base_model.model.model.layers.1.mlp.up_proj.lora_B.weight\"");
        fs::remove_all(dir);
    }
};

RILQ_TEST_APPLESS_MAIN(TestLoraPeft)
#include "test_lora_peft.moc"
