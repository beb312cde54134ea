// NormalFloat: tables (listed NF4, constructions, bitsandbytes kernel thresholds, dynamic map),
// hand-computed blocks, double quantization, invariants, and the PyTorch reference fixture.
#include "tests/support/test_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <torch/torch.h>

#include "core/quant/dynamic_map.h"
#include "core/quant/nf.h"
#include "core/quant/nf_tables.h"
#include "core/quant/quantizer.h"
#include "core/util/error.h"
#include "tests/quant/quant_fixture.h"

#include <cmath>

using namespace rilq;

namespace {

QuantSpec nf(int bits, int64_t block = 64, const std::string& variant = "bnb", bool dq = false) {
    QuantSpec s;
    s.method = "nf";
    s.bits = bits;
    s.group_size = block;
    s.variant = variant;
    s.double_quant = dq;
    return s;
}


bool near(const std::vector<float>& a, const std::vector<double>& b, double tol) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::fabs(a[i] - b[i]) > tol) return false;
    return true;
}

} // namespace

class TestQuantNf : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void normal_quantile_is_accurate() {
        // Phi^-1 values from standard tables.
        QVERIFY(std::fabs(normal_quantile(0.975) - 1.959963984540054) < 1e-14);
        QVERIFY(std::fabs(normal_quantile(0.5)) < 1e-15);
        QVERIFY(std::fabs(normal_quantile(0.01) + 2.326347874040841) < 1e-14);
        QVERIFY(std::fabs(normal_quantile(1e-10) + 6.361340902404056) < 1e-12);
        QVERIFY(std::fabs(icq_sigma() - 0.541087238630813) < 1e-12);
    }

    // The bnb construction reproduces bitsandbytes' own NF4 list bit for bit.
    void nf4_construction_reproduces_bnb_table() {
        QCOMPARE(nf_asymmetric_table(4), nf4_bnb_table());
        QCOMPARE(nf_table(4, NfVariant::BnbAsymmetric), nf4_bnb_table());
    }

    // METHODS §1.2 values (re-derived there with statistics.NormalDist).
    void nf3_nf2_tables() {
        QVERIFY(near(nf_table(3, NfVariant::BnbAsymmetric),
                     {-1, -0.478629, -0.217142, 0, 0.160930, 0.337915, 0.562617, 1}, 1e-6));
        QVERIFY(near(nf_table(2, NfVariant::BnbAsymmetric), {-1, 0, 0.337915, 1}, 1e-6));
        QVERIFY(near(nf_table(2, NfVariant::QloraSymmetric), {-1, -0.25256848, 0.25256848, 1}, 1e-7));
        QVERIFY(near(nf_table(3, NfVariant::QloraSymmetric),
                     {-1, -0.576297, -0.319237, -0.102988, 0.102988, 0.319237, 0.576297, 1}, 1e-6));
    }

    // The decision-tree constants of bitsandbytes' dQuantizeNF4 (CUDA kernel), sorted.
    void nf4_thresholds_are_the_kernel_constants() {
        const std::vector<float> kernel = {
            -0.8480964004993439f,  -0.6106329262256622f,  -0.4599952697753906f,   -0.33967943489551544f,
            -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
            0.1202552504837513f,   0.2035212516784668f,   0.2920137718319893f,    0.3893125355243683f,
            0.5016634166240692f,   0.6427869200706482f,   0.8614784181118011f};
        QCOMPARE(nf_thresholds(nf4_bnb_table()), kernel);
    }

    void dynamic_map_shape() {
        const auto& m = dynamic_map();
        QCOMPARE(m.size(), size_t{256});
        QVERIFY(std::is_sorted(m.begin(), m.end()));
        QVERIFY(m.back() == 1.0f);
        QVERIFY(std::fabs(m.front() + 0.99296875f) < 1e-7f); // -(0.9859375 + 1) / 2
        QCOMPARE(std::count(m.begin(), m.end(), 0.0f), 1L);
        QVERIFY(m[127] == 0.0f);
        QVERIFY(std::fabs(m[128] - 0.55e-6f) <
                1e-12f); // smallest positive: 1e-6 * mean of linspace(0.1, 1, 2)
        // argmin ties go to the first index, NaN to the 0.0 entry.
        QCOMPARE(static_cast<int>(dynamic_map_argmin(1.0f)), 255);
        QCOMPARE(static_cast<int>(dynamic_map_argmin(-5.0f)), 0);
        QCOMPARE(m[dynamic_map_argmin(std::nanf(""))], 0.0f);
    }

    // Block [0.5, -1, 0.1, 0]: absmax 1; thresholds below 0.5: 12 -> code 12 (0.4407...);
    // -1 -> 0; 0.1 -> 8 (0.0796); 0 -> 7 (0.0). Second block [0, 0, 0, 0]: 1/0 = inf, 0*inf = NaN,
    // which bnb's tree sends to code 0; w_hat = -1 * 0 = 0.
    void hand_nf4_blocks() {
        auto w = torch::tensor({0.5f, -1.0f, 0.1f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 4});
        auto r = quantize_weight(w, nf(4, 4), "hand");
        QCOMPARE(test::float_values(r.codes), (std::vector<float>{12, 0, 8, 7, 0, 0, 0, 0}));
        QCOMPARE(test::float_values(r.absmax), (std::vector<float>{1.0f, 0.0f}));
        const auto& t = nf4_bnb_table();
        QCOMPARE(test::float_values(r.dequantized),
                 (std::vector<float>{t[12], -1.0f, t[8], 0.0f, -0.0f, -0.0f, -0.0f, -0.0f}));
    }

    // Flat blocks cross rows: (3, 5) with block 4 -> blocks {0..3}, {4..7}, {8..11}, {12..14}.
    void flat_blocks_and_short_last_block() {
        auto w = torch::arange(1, 16, torch::kFloat32).reshape({3, 5});
        auto r = quantize_weight(w, nf(2, 4), "flat");
        QCOMPARE(r.layout.num_groups(), int64_t{4});
        QCOMPARE(r.layout.last_group_size(), int64_t{3});
        QCOMPARE(test::float_values(r.absmax), (std::vector<float>{4.0f, 8.0f, 12.0f, 15.0f}));
        // NF2 bnb = [-1, 0, 0.337915, 1], thresholds -0.5, 0.16896, 0.66896. Block 3 = [13, 14, 15]/15
        // = 0.867, 0.933, 1 -> all code 3.
        QCOMPARE(test::float_values(r.codes).back(), 3.0f);
        QCOMPARE(test::float_values(r.dequantized).back(), 15.0f);
    }

    // Double quantization by hand: one value per block (B = 1), absmax [1, 2, 3, 4], one 8-bit
    // block of 4: c = 2.5, a2 = 1.5, (a - c)/a2 = [-1, -1/3, 1/3, 1] -> nearest dynamic entries
    // -0.99296875, -0.33203125, 0.33203125, 1 (0.33203125 = mean of linspace(0.1, 1, 65) items 16, 17);
    // a_hat = dyn * 1.5 + 2.5 = [1.010546875, 2.001953125, 2.998046875, 4].
    void hand_double_quant() {
        QuantSpec s = nf(4, 1, "bnb", true);
        s.double_quant_block = 4;
        auto r = quantize_weight(torch::tensor({1.0f, -2.0f, 3.0f, 4.0f}).reshape({1, 4}), s, "dq");
        const NfRecord& record = nf_record(r);
        QVERIFY(record.double_quantized);
        QCOMPARE(record.double_quant.mean, 2.5f);
        QCOMPARE(test::float_values(record.double_quant.scales), (std::vector<float>{1.5f}));
        QVERIFY(near(test::float_values(r.absmax), {1.010546875, 2.001953125, 2.998046875, 4.0}, 1e-6));
        QVERIFY(near(test::float_values(r.dequantized), {1.010546875, -2.001953125, 2.998046875, 4.0}, 1e-6));
        QCOMPARE(test::float_values(record.absmax_fp), (std::vector<float>{1, 2, 3, 4}));
    }

    void invariants_codes_in_range_and_error_falls_with_bits() {
        torch::manual_seed(11);
        auto w = torch::randn({48, 200}) * 0.02;
        for (const auto& v : nf_method().variant_names()) {
            for (bool dq : {false, true}) {
                double prev = 1e9;
                for (int bits : {2, 3, 4}) {
                    auto r = quantize_weight(w, nf(bits, 64, v, dq), "w");
                    QVERIFY(r.codes.max().item<int>() <= (1 << bits) - 1);
                    const double err = ((w - r.dequantized).norm() / w.norm()).item<double>();
                    QVERIFY(err < prev);
                    prev = err;
                }
            }
        }
        // Every value maps to the level nearest to x/absmax (the midpoint bucketize is an argmin).
        auto r = quantize_weight(w, nf(3, 64), "w");
        auto table = r.table;
        auto blocks = w.reshape({-1, 64});
        auto scaled = blocks / blocks.abs().amax(1, true);
        auto argmin = (scaled.unsqueeze(-1) - table).abs().argmin(-1);
        QCOMPARE(test::count_differences(argmin.reshape({-1}).to(torch::kUInt8), r.codes.reshape({-1})),
                 int64_t{0});
    }

    void non_finite_weights_name_the_tensor() {
        auto w = torch::randn({2, 64});
        w[0][63] = std::nanf("");
        try {
            quantize_weight(w, nf(4), "layers.1.mlp.up_proj");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find(
                        "layers.1.mlp.up_proj: cannot quantize, 1 non-finite value, first nan at [0, 63]") !=
                    std::string::npos);
        }
    }

    void matches_pytorch_reference() {
        const auto& fx = test::quant_reference();
        for (const std::string v : {"bnb", "sym"})
            for (int b : {2, 3, 4}) {
                QCOMPARE(nf_table(b, variant_value(nf_variants(), v, "nf")),
                         test::float_values(test::decode_tensor(fx["nf_tables"][v + std::to_string(b)])));
                QCOMPARE(nf_thresholds(nf_table(b, variant_value(nf_variants(), v, "nf"))),
                         test::float_values(test::decode_tensor(fx["nf_thresholds"][v + std::to_string(b)])));
            }
        QCOMPARE(nf_asymmetric_table(4), test::float_values(test::decode_tensor(fx["nf4_construction"])));
        QCOMPARE(dynamic_map(), test::float_values(test::decode_tensor(fx["dynamic_map"])));

        auto w = test::decode_tensor(fx["nf_input"]);
        int cases = 0;
        for (const auto& c : fx["nf"]) {
            QuantSpec s = nf(c["bits"], c["block"], c["variant"], c["double_quant"]);
            s.double_quant_block = c["dq_block"];
            auto r = quantize_weight(w, s, "fixture");
            const std::string what = s.describe();
            QVERIFY2(test::count_differences(r.codes, test::decode_tensor(c["codes"])) == 0, what.c_str());
            const NfRecord& record = nf_record(r);
            QVERIFY2(test::count_differences(record.absmax_fp, test::decode_tensor(c["absmax_fp"])) == 0,
                     what.c_str());
            QVERIFY2(test::count_differences(r.absmax, test::decode_tensor(c["absmax"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.dequantized, test::decode_tensor(c["dequantized"])) == 0,
                     what.c_str());
            if (s.double_quant) {
                QVERIFY2(record.double_quant.mean == c["dq_mean"].get<float>(), what.c_str());
                QVERIFY2(test::count_differences(record.double_quant.codes,
                                                 test::decode_tensor(c["dq_codes"])) == 0,
                         what.c_str());
                QVERIFY2(test::count_differences(record.double_quant.scales,
                                                 test::decode_tensor(c["dq_scales"])) == 0,
                         what.c_str());
            }
            ++cases;
        }
        QCOMPARE(cases, 8);
    }
};

RILQ_TEST_APPLESS_MAIN(TestQuantNf)
#include "test_quant_nf.moc"
