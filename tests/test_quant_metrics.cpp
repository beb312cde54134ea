// Metrics: hand-computed on a 2 x 2 weight, distributions, JSON, and the PyTorch reference
// (fp64) for three real quantizations including the ICQ gain over plain NF.
#include "tests/support/test_support.h"

#include <QtTest/QtTest>

#include "tests/support/test_main.h"
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/quant/metrics.h"
#include "core/quant/quant_stats_json.h"
#include "core/quant/quantizer.h"
#include "tests/quant/quant_fixture.h"

#include <cmath>

using namespace rilq;

namespace {

bool close(double a, double b, double rel) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(b), 1e-300);
}

// W = [[1, 2], [3, 4]], Q(W) = [[1, 2], [3, 5]], codes [[0, 1], [1, 1]] (2 bits), one group per row.
QuantResult hand_result() {
    QuantResult r;
    r.bits = 2;
    r.layout = GroupLayout::row_groups(2, 2, 2);
    r.dequantized = torch::tensor({1.0f, 2.0f, 3.0f, 5.0f}).reshape({2, 2});
    r.codes = torch::tensor({0, 1, 1, 1}, torch::kUInt8).reshape({2, 2});
    return r;
}

torch::Tensor hand_weight() {
    return torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2});
}

QuantSpec spec_of(const std::string& method, int bits, int64_t group) {
    QuantSpec s;
    s.method = method;
    s.bits = bits;
    s.group_size = group;
    return s;
}

} // namespace

class TestQuantMetrics : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    // ||dW|| = 1, ||W|| = sqrt(30): rel = 1/sqrt(30), SQNR = 10 log10(30) dB; group errors 0 and 1/5;
    // group entropies 1 bit ({0, 1}) and 0 ({1, 1}); pooled histogram [1, 3, 0, 0] -> 0.811278 bits;
    // dW = [[0, 0], [0, -1]] has singular values 1, 0.
    void hand_weight_metrics() {
        auto s = compute_linear_stats("hand", hand_weight(), hand_result());
        QVERIFY(close(s.rel_error, 1.0 / std::sqrt(30.0), 1e-12));
        QVERIFY(close(s.sqnr_db, 10.0 * std::log10(30.0), 1e-12));
        QCOMPARE(s.max_abs_error, 1.0);
        QCOMPARE(s.group_rel_error[0].item<float>(), 0.0f);
        QCOMPARE(s.group_rel_error[1].item<float>(), 0.2f);
        QCOMPARE(s.group_entropy[0].item<float>(), 1.0f);
        QCOMPARE(s.group_entropy[1].item<float>(), 0.0f);
        QCOMPARE(s.mean_group_entropy_bits, 0.5);
        QVERIFY(close(s.pooled_entropy_bits, -(0.25 * std::log2(0.25) + 0.75 * std::log2(0.75)), 1e-12));
        QCOMPARE(s.code_histogram, (std::vector<int64_t>{1, 3, 0, 0}));
        QVERIFY(s.has_spectrum);
        QCOMPARE(s.spectrum_size, int64_t{2});
        QVERIFY(close(s.singular_values[0], 1.0, 1e-12));
        QVERIFY(std::fabs(s.singular_values[1]) < 1e-12);
        QCOMPARE(s.energy_at_rank.front().first, int64_t{1});
        QVERIFY(close(s.energy_at_rank.front().second, 1.0, 1e-12));
        QCOMPARE(s.heatmap_rows, int64_t{2});
        QCOMPARE(s.heatmap_cols, int64_t{1});
    }

    // X = [[1, 1]]: X W^T = [3, 7], X dW^T = [0, -1] -> 1/sqrt(58).
    void hand_output_error() {
        auto s = compute_linear_stats("hand", hand_weight(), hand_result());
        add_output_error(s, torch::tensor({1.0f, 1.0f}).reshape({1, 1, 2}), hand_weight(),
                         hand_result().dequantized);
        QVERIFY(s.has_output_error);
        QCOMPARE(s.calib_rows, int64_t{1});
        QVERIFY(close(s.output_rel_error, 1.0 / std::sqrt(58.0), 1e-7));
    }

    // A group of zeros quantized to non-zeros has relative error +inf: counted apart, null in JSON.
    void zero_group_and_json_nulls() {
        auto r = hand_result();
        auto w = torch::tensor({0.0f, 0.0f, 3.0f, 4.0f}).reshape({2, 2});
        auto s = compute_linear_stats("zero", w, r);
        QVERIFY(std::isinf(s.group_rel_error[0].item<float>()));
        QCOMPARE(s.group_error.non_finite, int64_t{1});
        QCOMPARE(s.group_error.count, int64_t{1});
        const auto j = linear_stats_to_json(s);
        QVERIFY(j["group_error_heatmap"]["values"][0].is_null());
        QCOMPARE(j["group_error_heatmap"]["values"][1].get<double>(), static_cast<double>(0.2f));
        QCOMPARE(j["entropy"]["code_histogram"].get<std::vector<int64_t>>(),
                 (std::vector<int64_t>{1, 3, 0, 0}));
        QCOMPARE(j["groups"]["kind"].get<std::string>(), std::string("row_groups"));
    }

    // A grid larger than 64 x 64 groups keeps only its pooled heat maps: quant_stats.json is the
    // same as from every group's values, and the summaries come from every group.
    void group_arrays_kept_pooled() {
        auto gen = at::detail::createCPUGenerator(8);
        auto w = torch::randn({200, 5120}, gen, torch::kFloat32); // RTN g64: (200, 80) groups
        w.narrow(0, 0, 3).zero_(); // groups of zeros: errors 0 or +inf, left out of their cells
        QuantSpec spec;
        spec.method = "nf";
        spec.bits = 2;
        spec.group_size = 64;
        const auto nf = quantize_weight(w, spec, "w");
        spec = QuantSpec();
        const auto rtn = quantize_weight(w, spec, "w");
        for (const QuantResult* r : {&rtn, &nf}) {
            MetricsOptions every;
            every.spectrum = false;
            every.group_grid_max = 0;
            MetricsOptions pooled = every;
            pooled.group_grid_max = 64;
            const auto full = compute_linear_stats("w", w, *r, every);
            const auto kept = compute_linear_stats("w", w, *r, pooled);
            QCOMPARE(full.pooled_rows, int64_t{0});
            QCOMPARE(full.group_rel_error.numel(), r->layout.num_groups());
            QVERIFY(kept.pooled_rows == std::min<int64_t>(64, kept.heatmap_rows) &&
                    kept.pooled_cols == std::min<int64_t>(64, kept.heatmap_cols));
            QCOMPARE(kept.group_rel_error.numel(), kept.pooled_rows * kept.pooled_cols);
            QCOMPARE(kept.group_entropy.numel(), kept.pooled_rows * kept.pooled_cols);
            QCOMPARE(kept.group_error.non_finite, full.group_error.non_finite);
            QCOMPARE(kept.group_error.p90, full.group_error.p90);
            QCOMPARE(kept.mean_group_entropy_bits, full.mean_group_entropy_bits);
            const auto a = linear_stats_to_json(full), b = linear_stats_to_json(kept);
            QCOMPARE(a["group_error_heatmap"].dump(), b["group_error_heatmap"].dump());
            QCOMPARE(a["entropy"].dump(), b["entropy"].dump());
            QCOMPARE(a["group_error_heatmap"]["pooled_rows"].get<int64_t>(), kept.pooled_rows);
        }
    }

    // Quantiles interpolate like numpy; 5 bins over [0, 10] hold {1}, {2, 3}, {4, 5}, {6, 7}, {8, 9, 10}.
    void distribution_summary() {
        auto d = summarize_distribution(torch::arange(1, 11, torch::kFloat64), 5, 0.0, 10.0);
        QCOMPARE(d.count, int64_t{10});
        QCOMPARE(d.median, 5.5);
        QVERIFY(close(d.p10, 1.9, 1e-12));
        QVERIFY(close(d.p90, 9.1, 1e-12));
        QCOMPARE(d.mean, 5.5);
        QCOMPARE(d.histogram, (std::vector<int64_t>{1, 2, 2, 2, 3}));
    }

    // The Gram route (min dimension > 1024) agrees with the exact SVD.
    void spectrum_routes_agree() {
        torch::manual_seed(2);
        auto d = torch::randn({1100, 1200}, torch::kFloat32) * 0.01;
        auto gram = error_singular_values(d, torch::zeros_like(d));
        auto exact = torch::linalg_svdvals(d.to(torch::kFloat64));
        QVERIFY(((gram.slice(0, 0, 128) - exact.slice(0, 0, 128)).abs() / exact.slice(0, 0, 128))
                    .max()
                    .item<double>() < 1e-4);
        auto e_gram = gram.slice(0, 0, 64).pow(2).sum() / gram.pow(2).sum();
        auto e_exact = exact.slice(0, 0, 64).pow(2).sum() / exact.pow(2).sum();
        QVERIFY(std::fabs(e_gram.item<double>() - e_exact.item<double>()) < 1e-5);
    }

    void matches_pytorch_reference() {
        const auto& fx = test::quant_reference();
        auto x = test::decode_tensor(fx["calib_x"]);
        struct Case {
            std::string name;
            torch::Tensor w;
            QuantSpec spec;
        };
        QuantSpec icq = spec_of("icq-nf", 2, 64);
        icq.icq_superblock = 4;
        icq.double_quant_block = 8;
        std::vector<Case> cases = {{"rtn2_g64", test::decode_tensor(fx["rtn_input"]), spec_of("rtn", 2, 64)},
                                   {"nf4", test::decode_tensor(fx["nf_input"]), spec_of("nf", 4, 64)},
                                   {"icq_nf2", test::decode_tensor(fx["nf_input"]), icq}};
        for (const auto& c : cases) {
            const nlohmann::json* ref = nullptr;
            for (const auto& m : fx["metrics"])
                if (m["case"] == c.name) ref = &m;
            QVERIFY(ref);
            auto r = quantize_weight(c.w, c.spec, c.name);
            auto s = compute_linear_stats(c.name, c.w, r);
            add_output_error(s, x, c.w, r.dequantized);
            const auto& e = *ref;
            const char* what = c.name.c_str();
            QVERIFY2(close(s.rel_error, e["rel_error"], 1e-12), what);
            QVERIFY2(close(s.sqnr_db, e["sqnr_db"], 1e-12), what);
            QVERIFY2(close(s.max_abs_error, e["max_abs_error"], 1e-12), what);
            QVERIFY2(close(s.mean_group_entropy_bits, e["mean_group_entropy"], 1e-7), what);
            QVERIFY2(close(s.pooled_entropy_bits, e["pooled_entropy"], 1e-12), what);
            QVERIFY2(s.code_histogram == e["code_histogram"].get<std::vector<int64_t>>(), what);
            auto gre = test::decode_tensor(e["group_rel_error"]);
            auto finite = torch::isfinite(gre);
            QVERIFY2(torch::equal(finite, torch::isfinite(s.group_rel_error)), what);
            QVERIFY2(((s.group_rel_error - gre).abs().masked_select(finite) <=
                      1e-6 * gre.abs().masked_select(finite))
                         .all()
                         .item<bool>(),
                     what);
            QVERIFY2((s.group_entropy - test::decode_tensor(e["group_entropy"])).abs().max().item<float>() <=
                         1e-6f,
                     what);
            const auto sv = e["singular_values"].get<std::vector<double>>();
            for (size_t i = 0; i < sv.size(); ++i) {
                if (!close(s.singular_values[i], sv[i], 1e-10))
                    qWarning("%s sv %zu: %.17g vs %.17g", what, i, s.singular_values[i], sv[i]);
                QVERIFY2(close(s.singular_values[i], sv[i], 1e-10), what);
            }
            for (const auto& [rank, energy] : s.energy_at_rank)
                QVERIFY2(close(energy, e["energy_at_rank"][std::to_string(rank)], 1e-10), what);
            QVERIFY2(close(s.output_rel_error, e["output_rel_error"], 1e-5), what); // fp32 GEMM vs fp64
            if (c.name == "icq_nf2") {
                QCOMPARE(s.method.key, std::string("icq"));
                QVERIFY(close(s.method.metric("icq_gain_vs_plain_bits"), e["icq_gain_vs_plain"], 1e-7));
                QVERIFY(close(s.method.metric("icq_blocks_losing_vs_plain"), e["icq_blocks_losing_vs_plain"],
                              1e-12));
                int64_t total = 0;
                for (const auto& n : s.method.detail["choice_histogram"])
                    total += n.get<int64_t>();
                QCOMPARE(total, r.layout.num_groups());
                QCOMPARE(s.method.detail["candidates"].size(), size_t{201});
            }
        }
    }
};

RILQ_TEST_APPLESS_MAIN(TestQuantMetrics)
#include "test_quant_metrics.moc"
