// RTN int-k: hand-computed groups (partial last group, all-equal, one outlier, all-positive
// where OmniQuant and GPTQ differ, NaN/Inf), invariants, and the PyTorch reference fixture.
#include "tests/support/test_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <torch/torch.h>

#include "core/quant/quantizer.h"
#include "core/quant/rounding.h"
#include "core/quant/rtn.h"
#include "core/util/error.h"
#include "tests/quant/quant_fixture.h"

#include <cmath>

using namespace rilq;

namespace {

// `group` 0 = one group per row (the Python fixture writes -1 for that).
QuantSpec rtn(int bits, int64_t group, const std::string& variant = "omniquant") {
    QuantSpec s;
    s.method = "rtn";
    s.bits = bits;
    s.group_size = group < 0 ? 0 : group;
    s.variant = variant;
    return s;
}


torch::Tensor row(std::vector<float> v) {
    return torch::tensor(v, torch::kFloat32).reshape({1, -1});
}

} // namespace

class TestQuantRtn : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void round_half_even_matches_nearbyint() {
        const float cases[] = {0.5f,        1.5f,        2.5f,       -0.5f,      -1.5f,
                               -2.5f,       0.49999997f, 4194303.5f, 8388607.5f, 8388608.0f,
                               16777217.0f, -3.7f,       1e-30f,     -0.0f,      1e20f};
        for (float v : cases)
            QCOMPARE(round_half_even(v), std::nearbyint(v));
        auto r = torch::randn({10000}) * 1000;
        for (float v : test::float_values(r))
            QCOMPARE(round_half_even(v), std::nearbyint(v));
    }

    // Group A = [-1, -0.5, 0, 0.5]: s = 1.5/3 = 0.5, z = round(1/0.5) = 2, codes 0..3, exact.
    // Group B = [1.0, 0.25] (the shorter last group): OmniQuant s = 0.75/3 = 0.25, z = round(-1) = -1,
    // codes (4-1, 1-1) = (3, 0), exact; GPTQ widens to [0, 1]: s = 1/3, 0.25/s = 0.75 -> code 1 -> 1/3.
    void hand_partial_last_group_and_all_positive() {
        auto w = row({-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 0.25f});
        auto omni = quantize_weight(w, rtn(2, 4), "hand");
        QCOMPARE(omni.layout.groups_per_row(), int64_t{2});
        QCOMPARE(omni.layout.last_group_size(), int64_t{2});
        QVERIFY(omni.layout.has_partial_group());
        QCOMPARE(test::float_values(omni.dequantized), (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 0.25f}));
        QCOMPARE(test::float_values(omni.codes), (std::vector<float>{0, 1, 2, 3, 3, 0}));
        QCOMPARE(test::float_values(omni.scales), (std::vector<float>{0.5f, 0.25f}));
        QCOMPARE(test::float_values(omni.zeros), (std::vector<float>{2.0f, -1.0f}));

        auto gptq = quantize_weight(w, rtn(2, 4, "gptq"), "hand");
        const auto d = test::float_values(gptq.dequantized);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(d[static_cast<size_t>(i)], test::float_values(omni.dequantized)[static_cast<size_t>(i)]);
        QVERIFY(d[5] == 1.0f / 3.0f);
        QVERIFY(test::float_values(gptq.zeros)[1] == 0.0f);
    }

    // All-equal group of 0.5 at 2 bits. OmniQuant: range 0 -> scale clamps to 1e-5, -min/scale =
    // -50000 clamps to -1e4, code = clamp(50000 - 10000, 0, 3) = 3, w_hat = (3 + 10000) * 1e-5 = 0.10003.
    // GPTQ: range [0, 0.5], scale 1/6, code 3, w_hat = 0.5. An all-zero group: GPTQ uses [-1, 1].
    void hand_all_equal_group() {
        auto w = row({0.5f, 0.5f, 0.5f, 0.5f});
        auto omni = quantize_weight(w, rtn(2, 4), "equal");
        QCOMPARE(test::float_values(omni.zeros)[0], -10000.0f);
        for (float v : test::float_values(omni.dequantized))
            QVERIFY(v == 10003.0f * 1e-5f);
        auto gptq = quantize_weight(w, rtn(2, 4, "gptq"), "equal");
        for (float v : test::float_values(gptq.dequantized))
            QVERIFY(std::fabs(v - 0.5f) < 1e-7f);
        auto zero = quantize_weight(torch::zeros({1, 4}), rtn(2, 4, "gptq"), "zero");
        QVERIFY(test::float_values(zero.scales)[0] == 2.0f / 3.0f);
        QVERIFY(test::float_values(zero.zeros)[0] == 2.0f); // round(1 / (2/3)) = round(1.5) = 2 (half to even)
        for (float v : test::float_values(zero.dequantized))
            QCOMPARE(v, 0.0f);
    }

    // One outlier: [0.01, -0.02, 0.015, 1.0]: s = 1.02/3 = 0.34, z = round(0.0588) = 0; the three
    // small values round to code 0 (w_hat 0) and the outlier to code 3 (w_hat 1.02).
    void hand_one_outlier() {
        auto r = quantize_weight(row({0.01f, -0.02f, 0.015f, 1.0f}), rtn(2, 4), "outlier");
        QCOMPARE(test::float_values(r.codes), (std::vector<float>{0, 0, 0, 3}));
        const auto d = test::float_values(r.dequantized);
        QCOMPARE(d[0], 0.0f);
        QCOMPARE(d[1], 0.0f);
        QCOMPARE(d[2], 0.0f);
        QVERIFY(d[3] == 3.0f * ((1.0f - -0.02f) / 3.0f));
    }

    // Symmetric forms on [-0.8, 0.5, 0.25, 1.0] at 2 bits.
    // GPTQ sym: xmax = max(0.8, 1) = 1, xmin = -1, scale = 2/3, zero = 2; x/scale = -1.2, 0.75, 0.375,
    // 1.5 -> round -1, 1, 0, (1 or 2) -> +2 -> codes 1, 3, 2, 3 (clamped).
    // OmniQuant sym: scale = 1 / (2^1 - 1) = 1, zero = 1: round(x) = -1, 0 (half to even), 0, 1 -> 0, 1,
    // 1, 2.
    void hand_symmetric() {
        auto w = row({-0.8f, 0.5f, 0.25f, 1.0f});
        auto g = quantize_weight(w, rtn(2, 4, "gptq-sym"), "sym");
        QCOMPARE(test::float_values(g.codes), (std::vector<float>{1, 3, 2, 3}));
        QVERIFY(test::float_values(g.zeros)[0] == 2.0f);
        QVERIFY(test::float_values(g.scales)[0] == 2.0f / 3.0f);
        auto o = quantize_weight(w, rtn(2, 4, "omniquant-sym"), "sym");
        QCOMPARE(test::float_values(o.codes), (std::vector<float>{0, 1, 1, 2}));
        QCOMPARE(test::float_values(o.dequantized), (std::vector<float>{-1.0f, 0.0f, 0.0f, 1.0f}));
    }

    void non_finite_weights_name_the_tensor() {
        auto w = torch::randn({3, 8});
        w[1][2] = std::nanf("");
        w[2][5] = INFINITY;
        try {
            quantize_weight(w, rtn(2, 4), "layers.0.self_attn.q_proj");
            QFAIL("expected an error");
        } catch (const Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("layers.0.self_attn.q_proj") != std::string::npos, msg.c_str());
            QVERIFY2(msg.find("2 non-finite values") != std::string::npos, msg.c_str());
            QVERIFY2(msg.find("nan at [1, 2]") != std::string::npos, msg.c_str());
        }
        auto inf = torch::zeros({2, 4});
        inf[0][3] = -INFINITY;
        QVERIFY_EXCEPTION_THROWN(quantize_weight(inf, rtn(4, 0), "w"), Error);
    }

    void invalid_specs_are_errors() {
        QVERIFY_EXCEPTION_THROWN(quantize_weight(torch::randn({2, 8}), rtn(5, 64), "w"), Error);
        QuantSpec negative_group = rtn(2, 4);
        negative_group.group_size = -1;
        QVERIFY_EXCEPTION_THROWN(quantize_weight(torch::randn({2, 8}), negative_group, "w"), Error);
        QVERIFY_EXCEPTION_THROWN(quantize_weight(torch::randn({2, 8}), rtn(2, 4, "sym"), "w"), Error);
        QVERIFY_EXCEPTION_THROWN(quantize_weight(torch::randn({8}), rtn(2, 4), "w"), Error);
    }

    void invariants_codes_in_range_and_error_falls_with_bits() {
        torch::manual_seed(3);
        auto w = torch::randn({64, 300}) * 0.02;
        for (const auto& variant : rtn_method().variant_names()) {
            for (int64_t g : {int64_t{32}, int64_t{64}, int64_t{128}, int64_t{0}}) {
                double prev = 1e9;
                for (int bits : {2, 3, 4, 8}) {
                    auto r = quantize_weight(w, rtn(bits, g, variant), "w");
                    QVERIFY(r.codes.max().item<int>() <= (1 << bits) - 1);
                    const double err = ((w - r.dequantized).norm() / w.norm()).item<double>();
                    QVERIFY2(err < prev,
                             (variant + " g" + std::to_string(g) + " b" + std::to_string(bits)).c_str());
                    prev = err;
                }
            }
        }
        // 300 = 4*64 + 44: every row's last group is shorter.
        auto r = quantize_weight(w, rtn(2, 64), "w");
        QCOMPARE(r.layout.last_group_size(), int64_t{44});
        QCOMPARE(r.layout.partial_groups(), int64_t{64});
        QCOMPARE(r.scales.size(1), int64_t{5});
    }

    // When every group spans zero the two asymmetric forms coincide bit for bit.
    void omniquant_equals_gptq_when_groups_span_zero() {
        torch::manual_seed(5);
        auto w = torch::randn({16, 256}) * 0.02;
        auto g = w.view({16, 4, 64});
        g.select(2, 0).fill_(-0.05);
        g.select(2, 1).fill_(0.05);
        for (int bits : {2, 3, 4, 8}) {
            auto a = quantize_weight(w, rtn(bits, 64, "omniquant"), "w");
            auto b = quantize_weight(w, rtn(bits, 64, "gptq"), "w");
            QCOMPARE(test::count_differences(a.dequantized, b.dequantized), int64_t{0});
        }
    }

    void matches_pytorch_reference() {
        const auto& fx = test::quant_reference();
        auto w = test::decode_tensor(fx["rtn_input"]);
        int cases = 0;
        for (const auto& c : fx["rtn"]) {
            QuantSpec s = rtn(c["bits"], c["group"], c["variant"]);
            auto r = quantize_weight(w, s, "fixture");
            const std::string what = s.describe();
            QVERIFY2(test::count_differences(r.dequantized, test::decode_tensor(c["dequantized"])) == 0,
                     what.c_str());
            QVERIFY2(test::count_differences(r.codes, test::decode_tensor(c["codes"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.scales, test::decode_tensor(c["scales"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.zeros, test::decode_tensor(c["zeros"])) == 0, what.c_str());
            ++cases;
        }
        QCOMPARE(cases, 16);
    }
};

RILQ_TEST_APPLESS_MAIN(TestQuantRtn)
#include "test_quant_rtn.moc"
