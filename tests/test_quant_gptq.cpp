// GPTQ (core/quant/gptq.h, core/quant/gptq_model.h) against tests/reference/gptq_reference.py, an
// independent PyTorch implementation of IST-DASLab's gptq.py / quant.py / llama.py:
//   * the running-average Hessian of uneven batches, with two dead input columns;
//   * seven per-linear cases (2/3/4/8 bits, per channel, groups refit inside blocks, act-order with
//     dynamic and static groups, the MSE clip search, another block size): Q, codes, grids, g_idx, loss;
//   * a Hessian that 1 % damping cannot fix: two logged retries, then the same result as the reference;
//   * the sequential pass ([k, v, q] -> [o] -> [up, gate] -> [down], quantized inputs downstream) on a
//     random 2-layer Llama (3 bits, act-order) and on stories260K (2 bits, group 64): every weight to 1e-5;
//   * what GPTQ is for: a lower output error than RTN on the same grid; and the errors it owes the user.
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/model_loader.h"
#include "core/io/safetensors.h"
#include "core/model/llama_model.h"
#include "core/quant/gptq.h"
#include "core/quant/gptq_model.h"
#include "core/quant/quant_stats_json.h"
#include "core/util/error.h"

#include <fstream>
#include <memory>

using namespace rilq;

namespace {

constexpr double kWeightTolerance = 1e-5;

const nlohmann::json& cases() {
    static const nlohmann::json j = [] {
        std::ifstream in(test::test_data("gptq/cases.json"));
        if (!in) throw std::runtime_error("missing tests/data/gptq/cases.json (run tests/reference/gptq_reference.py)");
        nlohmann::json parsed;
        in >> parsed;
        return parsed;
    }();
    return j;
}

const SafetensorsFile& linear_fixture() {
    static const SafetensorsFile f(test::test_data("gptq/linear_cases.safetensors"));
    return f;
}

const SafetensorsFile& model_fixture() {
    static const SafetensorsFile f(test::test_data("gptq/model_cases.safetensors"));
    return f;
}

GptqOptions options_of(const nlohmann::json& o) {
    GptqOptions g;
    g.bits = o.at("bits").get<int>();
    g.group_size = o.value("groupsize", -1);
    g.symmetric = o.value("sym", false);
    g.settings.act_order = o.value("actorder", false);
    g.settings.static_groups = o.value("static_groups", false);
    g.settings.mse = o.value("mse", false);
    g.settings.block_size = o.value("blocksize", 128);
    return g;
}

QuantSpec spec_of(const nlohmann::json& o) {
    const GptqOptions g = options_of(o);
    QuantSpec s;
    s.method = QuantMethod::Gptq;
    s.bits = g.bits;
    s.group_size = g.group_size;
    s.rtn_variant = g.symmetric ? RtnVariant::GptqSymmetric : RtnVariant::Gptq;
    s.gptq = g.settings;
    return s;
}

// The reference's dequantized weight rebuilt from its codes and grids: scale * (code - zero),
// quant.py's formula and order.
torch::Tensor expected_weight(const SafetensorsFile& f, const std::string& prefix) {
    const auto codes = f.tensor(prefix + ".codes").to(torch::kFloat32);
    const auto g = f.tensor(prefix + ".g_idx");
    const auto scales = f.tensor(prefix + ".scales").index_select(1, g);
    const auto zeros = f.tensor(prefix + ".zeros").index_select(1, g);
    return scales * (codes - zeros);
}

// Compares one GPTQ result with the reference under `prefix`; returns a message or "".
std::string compare_result(const QuantResult& q, const SafetensorsFile& f, const std::string& prefix) {
    const auto want_codes = f.tensor(prefix + ".codes");
    const int64_t code_diffs = (q.codes.to(torch::kInt64) != want_codes.to(torch::kInt64)).sum().item<int64_t>();
    if (code_diffs != 0) return prefix + ": " + std::to_string(code_diffs) + " codes differ";
    const double w_diff = test::max_abs_diff(q.dequantized, expected_weight(f, prefix));
    if (w_diff > kWeightTolerance) return prefix + ": weights differ by " + std::to_string(w_diff);
    if (!torch::equal(q.group_index, f.tensor(prefix + ".g_idx"))) return prefix + ": g_idx differs";
    if (test::max_abs_diff(q.scales, f.tensor(prefix + ".scales")) > 1e-7) return prefix + ": scales differ";
    if (!torch::equal(q.zeros, f.tensor(prefix + ".zeros"))) return prefix + ": zeros differ";
    return "";
}

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(b), 1e-30); }

// ||X (W - Q)^T|| / ||X W^T|| from H (proportional to X^T X).
double output_error(const torch::Tensor& w, const torch::Tensor& q, const torch::Tensor& H) {
    const auto d = (w - q).to(torch::kFloat64), wd = w.to(torch::kFloat64), h = H.to(torch::kFloat64);
    return std::sqrt((d.matmul(h) * d).sum().item<double>() / (wd.matmul(h) * wd).sum().item<double>());
}

LlamaModel random_fixture_model() {
    const auto& c = cases().at("random").at("config");
    LlamaConfig cfg;
    cfg.hidden_size = c.at("hidden_size");
    cfg.intermediate_size = c.at("intermediate_size");
    cfg.num_hidden_layers = c.at("num_hidden_layers");
    cfg.num_attention_heads = c.at("num_attention_heads");
    cfg.num_key_value_heads = c.at("num_key_value_heads");
    cfg.head_dim = c.at("head_dim");
    cfg.vocab_size = c.at("vocab_size");
    cfg.rms_norm_eps = c.at("rms_norm_eps");
    cfg.rope_theta = c.at("rope_theta");
    cfg.max_position_embeddings = c.at("max_position_embeddings");
    std::map<std::string, torch::Tensor> state;
    const std::string prefix = "random.fp.";
    for (const auto& name : model_fixture().names())
        if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = model_fixture().tensor(name);
    return LlamaModel(cfg, state, {}, "gptq fixture random model");
}

} // namespace

class TestQuantGptq : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void hessian_is_the_running_average_of_uneven_batches() {
        const auto& f = linear_fixture();
        const int64_t batches = cases()["linear"]["batches"];
        GptqHessian h(cases()["linear"]["cols"].get<int64_t>());
        for (int64_t k = 0; k < batches; ++k) h.add_batch(f.tensor("linear.x" + std::to_string(k)));
        QCOMPARE(h.samples(), cases()["linear"]["samples"].get<int64_t>()); // batch sizes 1 + 2 + 1
        const auto want = f.tensor("linear.H");
        QVERIFY2(test::max_abs_diff(h.matrix(), want) <= 1e-6 * want.abs().max().item<double>(),
                 std::to_string(test::max_abs_diff(h.matrix(), want)).c_str());
        // 2-D inputs count as one sample each (gptq.py unsqueezes them).
        GptqHessian two_d(4);
        two_d.add_batch(torch::ones({3, 4}));
        two_d.add_batch(torch::ones({5, 4}));
        QCOMPARE(two_d.samples(), int64_t{2});
        QVERIFY(torch::allclose(two_d.matrix(), torch::full({4, 4}, 8.0f))); // 2/2 * (3 + 5)
        QVERIFY_EXCEPTION_THROWN(two_d.add_batch(torch::ones({2, 5})), Error);
    }

    void linear_cases_match_the_reference() {
        const auto& f = linear_fixture();
        const auto W = f.tensor("linear.W"), H = f.tensor("linear.H");
        for (const auto& [name, c] : cases()["linear"]["cases"].items()) {
            const GptqOptions o = options_of(c["options"]);
            const GptqResult r = gptq_quantize(W, H, o, name);
            const std::string prefix = "linear." + name;
            const std::string diff = compare_result(r.quant, f, prefix);
            QVERIFY2(diff.empty(), diff.c_str());
            QVERIFY2(test::max_abs_diff(r.quant.dequantized, f.tensor(prefix + ".Q")) <= kWeightTolerance, name.c_str());
            QVERIFY2(close(r.loss, c["loss"].get<double>(), 1e-5), (name + " loss " + std::to_string(r.loss)).c_str());
            QCOMPARE(r.dead_columns, c["dead_columns"].get<int64_t>());
            QCOMPARE(r.damp_retries, 0);
            QCOMPARE(r.damp_percent, 0.01);
            QCOMPARE(r.perm.defined(), o.settings.act_order);
            // Dead columns quantize to the code of 0: their weights come out 0.
            QCOMPARE(r.quant.dequantized.select(1, 7).abs().max().item<float>(), 0.0f);
            QCOMPARE(r.quant.dequantized.select(1, 140).abs().max().item<float>(), 0.0f);
        }
    }

    void act_order_with_dynamic_groups_keeps_groups_in_permuted_order() {
        const auto& f = linear_fixture();
        const GptqResult r = gptq_quantize(f.tensor("linear.W"), f.tensor("linear.H"),
                                           options_of(cases()["linear"]["cases"]["w4_g64_actorder"]["options"]), "act");
        QVERIFY(r.groups_in_act_order);
        // Group g holds the columns at act-order positions [64 g, 64 g + 64): the first group is
        // the 64 columns with the largest H_ii.
        const auto diag = f.tensor("linear.H").diagonal().clone();
        diag.masked_fill_(diag == 0, 1.0);
        const auto top = std::get<1>(diag.topk(64));
        QVERIFY((r.quant.group_index.index_select(0, top) == 0).all().item<bool>());
        QVERIFY(torch::equal(r.perm, torch::argsort(diag, 0, true)));
    }

    void cholesky_failure_raises_the_damping_and_logs_it() {
        const auto& f = linear_fixture();
        const auto& c = cases()["retry"];
        std::vector<std::string> notes;
        const GptqResult r = gptq_quantize(f.tensor("retry.W"), f.tensor("retry.H"), options_of(c["options"]), "retry.lin",
                                           [&](const std::string& m) { notes.push_back(m); });
        QCOMPARE(r.damp_retries, c["retries"].get<int>());
        QCOMPARE(r.damp_retries, 2);
        QVERIFY(close(r.damp_percent, c["damp_used"].get<double>(), 1e-12));
        QCOMPARE(notes.size(), size_t{2});
        QVERIFY2(notes[0].find("retry.lin") != std::string::npos && notes[0].find("0.01") != std::string::npos &&
                     notes[0].find("0.0125") != std::string::npos,
                 notes[0].c_str());
        const std::string diff = compare_result(r.quant, f, "retry.w4");
        QVERIFY2(diff.empty(), diff.c_str());
        // A Hessian no damping below 1 can fix is an error naming the linear, not a crash.
        GptqOptions o = options_of(c["options"]);
        o.settings.damp_increment = 0.3;
        auto hopeless = -torch::eye(48);
        try {
            gptq_quantize(f.tensor("retry.W"), hopeless, o, "layers.9.mlp.up_proj");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("layers.9.mlp.up_proj") != std::string::npos, e.what());
        }
    }

    void bad_inputs_are_errors_naming_the_linear() {
        const auto& f = linear_fixture();
        auto H = f.tensor("linear.H").clone();
        H[3][5] = std::nanf("");
        const GptqOptions o = options_of(cases()["linear"]["cases"]["w2_g64"]["options"]);
        try {
            gptq_quantize(f.tensor("linear.W"), H, o, "layers.2.self_attn.o_proj");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("layers.2.self_attn.o_proj") != std::string::npos, e.what());
        }
        QVERIFY_EXCEPTION_THROWN(gptq_quantize(f.tensor("linear.W"), torch::eye(7), o, "x"), Error);
        GptqOptions bad = o;
        bad.bits = 5;
        QVERIFY_EXCEPTION_THROWN(gptq_quantize(f.tensor("linear.W"), f.tensor("linear.H"), bad, "x"), Error);
        // A GPTQ spec cannot quantize a weight alone, nor a model without calibration windows.
        QuantSpec s = spec_of(cases()["linear"]["cases"]["w2_g64"]["options"]);
        QVERIFY_EXCEPTION_THROWN(quantize_weight(f.tensor("linear.W"), s, "w"), Error);
        auto model = random_fixture_model();
        try {
            quantize_model(model, s);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("--calib") != std::string::npos, e.what());
        }
    }

    void gptq_beats_rtn_on_its_calibration_inputs() {
        const auto& f = linear_fixture();
        const auto W = f.tensor("linear.W"), H = f.tensor("linear.H");
        for (const char* name : {"w2_g64", "w3_perchannel_sym", "w4_g64_actorder"}) {
            const auto& c = cases()["linear"]["cases"][name];
            QuantSpec rtn = spec_of(c["options"]);
            rtn.method = QuantMethod::Rtn;
            const auto q_rtn = quantize_weight(W, rtn, name).dequantized;
            const auto q_gptq = gptq_quantize(W, H, options_of(c["options"]), name).quant.dequantized;
            const double e_gptq = output_error(W, q_gptq, H), e_rtn = output_error(W, q_rtn, H);
            QVERIFY2(e_gptq < 0.8 * e_rtn, (std::string(name) + ": gptq " + std::to_string(e_gptq) + " rtn " +
                                            std::to_string(e_rtn)).c_str());
        }
    }

    // llama.py's sequential pass on a random Llama: 3 bits, groups of 32, act-order; layer 1's
    // Hessians come from inputs that went through the quantized layer 0.
    void sequential_pass_on_a_random_model_matches_the_reference() {
        auto model = random_fixture_model();
        QuantizeModelOptions options;
        options.calib_ids = model_fixture().tensor("random.windows");
        const auto& ref = cases()["random"];
        const auto result = quantize_model(model, spec_of(ref["options"]), options);
        QCOMPARE(result.linears.size(), size_t{14});
        QCOMPARE(result.linears.front().name, std::string("layers.0.self_attn.q_proj"));
        for (const auto& s : result.linears) {
            const std::string prefix = "random." + s.name;
            const double diff = test::max_abs_diff(model.linear(s.name).weight, expected_weight(model_fixture(), prefix));
            QVERIFY2(diff <= kWeightTolerance, (s.name + ": " + std::to_string(diff)).c_str());
            const double want_loss = ref["linears"][s.name]["loss"];
            QVERIFY2(close(s.gptq_loss, want_loss, 1e-4), (s.name + " loss " + std::to_string(s.gptq_loss)).c_str());
            QVERIFY(s.has_gptq && s.has_output_error && s.gptq_groups_in_act_order);
            QVERIFY(s.output_rel_error > 0.0 && s.output_rel_error < 1.0);
        }
        const auto j = quant_stats_to_json(result, "random");
        QVERIFY(j["linears"][0]["gptq"]["loss"].get<double>() > 0.0);
        QCOMPARE(j["spec"]["gptq"]["act_order"].get<bool>(), true);
    }

    void stories260k_matches_the_reference() {
        auto model = load_model(test::shared_data("stories260K/stories260K.bin"));
        QuantizeModelOptions options;
        options.calib_ids = model_fixture().tensor("stories.windows");
        options.keep_states = true;
        const auto& ref = cases()["stories"];
        const auto result = quantize_model(model, spec_of(ref["options"]), options);
        QCOMPARE(result.linears.size(), size_t{35});
        QCOMPARE(result.states.size(), size_t{35});
        for (const auto& [name, state] : result.states) {
            const std::string prefix = "stories." + name;
            const auto w = model.linear(name).weight;
            QVERIFY2(test::max_abs_diff(w, expected_weight(model_fixture(), prefix)) <= kWeightTolerance, name.c_str());
            QVERIFY2(torch::equal(state.codes.to(torch::kInt64), model_fixture().tensor(prefix + ".codes").to(torch::kInt64)),
                     name.c_str());
        }
        for (const auto& s : result.linears) {
            const double want_loss = ref["linears"][s.name]["loss"];
            QVERIFY2(close(s.gptq_loss, want_loss, 1e-4), (s.name + " loss " + std::to_string(s.gptq_loss)).c_str());
        }
    }

    void spec_json_round_trip_and_errors() {
        QuantSpec s;
        s.method = QuantMethod::Gptq;
        s.bits = 3;
        s.rtn_variant = RtnVariant::GptqSymmetric;
        s.gptq.act_order = true;
        s.gptq.damp_percent = 0.05;
        s.gptq.block_size = 64;
        nlohmann::json j;
        to_json(j, s);
        const QuantSpec back = quant_spec_from_json(j);
        QCOMPARE(back.describe(), s.describe());
        QCOMPARE(back.gptq.block_size, int64_t{64});
        QVERIFY(back.describe().find("act-order") != std::string::npos);
        auto expect_error = [](nlohmann::json doc, const std::string& fragment) {
            try {
                quant_spec_from_json(doc, "$.quant");
                QFAIL("expected an error");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
            }
        };
        expect_error({{"method", "gptq"}, {"gptq", {{"damp_percent", 1.5}}}}, "$.quant.gptq.damp_percent");
        expect_error({{"method", "gptq"}, {"gptq", {{"blocksize", 64}}}}, "$.quant.gptq.blocksize");
        expect_error({{"method", "gptq"}, {"variant", "omniquant"}}, "$.quant.variant");
        expect_error({{"method", "gptq"}, {"bits", 5}}, "$.quant.bits");
    }
};

RILQ_TEST_GUILESS_MAIN(TestQuantGptq)
#include "test_quant_gptq.moc"
