// LoRA initialisations (core/lora/init/) against tests/reference/lora_init_reference.py:
//   * LoftQ (PEFT loftq_utils loop) on stories260K matrices with RTN W2 and NF2, after 1 and 5
//     rounds: base, s B A and the error of every round; one round equals the weight-svd scope;
//   * the calibrated closed form (QERA-exact, diagonal variant): the Gram, s B A and the objective
//     equal the reference's; the exact objective is no worse than any random rank-r factorisation,
//     than the plain SVD and than the diagonal variant; the unused input direction stays unused;
//   * the weight-svd scope is one LoftQ round: the same factors from the same code.
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/safetensors.h"
#include "core/lora/init/loftq.h"
#include "core/lora/init/qera.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/quant/quantize_model.h"
#include "core/quant/quantizer.h"
#include "core/rilq/weight_svd.h"
#include "core/util/error.h"
#include "tests/quant/quant_fixture.h"

#include <fstream>

using namespace rilq;

namespace {

const nlohmann::json& lora_init_cases() {
    static const nlohmann::json j = [] {
        std::ifstream in(test::test_data("lora_init/cases.json"));
        if (!in)
            throw std::runtime_error(
                "missing tests/data/lora_init/cases.json (run tests/reference/lora_init_reference.py)");
        nlohmann::json parsed;
        in >> parsed;
        return parsed;
    }();
    return j;
}

const SafetensorsFile& lora_init_fixture() {
    static const SafetensorsFile f(test::test_data("lora_init/reference.safetensors"));
    return f;
}

QuantSpec lora_init_quantizer(const std::string& name) {
    QuantSpec s;
    if (name == "rtn_w2_g64") {
        s.method = "rtn";
        s.bits = 2;
        s.group_size = 64;
    } else if (name == "nf2_b64") {
        s.method = "nf";
        s.bits = 2;
        s.group_size = 64;
    } else {
        throw std::runtime_error("unknown quantizer " + name);
    }
    return s;
}

torch::Tensor lora_init_matrix(const std::string& which) {
    return test::read_llama2c_tensor(test::shared_data("stories260K/stories260K.bin"), which);
}

double lora_init_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return test::max_abs_diff(a, b) / std::max(b.abs().max().item<double>(), 1e-30);
}

LoraConfig lora_init_config(int64_t r) {
    LoraConfig c;
    c.r = r;
    c.alpha = 16.0;
    return c;
}

} // namespace

class TestLoraInit : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void loftq_matches_the_reference_after_1_and_5_rounds() {
        for (const auto& [name, c] : lora_init_cases()["loftq"].items()) {
            const auto W = lora_init_matrix(c["matrix"]);
            const QuantSpec spec = lora_init_quantizer(c["quantizer"]);
            const WeightQuantizer quantize = [&](const torch::Tensor& w) {
                return quantize_weight(w, spec, name).dequantized;
            };
            const int64_t rank = c["rank"];
            const double scale = c["alpha"].get<double>() / static_cast<double>(rank);
            for (const int T : {1, 5}) {
                const std::string p = "loftq." + name + ".T" + std::to_string(T);
                const LoftqResult r = loftq(W, quantize, rank, scale, T);
                QVERIFY2(test::max_abs_diff(r.base, lora_init_fixture().tensor(p + ".base")) <= 1e-5,
                         p.c_str());
                const auto want =
                    lora_init_fixture().tensor(p + ".B").matmul(lora_init_fixture().tensor(p + ".A")) * scale;
                QVERIFY2(test::max_abs_diff(low_rank_product(r.factors, scale), want) <= 1e-5, p.c_str());
                QCOMPARE(r.factors.A.sizes(), lora_init_fixture().tensor(p + ".A").sizes());
                const auto errors = c["iterations"][std::to_string(T)]["errors"].get<std::vector<double>>();
                QCOMPARE(r.error_norms.size(), errors.size());
                for (size_t t = 0; t < errors.size(); ++t)
                    QVERIFY2(std::fabs(r.error_norms[t] - errors[t]) <= 1e-5 * errors[t], p.c_str());
            }
        }
        // NF2 at 2 bits (where PEFT's own LoftQ path is fragile): five rounds beat one.
        const auto& e = lora_init_cases()["loftq"]["w1_nf2_r4"]["iterations"]["5"]["errors"];
        QVERIFY(e.back().get<double>() < e.front().get<double>());
        QVERIFY_EXCEPTION_THROWN(
            loftq(
                lora_init_matrix("wq"), [](const torch::Tensor& w) { return w; }, 4, 1.0, 0),
            Error);
    }

    // One LoftQ round on a student quantized with the same spec is the weight-svd scope: the same
    // base (Q(W)) and the same factors, from the one SVD helper (core/lora/init/low_rank.h).
    void one_loftq_round_is_the_weight_svd_scope() {
        const auto teacher = LlamaModel::random(test::tiny_llama_config(), 21);
        QuantSpec spec;
        spec.bits = 2;
        spec.group_size = 16;
        auto student = teacher.clone();
        quantize_model(student, spec);
        auto set = attach_lora(student, lora_init_config(4));
        init_adapters_from_weight_svd(teacher, student, set);
        double error_one = 0.0, error_five = 0.0;
        for (const auto& a : set.adapters()) {
            const auto& name = a->linear_name();
            const WeightQuantizer quantize = [&](const torch::Tensor& w) {
                return quantize_weight(w, spec, name).dequantized;
            };
            const auto W = teacher.linear(name).weight.to(torch::kFloat32);
            const LoftqResult one = loftq(W, quantize, a->rank(), a->scale(), 1);
            QVERIFY2(torch::equal(one.base, student.linear(name).weight), name.c_str());
            QVERIFY2(torch::equal(one.factors.A, a->A()) && torch::equal(one.factors.B, a->B()),
                     name.c_str());
            // More rounds lower the compensated weight error over the model (LoftQ's alternation is
            // not monotone per linear: min-max RTN is not the nearest grid point of the residual).
            const LoftqResult five = loftq(W, quantize, a->rank(), a->scale(), 5);
            error_one += one.error_norms.back();
            error_five += five.error_norms.back();
        }
        QVERIFY2(error_five < error_one,
                 (std::to_string(error_five) + " vs " + std::to_string(error_one)).c_str());
    }

    void input_gram_is_the_mean_outer_product_in_fp64() {
        const int64_t batches = lora_init_cases()["qera"]["batches"];
        InputGram g(64);
        for (int64_t k = 0; k < batches; ++k)
            g.add(lora_init_fixture().tensor("qera.x" + std::to_string(k)));
        QCOMPARE(g.rows(), lora_init_cases()["qera"]["rows"].get<int64_t>());
        QVERIFY(g.mean().scalar_type() == torch::kFloat64);
        QVERIFY2(lora_init_rel_diff(g.mean(), lora_init_fixture().tensor("qera.R")) <= 1e-6,
                 std::to_string(lora_init_rel_diff(g.mean(), lora_init_fixture().tensor("qera.R"))).c_str());
        QVERIFY_EXCEPTION_THROWN(InputGram(3).mean(), Error);
        QVERIFY_EXCEPTION_THROWN(InputGram(3).add(torch::ones({2, 4})), Error);
    }

    void calibrated_closed_form_matches_the_reference_and_is_optimal() {
        const auto W = lora_init_fixture().tensor("qera.W"), Q = lora_init_fixture().tensor("qera.Q"),
                   R = lora_init_fixture().tensor("qera.R");
        const auto E = W - Q;
        auto gen = at::detail::createCPUGenerator(5);
        for (const auto& [key, c] : lora_init_cases()["qera"]["cases"].items()) {
            const int64_t rank = c["rank"];
            const double scale = c["alpha"].get<double>() / static_cast<double>(rank);
            const auto mode = c["mode"] == "exact" ? CalibratedScaling::Exact : CalibratedScaling::Diagonal;
            const LowRankFactors f = calibrated_factors(E, R, rank, scale, mode);
            QCOMPARE(f.A.sizes(), (torch::IntArrayRef{rank, 64}));
            const auto M = f.B.to(torch::kFloat64).matmul(f.A.to(torch::kFloat64)) * scale;
            QVERIFY2(lora_init_rel_diff(M, lora_init_fixture().tensor("qera." + key + ".M")) <= 1e-5,
                     key.c_str());
            const double objective = calibrated_objective(E, R, f, scale);
            const double want = c["objective"];
            QVERIFY2(std::fabs(objective - want) <= 1e-6 * want,
                     (key + ": " + std::to_string(objective)).c_str());
            QVERIFY(objective < c["objective_none"].get<double>());
            // The input feature that is always 0 gets no weight in A (pseudo-inverse, not 1/eps).
            QVERIFY2(f.A.select(1, 10).abs().max().item<double>() <= 1e-6 * f.A.abs().max().item<double>(),
                     key.c_str());
            if (mode != CalibratedScaling::Exact) continue;
            // Optimal among rank-r factorisations: random ones, the plain SVD, the diagonal variant.
            for (int k = 0; k < 20; ++k) {
                LowRankFactors random{torch::randn({rank, 64}, gen) * f.A.norm() / std::sqrt(64.0 * rank),
                                      torch::randn({64, rank}, gen) * f.B.norm() / std::sqrt(64.0 * rank)};
                QVERIFY(calibrated_objective(E, R, random, scale) >= objective);
                LowRankFactors nudged{f.A + torch::randn(f.A.sizes(), gen) * 1e-3, f.B};
                QVERIFY(calibrated_objective(E, R, nudged, scale) >= objective);
            }
            QVERIFY(calibrated_objective(E, R, svd_factors(E, rank, scale), scale) > objective);
            const LowRankFactors diag = calibrated_factors(E, R, rank, scale, CalibratedScaling::Diagonal);
            QVERIFY(calibrated_objective(E, R, diag, scale) > objective);
        }
        QVERIFY_EXCEPTION_THROWN(calibrated_factors(E, R.slice(0, 0, 10), 4, 1.0, CalibratedScaling::Exact),
                                 Error);
        QVERIFY_EXCEPTION_THROWN(calibrated_factors(E, R, 0, 1.0, CalibratedScaling::Exact), Error);
    }
};

RILQ_TEST_GUILESS_MAIN(TestLoraInit)
#include "test_lora_init.moc"
