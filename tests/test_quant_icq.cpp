// ICQ (IR-QLoRA): NF path and integer path. Hand-computed blocks, a brute-force oracle for the
// exact-ties search, invariants (the winner's entropy >= the median start, which is a
// candidate), the fp32 arithmetic of the official code, and the PyTorch reference fixture,
// including stories260K's real weights.
#include "tests/support/test_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <torch/torch.h>

#include "core/quant/code_entropy.h"
#include "core/quant/dynamic_map.h"
#include "core/quant/icq_int.h"
#include "core/quant/icq_nf.h"
#include "core/quant/metrics.h"
#include "core/quant/nf_tables.h"
#include "core/quant/quantizer.h"
#include "core/util/config_fields.h"
#include "core/util/error.h"
#include "tests/quant/quant_fixture.h"

#include <algorithm>
#include <cmath>

using namespace rilq;

namespace {

QuantSpec icq(int bits, int64_t block = 64, int n = 100, double lambda = 0.1) {
    QuantSpec s;
    s.method = "icq-nf";
    s.bits = bits;
    s.group_size = block;
    s.icq_tau_n = n;
    s.icq_tau_lambda = lambda;
    return s;
}

// `group` 0 = one group per row (the Python fixture writes -1 for that).
QuantSpec icq_int(int bits, int64_t group = 64, const std::string& variant = "gptq") {
    QuantSpec s;
    s.method = "icq-int";
    s.bits = bits;
    s.group_size = group < 0 ? 0 : group;
    s.variant = variant;
    return s;
}

IcqEntropyArithmetic entropy_arithmetic(const std::string& name) {
    IcqEntropyArithmetic value{};
    if (!config::find_value(icq_entropy_names(), name, value)) throw Error("fixture: entropy " + name);
    return value;
}


} // namespace

class TestQuantIcq : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void candidates_like_numpy_linspace() {
        const auto f = icq_nf_candidates(100, 0.1);
        QCOMPARE(f.size(), size_t{201});
        QVERIFY(f[100] == 0.0f);                         // the median start is a candidate
        QVERIFY(std::fabs(f[200] - 0.0541087f) < 1e-7f); // lambda * sigma
        QVERIFY(f[0] == -f[200]);
        QVERIFY(std::is_sorted(f.begin(), f.end()));
        const auto& fx = test::quant_reference();
        QCOMPARE(f, test::float_values(test::decode_tensor(fx["icq_candidates_n100"])));
        QVERIFY(std::fabs(icq_sigma() - fx["sigma"].get<double>()) < 1e-15);
        QCOMPARE(icq_nf_candidates(0, 0.1), std::vector<float>{0.0f});
        const auto p = icq_int_candidates(50, 0.1);
        QCOMPARE(p.size(), size_t{101});
        QVERIFY(p[0] == 1.0f && std::fabs(p[50] - 1.1f) < 1e-6f && std::fabs(p[100] - 0.9f) < 1e-6f);
        QCOMPARE(p, test::float_values(test::decode_tensor(fx["icq_int_candidates"])));
    }

    // The fp32 entropy terms are torch's own (-f * log2 f), as the official evaluate_entropy.
    void entropy_terms_match_torch() {
        const auto t = make_entropy_table(64);
        QCOMPARE(t.f32, test::float_values(test::decode_tensor(test::quant_reference()["entropy_terms_64"])));
        QCOMPARE(t.f32[0], 0.0f);
        QCOMPARE(t.f32[32], 0.5f);
        int32_t uniform[4] = {16, 16, 16, 16};
        QCOMPARE(entropy_f32(uniform, 4, t), 2.0f);
        QVERIFY(std::fabs(fixed_entropy_to_bits(entropy_fixed(uniform, 4, t), 64) - 2.0) < 1e-12);
    }

    // fp32 sums depend on the order of the terms: histograms that are permutations of each other
    // can differ in the last bit (the official search counts that as a gain); the exact arithmetic
    // gives them equal entropy.
    void float32_entropy_is_order_dependent_exact_is_not() {
        const auto t = make_entropy_table(64);
        int found = 0;
        std::vector<int32_t> h = {1, 2, 3, 5, 7, 9, 11, 26};
        std::sort(h.begin(), h.end());
        do {
            int32_t a[8], b[8];
            std::copy(h.begin(), h.end(), a);
            std::copy(h.begin(), h.end(), b);
            std::sort(b, b + 8);
            if (entropy_f32(a, 8, t) != entropy_f32(b, 8, t)) ++found;
            QCOMPARE(entropy_fixed(a, 8, t), entropy_fixed(b, 8, t));
        } while (std::next_permutation(h.begin(), h.end()) && found < 3);
        QVERIFY(found > 0);
    }

    // Block [0, 1, 2, 3], NF2 (bnb: [-1, 0, 0.337915, 1], thresholds -0.5, 0.16896, 0.66896),
    // n = 1, lambda = 0.9: tau0 = 1 (lower median), m = 2, f = -0.48698, 0, +0.48698 ->
    //   tau = 0.026: v = [-0.009, 0.328, 0.664, 1]  -> codes 1,2,2,3 -> H = 1.5 bits
    //   tau = 1:     v = [-0.5, 0, 0.5, 1]          -> codes 0,1,2,3 -> H = 2 bits (-0.5 sits on a threshold:
    //   lower code) tau = 1.974: v = [-1, -0.493, 0.013, 0.520] -> codes 0,1,1,2 -> H = 1.5 bits
    // Winner: the median start. tau2 = |tau*| = 1, tau1 = the 1.0 entry, w_hat = table * 2 + 1.
    void hand_block_median_start_wins() {
        auto r = quantize_weight(torch::tensor({0.0f, 1.0f, 2.0f, 3.0f}).reshape({1, 4}), icq(2, 4, 1, 0.9),
                                 "hand");
        const auto& st = icq_nf_record(r);
        QCOMPARE(st.choice.item<int64_t>(), int64_t{1});
        QCOMPARE(st.median.item<float>(), 1.0f);
        QCOMPARE(st.spread.item<float>(), 2.0f);
        QCOMPARE(st.start_entropy.item<float>(), 2.0f);
        QCOMPARE(st.best_entropy.item<float>(), 2.0f);
        QCOMPARE(test::float_values(r.codes), (std::vector<float>{0, 1, 2, 3}));
        QCOMPARE(st.offset_scales.item<float>(), 1.0f);
        QCOMPARE(static_cast<int>(st.offset_codes.item<uint8_t>()), 255);
        const auto t = nf_table(2, NfVariant::BnbAsymmetric);
        QCOMPARE(test::float_values(r.dequantized), (std::vector<float>{-1.0f, 1.0f, t[2] * 2.0f + 1.0f, 3.0f}));
    }

    // Block [-1, 0, 0.2, 0.45], NF2, n = 1, lambda = 0.5 (f = -0.27054, 0, +0.27054), tau0 = 0, m = 1:
    //   tau = -0.2705: v = [-1, 0.371, 0.645, 0.988] -> codes 0,2,2,3 -> 1.5 bits (first candidate)
    //   tau = 0:       v = [-1, 0, 0.2, 0.45]        -> codes 0,1,2,2 -> 1.5 bits (not strictly higher)
    //   tau = +0.2705: v = [-1, -0.213, -0.055, 0.141] -> codes 0,1,1,1 -> 0.811 bits
    // Ties keep the first: the most negative offset wins although the start is as good.
    void hand_block_first_wins_ties() {
        for (auto arithmetic : {IcqEntropyArithmetic::Float32, IcqEntropyArithmetic::ExactTies}) {
            QuantSpec s = icq(2, 4, 1, 0.5);
            s.icq_entropy = arithmetic;
            auto r = quantize_weight(torch::tensor({-1.0f, 0.0f, 0.2f, 0.45f}).reshape({1, 4}), s, "tie");
            QCOMPARE(icq_nf_record(r).choice.item<int64_t>(), int64_t{0});
            QCOMPARE(test::float_values(r.codes), (std::vector<float>{0, 2, 2, 3}));
            QCOMPARE(icq_nf_record(r).start_entropy.item<float>(), 1.5f);
            QCOMPARE(icq_nf_record(r).best_entropy.item<float>(), 1.5f);
            QCOMPARE(static_cast<int>(icq_nf_record(r).offset_codes.item<uint8_t>()),
                     0); // tau*/tau2 = -1 -> -0.99297
        }
    }

    // Brute-force oracle for the exact-ties search: codes by argmin over the table (not the
    // bucketize), entropies in fp64, first maximum (ties to 1e-12).
    void exact_search_matches_brute_force() {
        torch::manual_seed(21);
        auto w = torch::randn({12, 41}) * 0.1; // 492 = 30 blocks of 16 + a tail of 12
        w.view({-1})[5] = 2.0;                 // an outlier block
        QuantSpec s = icq(3, 16, 12, 0.6);
        s.icq_entropy = IcqEntropyArithmetic::ExactTies;
        auto r = quantize_weight(w, s, "oracle");
        const auto table = nf_table(3, NfVariant::BnbAsymmetric);
        const auto cand = icq_nf_candidates(12, 0.6);
        auto flat = w.reshape({-1});
        const int64_t NB = r.layout.num_groups();
        for (int64_t b = 0; b < NB; ++b) {
            const int64_t i0 = b * 16, len = std::min<int64_t>(16, flat.numel() - i0);
            std::vector<float> x(test::float_values(flat.slice(0, i0, i0 + len)));
            std::vector<float> sorted = x;
            std::sort(sorted.begin(), sorted.end());
            const float tau0 = sorted[static_cast<size_t>((len - 1) / 2)];
            float m = 0;
            for (float v : x)
                m = std::max(m, std::fabs(v - tau0));
            double best = -1;
            int64_t best_c = -1;
            for (size_t c = 0; c < cand.size(); ++c) {
                const float tau = cand[c] * m + tau0;
                float a = 0;
                for (float v : x)
                    a = std::max(a, std::fabs(v - tau));
                std::vector<int64_t> hist(8, 0);
                for (float v : x) {
                    const double y = static_cast<double>((v - tau) * (1.0f / a));
                    int k = 0;
                    for (int j = 1; j < 8; ++j)
                        if (std::fabs(y - table[static_cast<size_t>(j)]) <
                            std::fabs(y - table[static_cast<size_t>(k)]))
                            k = j;
                    ++hist[static_cast<size_t>(k)];
                }
                const double h = entropy_bits(hist.data(), 8, len);
                if (h > best + 1e-12) {
                    best = h;
                    best_c = static_cast<int64_t>(c);
                }
            }
            QCOMPARE(icq_nf_record(r).choice[b].item<int64_t>(), best_c);
            QVERIFY(std::fabs(icq_nf_record(r).best_entropy[b].item<float>() - best) < 1e-6);
        }
    }

    void invariants_on_random_weights() {
        torch::manual_seed(4);
        auto w = torch::randn({40, 200}) * 0.02; // 8000 = 125 blocks, 1 super-block of 125
        for (int bits : {2, 3, 4}) {
            for (const auto& v : icq_nf_method().variant_names()) {
                QuantSpec s = icq(bits);
                s.variant = v;
                auto r = quantize_weight(w, s, "w");
                const auto& st = icq_nf_record(r);
                QVERIFY(r.codes.max().item<int>() <= (1 << bits) - 1);
                QVERIFY((st.best_entropy >= st.start_entropy).all().item<bool>());
                QVERIFY((st.best_entropy <= static_cast<float>(bits) + 1e-6f).all().item<bool>());
                QCOMPARE(st.candidates[st.choice.min()].item<float>() >= st.candidates[0].item<float>(),
                         true);
                // tau* = f*·m + tau0, and what is added back is within one 8-bit step of it.
                auto tau = st.candidates.index_select(0, st.choice) * st.spread + st.median;
                QCOMPARE(test::count_differences(tau, st.offset), int64_t{0});
                QVERIFY(((st.offset_dequant - st.offset).abs() <= st.offset_scales.max() * 0.02)
                            .all()
                            .item<bool>());
            }
        }
        // Without tau storage the offset is added back exactly.
        QuantSpec s = icq(4);
        s.icq_quantize_offset = false;
        auto r = quantize_weight(w, s, "w");
        QCOMPARE(test::count_differences(icq_nf_record(r).offset_dequant, icq_nf_record(r).offset),
                 int64_t{0});
    }

    void icq_int_invariants() {
        torch::manual_seed(8);
        auto w = torch::randn({24, 150}) * 0.02;
        for (const auto& v : icq_int_method().variant_names()) {
            for (int bits : {2, 3, 4}) {
                auto r = quantize_weight(w, icq_int(bits, 64, v), "w");
                const auto& st = icq_int_record(r);
                QVERIFY((st.best_entropy >= st.start_entropy).all().item<bool>());
                QVERIFY(r.codes.max().item<int>() <= (1 << bits) - 1);
                // Groups that kept ratio 1 are plain GPTQ-style RTN.
                QuantSpec plain;
                plain.method = "rtn";
                plain.bits = bits;
                plain.group_size = 64;
                plain.variant = v;
                auto p = quantize_weight(w, plain, "w");
                auto kept = (st.choice == 0);
                QCOMPARE(test::count_differences(r.scales.masked_select(kept), p.scales.masked_select(kept)),
                         int64_t{0});
            }
        }
        QVERIFY_EXCEPTION_THROWN(quantize_weight(w, icq_int(2, 64, "omniquant"), "w"), Error);
    }

    void non_finite_weights_name_the_tensor() {
        auto w = torch::randn({4, 64});
        w[3][0] = -INFINITY;
        try {
            quantize_weight(w, icq(4), "layers.2.self_attn.v_proj");
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("layers.2.self_attn.v_proj") != std::string::npos);
            QVERIFY(std::string(e.what()).find("-inf at [3, 0]") != std::string::npos);
        }
    }

    void nf_path_matches_pytorch_reference() {
        const auto& fx = test::quant_reference();
        auto w = test::decode_tensor(fx["nf_input"]);
        int cases = 0;
        for (const auto& c : fx["icq_nf"]) {
            QuantSpec s = icq(c["bits"], c["block"], c["n"], c["lambda"]);
            s.variant = c["variant"];
            s.icq_superblock = c["superblock"];
            s.double_quant = c["double_quant"];
            s.double_quant_block = c["dq_block"];
            s.icq_quantize_offset = c["quantize_offset"];
            s.icq_entropy = entropy_arithmetic(c["entropy"]);
            auto r = quantize_weight(w, s, "fixture");
            const auto& st = icq_nf_record(r);
            const std::string what = s.describe();
            auto same = [&](const torch::Tensor& t, const char* key) {
                const auto diff = test::count_differences(t, test::decode_tensor(c[key]));
                if (diff != 0)
                    qWarning("%s: %s differs in %lld places", what.c_str(), key,
                             static_cast<long long>(diff));
                return diff == 0;
            };
            QVERIFY(same(st.median, "median"));
            QVERIFY(same(st.spread, "spread"));
            QVERIFY(same(st.choice, "choice"));
            QVERIFY(same(st.offset, "offset"));
            QVERIFY(same(st.offset_codes, "offset_codes"));
            QVERIFY(same(st.offset_scales, "offset_scales"));
            QVERIFY(same(st.absmax_fp, "absmax_fp"));
            QVERIFY(same(r.codes, "codes"));
            QVERIFY(same(r.dequantized, "dequantized"));
            if (c.contains("start_entropy")) {
                QVERIFY(same(st.start_entropy, "start_entropy"));
                QVERIFY(same(st.best_entropy, "best_entropy"));
            }
            if (s.double_quant) QVERIFY(same(st.double_quant.codes, "dq_codes"));
            ++cases;
        }
        QCOMPARE(cases, 7);
    }

    // stories260K layer-0 wq (64 x 64) and w1 (172 x 64), as stored in the llama2.c file.
    void nf_path_on_stories260k_matches_reference() {
        const auto& fx = test::quant_reference();
        const auto path = test::shared_data("stories260K/stories260K.bin");
        int cases = 0;
        for (const auto& c : fx["icq_nf_stories"]) {
            auto w = test::read_llama2c_tensor(path, c["tensor"]);
            auto r = quantize_weight(w, icq(c["bits"]), "stories");
            const auto& st = icq_nf_record(r);
            QCOMPARE(test::count_differences(r.codes, test::decode_tensor(c["codes"])), int64_t{0});
            QCOMPARE(test::count_differences(st.choice, test::decode_tensor(c["choice"])), int64_t{0});
            QCOMPARE(test::count_differences(st.offset_codes, test::decode_tensor(c["offset_codes"])),
                     int64_t{0});
            QCOMPARE(test::count_differences(st.offset_scales, test::decode_tensor(c["offset_scales"])),
                     int64_t{0});
            QCOMPARE(test::count_differences(st.absmax_fp, test::decode_tensor(c["absmax_fp"])), int64_t{0});
            QCOMPARE(c["blocks_below_start"].get<int>(), 0);
            QVERIFY((st.best_entropy >= st.start_entropy).all().item<bool>());
            // ICQ is centred on the median, so some blocks lose entropy against plain zero-offset NF.
            MetricsOptions mo;
            mo.spectrum = false;
            const auto stats = compute_linear_stats("stories", w, r, mo);
            const double losing = stats.method.metric("icq_blocks_losing_vs_plain");
            QVERIFY(std::fabs(losing - c["blocks_losing_vs_plain"].get<double>()) < 1e-12);
            qInfo("stories260K %s nf%d: %.1f%% of blocks lose entropy vs plain NF, mean gain vs plain %+.4f "
                  "bits, "
                  "vs median start %+.4f bits",
                  c["tensor"].get<std::string>().c_str(), c["bits"].get<int>(), 100 * losing,
                  stats.method.metric("icq_gain_vs_plain_bits"), stats.method.metric("icq_gain_bits"));
            ++cases;
        }
        QCOMPARE(cases, 4);
    }

    void int_path_matches_pytorch_reference() {
        const auto& fx = test::quant_reference();
        auto w = test::decode_tensor(fx["rtn_input"]);
        int cases = 0;
        for (const auto& c : fx["icq_int"]) {
            QuantSpec s = icq_int(c["bits"], c["group"], c["variant"]);
            s.icq_entropy = entropy_arithmetic(c["entropy"]);
            auto r = quantize_weight(w, s, "fixture");
            const std::string what = s.describe();
            QVERIFY2(test::count_differences(icq_int_record(r).choice, test::decode_tensor(c["choice"])) == 0,
                     what.c_str());
            QVERIFY2(test::count_differences(r.scales, test::decode_tensor(c["scales"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.zeros, test::decode_tensor(c["zeros"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.codes, test::decode_tensor(c["codes"])) == 0, what.c_str());
            QVERIFY2(test::count_differences(r.dequantized, test::decode_tensor(c["dequantized"])) == 0,
                     what.c_str());
            ++cases;
        }
        QCOMPARE(cases, 9);
    }
};

RILQ_TEST_APPLESS_MAIN(TestQuantIcq)
#include "test_quant_icq.moc"
