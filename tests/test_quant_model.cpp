// The model-level driver (quantize_model): which tensors change, that calibration inputs are the
// FP model's, progress / cancel, NaN naming, the stats JSON with its summaries, the spec's JSON
// form, and the codes file's tensor list and manifest.
#include "tests/support/test_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/model/llama_model.h"
#include "core/quant/quant_codes.h"
#include "core/quant/quant_stats_json.h"
#include "core/quant/quantize_model.h"
#include "core/util/error.h"
#include "tests/quant/quant_fixture.h"

#include <map>

using namespace rilq;

namespace {

// stories260K's shapes (hidden 64, MLP 172 so down_proj has partial groups), 2 layers.
LlamaConfig tiny_config() {
    LlamaConfig c;
    c.hidden_size = 64;
    c.intermediate_size = 172;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 8;
    c.num_key_value_heads = 4;
    c.head_dim = 8;
    c.vocab_size = 96;
    c.max_position_embeddings = 64;
    return c;
}

QuantSpec spec(const std::string& m, int bits) {
    QuantSpec s;
    s.method = m;
    s.bits = bits;
    return s;
}

} // namespace

class TestQuantModel : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void replaces_exactly_the_target_linears() {
        auto model = LlamaModel::random(tiny_config(), 1);
        const auto fp = model.clone();
        const auto s = spec("rtn", 2);
        auto result = quantize_model(model, s);
        QCOMPARE(result.linears.size(), size_t{14});
        QCOMPARE(result.linears.front().name, std::string("layers.0.self_attn.q_proj"));
        QCOMPARE(result.linears.back().name, std::string("layers.1.mlp.down_proj"));
        for (const auto& name : model.linear_names()) {
            auto expected = quantize_weight(fp.linear(name).weight, s, name).dequantized;
            QVERIFY2(test::count_differences(model.linear(name).weight, expected) == 0, name.c_str());
            QVERIFY(test::count_differences(model.linear(name).weight, fp.linear(name).weight) > 0);
        }
        QVERIFY(torch::equal(model.embed_tokens(), fp.embed_tokens()));
        QVERIFY(torch::equal(model.final_norm(), fp.final_norm()));
        QVERIFY(torch::equal(model.layers()[1].input_layernorm, fp.layers()[1].input_layernorm));
        // down_proj (64 x 172) has a 44-wide last group in every row.
        const auto& down = result.linears.back();
        QCOMPARE(down.layout.last_group_size(), int64_t{44});
        QCOMPARE(down.layout.partial_groups(), int64_t{64});
        const auto summary = summarize_quantization(result);
        QCOMPARE(summary.linears_with_partial_groups, int64_t{2});
        QCOMPARE(summary.by_projection.size(), size_t{7});
        QCOMPARE(summary.by_layer.size(), size_t{2});
    }

    void target_subset_and_no_match() {
        auto model = LlamaModel::random(tiny_config(), 2);
        const auto fp = model.clone();
        auto s = spec("nf", 4);
        s.targets = {"mlp.down_proj", "layers.0.self_attn.v_proj"};
        auto result = quantize_model(model, s);
        QCOMPARE(result.linears.size(), size_t{3});
        for (const auto& name : model.linear_names()) {
            const bool target =
                name.find("down_proj") != std::string::npos || name == "layers.0.self_attn.v_proj";
            QCOMPARE(torch::equal(model.linear(name).weight, fp.linear(name).weight), !target);
        }
        s.targets = {"wq"};
        QVERIFY_EXCEPTION_THROWN(quantize_model(model, s), Error);
    }

    // With calibration windows each linear's output error uses the FP model's input, even in
    // layer 1 whose FP input differs from the quantized model's; the weights are the same as
    // without calibration.
    void calibration_inputs_come_from_the_fp_model() {
        auto model = LlamaModel::random(tiny_config(), 3);
        const auto fp = model.clone();
        auto plain = model.clone();
        const auto s = spec("rtn", 2);
        auto ids = torch::randint(0, 96, {2, 16}, torch::kInt64);
        QuantizeModelOptions o;
        o.calib_ids = ids;
        auto result = quantize_model(model, s, o);
        quantize_model(plain, s);
        QCOMPARE(result.calib_tokens, int64_t{32});

        std::map<std::string, torch::Tensor> fp_inputs, q_inputs;
        ForwardOptions fo;
        fo.observer = [&](const std::string& n, const torch::Tensor& x) { fp_inputs[n] = x.clone(); };
        fp.forward(ids, fo);
        fo.observer = [&](const std::string& n, const torch::Tensor& x) { q_inputs[n] = x.clone(); };
        plain.forward(ids, fo);
        for (const auto& st : result.linears) {
            QVERIFY(st.has_output_error);
            QCOMPARE(st.calib_rows, int64_t{32});
            QCOMPARE(test::count_differences(model.linear(st.name).weight, plain.linear(st.name).weight),
                     int64_t{0});
            auto x = fp_inputs[st.name].reshape({-1, fp_inputs[st.name].size(-1)}).to(torch::kFloat64);
            auto w = fp.linear(st.name).weight.to(torch::kFloat64),
                 q = model.linear(st.name).weight.to(torch::kFloat64);
            const double expected =
                (torch::matmul(x, (w - q).t()).norm() / torch::matmul(x, w.t()).norm()).item<double>();
            QVERIFY2(std::fabs(st.output_rel_error - expected) <= 1e-5 * expected, st.name.c_str());
        }
        // Layer 1 sees a different input in the quantized model: the test above would notice.
        QVERIFY(test::max_abs_diff(fp_inputs["layers.1.self_attn.q_proj"],
                                   q_inputs["layers.1.self_attn.q_proj"]) > 1e-3);
    }

    void progress_and_cancel() {
        auto model = LlamaModel::random(tiny_config(), 4);
        std::vector<ProgressInfo> seen;
        ProgressSink sink;
        sink.on_progress = [&](const ProgressInfo& p) { seen.push_back(p); };
        quantize_model(model, spec("rtn", 3), {}, sink);
        QCOMPARE(seen.back().done, int64_t{14});
        QCOMPARE(seen.back().total, int64_t{14});
        QCOMPARE(seen.back().unit, std::string("linears"));
        for (size_t i = 1; i < seen.size(); ++i)
            QVERIFY(seen[i].done >= seen[i - 1].done);

        auto model2 = LlamaModel::random(tiny_config(), 4);
        CancelToken token;
        ProgressSink cancel;
        cancel.cancel = &token;
        cancel.on_progress = [&](const ProgressInfo& p) {
            if (p.done >= 3) token.cancel();
        };
        QVERIFY_EXCEPTION_THROWN(quantize_model(model2, spec("icq-nf", 2), {}, cancel), Cancelled);
    }

    void nan_weight_names_the_linear() {
        auto model = LlamaModel::random(tiny_config(), 5);
        model.linear("layers.1.mlp.up_proj").weight[7][3] = std::nanf("");
        try {
            quantize_model(model, spec("nf", 4));
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(
                         "layers.1.mlp.up_proj: cannot quantize, 1 non-finite value, first nan at [7, 3]") !=
                         std::string::npos,
                     e.what());
        }
    }

    void stats_json_document() {
        auto model = LlamaModel::random(tiny_config(), 6);
        auto s = spec("icq-nf", 2);
        QuantizeModelOptions o;
        o.calib_ids = torch::randint(0, 96, {1, 8}, torch::kInt64);
        auto result = quantize_model(model, s, o);
        const auto j = quant_stats_to_json(result, "random");
        QCOMPARE(j["format"].get<std::string>(), std::string("rilq.quant_stats"));
        QCOMPARE(j["version"].get<int>(), kQuantStatsFormatVersion);
        QCOMPARE(j["linears"].size(), size_t{14});
        QCOMPARE(j["summary"]["overall"]["linears"].get<int>(), 14);
        QVERIFY(j["summary"]["overall"]["output_rel_error_mean"].is_number());
        QVERIFY(j["summary"]["overall"]["icq_gain_bits"].get<double>() >= 0.0);
        QCOMPARE(j["summary"]["by_layer"].size(), size_t{2});
        QVERIFY(j["summary"]["by_projection"].contains("mlp.down_proj"));
        const auto& l0 = j["linears"][0];
        QCOMPARE(l0["icq"]["candidates"].size(), size_t{201});
        QCOMPARE(l0["group_error_heatmap"]["rows"].get<int>(), 64); // (64 x 64) / blocks of 64
        QCOMPARE(l0["spectrum"]["energy_at_rank"]["128"].get<double>(), 1.0);
        QVERIFY(l0["entropy"]["pooled_bits"].get<double>() >= l0["entropy"]["mean_group_bits"].get<double>());
        // down_proj under flat NF blocks: 64 * 172 weights in blocks of 64 that cross rows.
        const auto& down = j["linears"][6];
        QVERIFY(down["groups"]["blocks_cross_rows"].get<bool>());
        QCOMPARE(down["group_error_heatmap"]["rows"].get<int>(), 1);
        // The spec round-trips.
        const auto back = quant_spec_from_json(j["spec"]);
        QCOMPARE(back.describe(), s.describe());
    }

    void spec_json_errors_name_the_path() {
        auto expect_error = [](const nlohmann::json& j, const std::string& fragment) {
            try {
                quant_spec_from_json(j, "$.quant");
                QFAIL("expected an error");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
            }
        };
        expect_error({{"method", "rtn"}, {"bits", 5}},
                     "$.quant.bits: expected 2, 3, 4 or 8 for method \"rtn\", found 5");
        expect_error({{"method", "nf"}, {"bits", 8}}, "$.quant.bits");
        expect_error({{"method", "gptq"}}, "$.quant.method");
        expect_error({{"method", "icq-int"}, {"variant", "omniquant"}}, "$.quant.variant");
        expect_error({{"grp", 64}}, "$.quant.grp: ");
        expect_error({{"icq_tau_n", "many"}}, "$.quant.icq_tau_n: expected a positive integer");
        expect_error({{"method", "nf"}, {"group_size", 0}},
                     "$.quant.group_size: expected a positive absmax block");
        const auto s = quant_spec_from_json({{"method", "icq-int"}, {"bits", 3}, {"group_size", 0}});
        QCOMPARE(s.variant, std::string("gptq")); // the method's default, filled in
        QCOMPARE(s.group_size, int64_t{0});       // one group per row
    }

    void codes_tensors_and_manifest() {
        auto model = LlamaModel::random(tiny_config(), 7);
        auto s = spec("icq-nf", 4);
        s.double_quant = true;
        QuantizeModelOptions o;
        o.keep_states = true;
        o.metrics.spectrum = false;
        auto result = quantize_model(model, s, o);
        const auto tensors = quant_code_tensors(result);
        std::map<std::string, torch::Tensor> byname(tensors.begin(), tensors.end());
        const std::string p = "model.layers.0.mlp.down_proj.";
        QCOMPARE(byname.at(p + "codes").sizes().vec(), (std::vector<int64_t>{64, 172}));
        QCOMPARE(byname.at(p + "codes").scalar_type(), torch::kUInt8);
        QCOMPARE(byname.at(p + "absmax_codes").numel(), int64_t{172});
        QCOMPARE(byname.at(p + "offset_codes").numel(), int64_t{172});
        QVERIFY(byname.count("dynamic_map"));
        // Rebuild the weight from the stored pieces with the manifest's formula.
        auto codes = byname.at(p + "codes").reshape({-1}).to(torch::kInt64);
        auto dyn = byname.at("dynamic_map");
        auto a = dyn.index_select(0, byname.at(p + "absmax_codes").to(torch::kInt64)) *
                     byname.at(p + "absmax_scales").repeat_interleave(256).slice(0, 0, 172) +
                 byname.at(p + "absmax_mean");
        auto tau = dyn.index_select(0, byname.at(p + "offset_codes").to(torch::kInt64)) *
                   byname.at(p + "offset_scales").repeat_interleave(256).slice(0, 0, 172);
        auto block = torch::div(torch::arange(64 * 172, torch::kInt64), 64, "floor");
        auto rebuilt = byname.at(p + "table").index_select(0, codes) * a.index_select(0, block) +
                       tau.index_select(0, block);
        QCOMPARE(test::count_differences(rebuilt.reshape({64, 172}),
                                         model.linear("layers.0.mlp.down_proj").weight),
                 int64_t{0});
        const auto m = quant_codes_manifest(result, "random");
        QCOMPARE(m["format"].get<std::string>(), std::string("rilq.quant_codes"));
        QCOMPARE(m["linears"].size(), size_t{14});
        QVERIFY(m["dequantize"].get<std::string>().find("offset_scales") != std::string::npos);
        QuantizeModelOptions none;
        auto r2 = quantize_model(model, spec("rtn", 2), none);
        QVERIFY_EXCEPTION_THROWN(quant_code_tensors(r2), Error);
    }
};

RILQ_TEST_APPLESS_MAIN(TestQuantModel)
#include "test_quant_model.moc"
