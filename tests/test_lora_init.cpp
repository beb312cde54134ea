// LoRA initialisations (core/lora/init/) against tests/reference/lora_init_reference.py:
//   * LoftQ (PEFT loftq_utils loop) on stories260K matrices with RTN W2 and NF2, after 1 and 5
//     rounds: base, s B A and the error of every round; one round equals the weight-svd scope;
//   * the calibrated closed form (QERA-exact, diagonal variant): the Gram, s B A and the objective
//     equal the reference's; the exact objective is no worse than any random rank-r factorisation,
//     than the plain SVD and than the diagonal variant; the unused input direction stays unused;
//   * the model-level initialisers (weight-only quantizers, GPTQ inside its sequential pass, the
//     calibrated pass on FP inputs) and their errors.
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/io/safetensors.h"
#include "core/lora/init/adapter_init.h"
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

const nlohmann::json& cases() {
    static const nlohmann::json j = [] {
        std::ifstream in(test::test_data("lora_init/cases.json"));
        if (!in) throw std::runtime_error("missing tests/data/lora_init/cases.json (run tests/reference/lora_init_reference.py)");
        nlohmann::json parsed;
        in >> parsed;
        return parsed;
    }();
    return j;
}

const SafetensorsFile& fixture() {
    static const SafetensorsFile f(test::test_data("lora_init/reference.safetensors"));
    return f;
}

QuantSpec quantizer_spec(const std::string& name) {
    QuantSpec s;
    if (name == "rtn_w2_g64") {
        s.method = QuantMethod::Rtn;
        s.bits = 2;
        s.group_size = 64;
    } else if (name == "nf2_b64") {
        s.method = QuantMethod::Nf;
        s.bits = 2;
        s.group_size = 64;
    } else {
        throw std::runtime_error("unknown quantizer " + name);
    }
    return s;
}

torch::Tensor stories_matrix(const std::string& which) {
    return test::read_llama2c_tensor(test::shared_data("stories260K/stories260K.bin"), which);
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return test::max_abs_diff(a, b) / std::max(b.abs().max().item<double>(), 1e-30);
}

LoraConfig lora(int64_t r) {
    LoraConfig c;
    c.r = r;
    c.alpha = 16.0;
    return c;
}

// Mean over the student's adapters of ||W - (Q + s B A)||_F^2 (weight space).
double compensated_weight_error(const LlamaModel& teacher, const LlamaModel& student, const LoraSet& set) {
    double sum = 0.0;
    for (const auto& a : set.adapters()) {
        const auto& n = a->linear_name();
        sum += (teacher.linear(n).weight - student.linear(n).weight - a->delta_weight()).pow(2).sum().item<double>();
    }
    return sum;
}

double plain_weight_error(const LlamaModel& teacher, const LlamaModel& student) {
    double sum = 0.0;
    for (const auto& n : teacher.linear_names())
        sum += (teacher.linear(n).weight - student.linear(n).weight).pow(2).sum().item<double>();
    return sum;
}

} // namespace

class TestLoraInit : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void loftq_matches_the_reference_after_1_and_5_rounds() {
        for (const auto& [name, c] : cases()["loftq"].items()) {
            const auto W = stories_matrix(c["matrix"]);
            const QuantSpec spec = quantizer_spec(c["quantizer"]);
            const WeightQuantizer quantize = [&](const torch::Tensor& w) {
                return quantize_weight(w, spec, name).dequantized;
            };
            const int64_t rank = c["rank"];
            const double scale = c["alpha"].get<double>() / static_cast<double>(rank);
            for (const int T : {1, 5}) {
                const std::string p = "loftq." + name + ".T" + std::to_string(T);
                const LoftqResult r = loftq(W, quantize, rank, scale, T);
                QVERIFY2(test::max_abs_diff(r.base, fixture().tensor(p + ".base")) <= 1e-5, p.c_str());
                const auto want = fixture().tensor(p + ".B").matmul(fixture().tensor(p + ".A")) * scale;
                QVERIFY2(test::max_abs_diff(low_rank_product(r.factors, scale), want) <= 1e-5, p.c_str());
                QCOMPARE(r.factors.A.sizes(), fixture().tensor(p + ".A").sizes());
                const auto errors = c["iterations"][std::to_string(T)]["errors"].get<std::vector<double>>();
                QCOMPARE(r.error_norms.size(), errors.size());
                for (size_t t = 0; t < errors.size(); ++t)
                    QVERIFY2(std::fabs(r.error_norms[t] - errors[t]) <= 1e-5 * errors[t], p.c_str());
            }
        }
        // NF2 at 2 bits (where PEFT's own LoftQ path is fragile): five rounds beat one.
        const auto& e = cases()["loftq"]["w1_nf2_r4"]["iterations"]["5"]["errors"];
        QVERIFY(e.back().get<double>() < e.front().get<double>());
        QVERIFY_EXCEPTION_THROWN(loftq(stories_matrix("wq"), [](const torch::Tensor& w) { return w; }, 4, 1.0, 0), Error);
    }

    // One LoftQ round on a student quantized with the same spec is the weight-svd scope, with the
    // same base: one implementation behind both.
    void one_loftq_round_is_the_weight_svd_scope() {
        const auto teacher = LlamaModel::random(test::tiny_llama_config(), 21);
        QuantSpec spec;
        spec.bits = 2;
        spec.group_size = 16;
        auto svd_student = teacher.clone();
        quantize_model(svd_student, spec);
        auto loftq_student = svd_student.clone();
        auto svd_set = attach_lora(svd_student, lora(4));
        init_adapters_from_weight_svd(teacher, svd_student, svd_set);
        auto loftq_set = attach_lora(loftq_student, lora(4));
        const auto report = loftq_init_adapters(teacher, loftq_student, loftq_set, spec, 1);
        QCOMPARE(report.iterations, 1);
        for (const auto& name : teacher.linear_names()) {
            QVERIFY(torch::equal(loftq_student.linear(name).weight, svd_student.linear(name).weight));
            QVERIFY(torch::equal(loftq_set.adapter(name).A(), svd_set.adapter(name).A()));
            QVERIFY(torch::equal(loftq_set.adapter(name).B(), svd_set.adapter(name).B()));
        }
        // More rounds move the base and lower the compensated weight error.
        auto five_student = teacher.clone();
        quantize_model(five_student, spec);
        auto five_set = attach_lora(five_student, lora(4));
        const auto five = loftq_init_adapters(teacher, five_student, five_set, spec, 5);
        QVERIFY(five.mean_error < report.mean_error);
        QVERIFY(compensated_weight_error(teacher, five_student, five_set) <
                compensated_weight_error(teacher, loftq_student, loftq_set));
    }

    void input_gram_is_the_mean_outer_product_in_fp64() {
        const int64_t batches = cases()["qera"]["batches"];
        InputGram g(64);
        for (int64_t k = 0; k < batches; ++k) g.add(fixture().tensor("qera.x" + std::to_string(k)));
        QCOMPARE(g.rows(), cases()["qera"]["rows"].get<int64_t>());
        QVERIFY(g.mean().scalar_type() == torch::kFloat64);
        QVERIFY2(rel_diff(g.mean(), fixture().tensor("qera.R")) <= 1e-6, std::to_string(rel_diff(g.mean(), fixture().tensor("qera.R"))).c_str());
        QVERIFY_EXCEPTION_THROWN(InputGram(3).mean(), Error);
        QVERIFY_EXCEPTION_THROWN(InputGram(3).add(torch::ones({2, 4})), Error);
    }

    void calibrated_closed_form_matches_the_reference_and_is_optimal() {
        const auto W = fixture().tensor("qera.W"), Q = fixture().tensor("qera.Q"), R = fixture().tensor("qera.R");
        const auto E = W - Q;
        auto gen = at::detail::createCPUGenerator(5);
        for (const auto& [key, c] : cases()["qera"]["cases"].items()) {
            const int64_t rank = c["rank"];
            const double scale = c["alpha"].get<double>() / static_cast<double>(rank);
            const auto mode = c["mode"] == "exact" ? CalibratedScaling::Exact : CalibratedScaling::Diagonal;
            const LowRankFactors f = calibrated_factors(E, R, rank, scale, mode);
            QCOMPARE(f.A.sizes(), (torch::IntArrayRef{rank, 64}));
            const auto M = f.B.to(torch::kFloat64).matmul(f.A.to(torch::kFloat64)) * scale;
            QVERIFY2(rel_diff(M, fixture().tensor("qera." + key + ".M")) <= 1e-5, key.c_str());
            const double objective = calibrated_objective(E, R, f, scale);
            const double want = c["objective"];
            QVERIFY2(std::fabs(objective - want) <= 1e-6 * want, (key + ": " + std::to_string(objective)).c_str());
            QVERIFY(objective < c["objective_none"].get<double>());
            // The input feature that is always 0 gets no weight in A (pseudo-inverse, not 1/eps).
            QVERIFY2(f.A.select(1, 10).abs().max().item<double>() <= 1e-6 * f.A.abs().max().item<double>(), key.c_str());
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
        QVERIFY_EXCEPTION_THROWN(calibrated_factors(E, R.slice(0, 0, 10), 4, 1.0, CalibratedScaling::Exact), Error);
        QVERIFY_EXCEPTION_THROWN(calibrated_factors(E, R, 0, 1.0, CalibratedScaling::Exact), Error);
    }

    // The model-level pass: each adapter's objective on the FP model's inputs to that linear drops,
    // and the compensated model's last hidden state is closer to the FP model's than the quantized.
    void calibrated_init_of_a_model_lowers_the_output_error() {
        const auto teacher = test::structured_random_model(test::tiny_llama_config(), 31);
        auto student = test::fake_quantized_copy(teacher, 2, 16);
        const auto ids = test::random_windows(4, 24, 64, 9);
        ForwardOptions hid;
        hid.want_logits = false;
        hid.want_hidden = true;
        const auto target = teacher.forward(ids, hid).hidden;
        const double before = (student.forward(ids, hid).hidden - target).pow(2).mean().item<double>();
        for (const auto scaling : {CalibratedScaling::Exact, CalibratedScaling::Diagonal}) {
            auto set = attach_lora(student, lora(4));
            const auto report = calibrated_init_adapters(teacher, student, set, ids, scaling);
            QVERIFY(report.mean_objective_ratio > 0.0 && report.mean_objective_ratio < 1.0);
            const double after = (student.forward(ids, hid).hidden - target).pow(2).mean().item<double>();
            QVERIFY2(after < before, (std::to_string(after) + " vs " + std::to_string(before)).c_str());
            detach_lora(student, set);
        }
        auto set = attach_lora(student, lora(4));
        QVERIFY_EXCEPTION_THROWN(calibrated_init_adapters(teacher, student, set, {}, CalibratedScaling::Exact), Error);
    }

    // LoftQ with GPTQ runs inside GPTQ's sequential pass: the base is GPTQ's, the adapters carry
    // part of the rest, and more rounds do not need more than the Hessians of one pass.
    void loftq_with_gptq_quantizes_against_the_hessians() {
        const auto teacher = test::structured_random_model(test::tiny_llama_config(), 41);
        QuantSpec spec;
        spec.method = QuantMethod::Gptq;
        spec.bits = 2;
        spec.group_size = 16;
        spec.rtn_variant = RtnVariant::Gptq;
        const auto ids = test::random_windows(4, 24, 64, 10);
        auto student = teacher.clone();
        QuantizeModelOptions qo;
        qo.calib_ids = ids;
        quantize_model(student, spec, qo);
        const double gptq_error = plain_weight_error(teacher, student);
        auto set = attach_lora(student, lora(4));
        const auto report = loftq_init_adapters(teacher, student, set, spec, 2, ids);
        QCOMPARE(report.iterations, 2);
        QVERIFY(report.mean_error > 0.0 && report.mean_error < 1.0);
        QVERIFY(compensated_weight_error(teacher, student, set) < gptq_error);
        for (const auto& a : set.adapters()) QVERIFY(a->B().abs().max().item<double>() > 0.0);
        detach_lora(student, set);
        auto again = attach_lora(student, lora(4));
        QVERIFY_EXCEPTION_THROWN(loftq_init_adapters(teacher, student, again, spec, 2), Error); // no windows
    }
};

RILQ_TEST_GUILESS_MAIN(TestLoraInit)
#include "test_lora_init.moc"
