#include "core/quant/metrics.h"

#include "core/quant/code_entropy.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

namespace rilq {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Visits group g's elements as flat indices into the (O, I) row-major weight.
template <typename F> void for_group(const GroupLayout& l, int64_t g, F&& f) {
    if (l.kind == GroupKind::RowGroups) {
        const int64_t gpr = l.groups_per_row(), row = g / gpr, c0 = (g % gpr) * l.group_size;
        const int64_t c1 = std::min(c0 + l.group_size, l.cols);
        for (int64_t c = c0; c < c1; ++c)
            f(row * l.cols + c);
    } else {
        const int64_t i0 = g * l.group_size, i1 = std::min(i0 + l.group_size, l.numel());
        for (int64_t i = i0; i < i1; ++i)
            f(i);
    }
}

// Per-group fp64 entropy of a code tensor, plus the pooled histogram.
void group_entropies(const GroupLayout& l, const uint8_t* codes, int levels, std::vector<double>& out_entropy,
                     std::vector<int64_t>& pooled) {
    out_entropy.assign(static_cast<size_t>(l.num_groups()), 0.0);
    pooled.assign(static_cast<size_t>(levels), 0);
    std::mutex merge;
    at::parallel_for(0, l.num_groups(), 256, [&](int64_t g0, int64_t g1) {
        std::vector<int64_t> local(static_cast<size_t>(levels), 0), hist(static_cast<size_t>(levels));
        for (int64_t g = g0; g < g1; ++g) {
            std::fill(hist.begin(), hist.end(), 0);
            for_group(l, g, [&](int64_t i) { ++hist[codes[i]]; });
            out_entropy[static_cast<size_t>(g)] = entropy_bits(hist.data(), levels, l.group_length(g));
            for (int k = 0; k < levels; ++k)
                local[static_cast<size_t>(k)] += hist[static_cast<size_t>(k)];
        }
        std::lock_guard<std::mutex> lock(merge);
        for (int k = 0; k < levels; ++k)
            pooled[static_cast<size_t>(k)] += local[static_cast<size_t>(k)];
    });
}

double quantile_sorted(const std::vector<double>& v, double q) {
    if (v.empty()) return 0.0;
    // Linear interpolation between closest ranks (numpy's default).
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t i = static_cast<size_t>(std::floor(pos));
    const size_t j = std::min(i + 1, v.size() - 1);
    return v[i] + (pos - static_cast<double>(i)) * (v[j] - v[i]);
}

} // namespace

torch::Tensor group_code_entropy(const GroupLayout& layout, const torch::Tensor& codes, int bits,
                                 std::vector<int64_t>* pooled) {
    std::vector<double> entropy;
    std::vector<int64_t> histogram;
    auto c = codes.contiguous();
    group_entropies(layout, c.data_ptr<uint8_t>(), 1 << bits, entropy, histogram);
    if (pooled) *pooled = std::move(histogram);
    return torch::tensor(entropy, torch::kFloat64);
}

nlohmann::json finite_or_null(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json distribution_json(const Distribution& d) {
    nlohmann::json j{{"count", d.count}, {"non_finite", d.non_finite}};
    const std::pair<const char*, double> summary[] = {{"mean", d.mean},     {"min", d.min}, {"p10", d.p10},
                                                      {"median", d.median}, {"p90", d.p90}, {"p99", d.p99},
                                                      {"max", d.max}};
    for (const auto& [key, value] : summary)
        j[key] = finite_or_null(value);
    j["histogram"] = {{"lo", finite_or_null(d.lo)}, {"hi", finite_or_null(d.hi)}, {"counts", d.histogram}};
    return j;
}

nlohmann::json candidate_search_json(const torch::Tensor& candidates, const torch::Tensor& choice,
                                     double gain_vs_start_bits) {
    auto cand = candidates.contiguous();
    auto hist = torch::bincount(choice.reshape({-1}), {}, cand.numel()).contiguous();
    return {{"gain_vs_start_bits", finite_or_null(gain_vs_start_bits)},
            {"candidates", std::vector<float>(cand.data_ptr<float>(), cand.data_ptr<float>() + cand.numel())},
            {"choice_histogram",
             std::vector<int64_t>(hist.data_ptr<int64_t>(), hist.data_ptr<int64_t>() + hist.numel())}};
}

torch::Tensor pool_group_grid(const torch::Tensor& values, int64_t rows, int64_t cols, int64_t out_rows,
                              int64_t out_cols) {
    auto grid = values.to(torch::kFloat64).reshape({rows, cols});
    auto finite = torch::isfinite(grid);
    auto v = torch::where(finite, grid, torch::zeros_like(grid));
    auto sum = torch::adaptive_avg_pool2d(v.unsqueeze(0), {out_rows, out_cols});
    auto count = torch::adaptive_avg_pool2d(finite.to(torch::kFloat64).unsqueeze(0), {out_rows, out_cols});
    return (sum / count).reshape({-1});
}

Distribution summarize_distribution(const torch::Tensor& values, int bins, double lo, double hi) {
    Distribution d;
    auto t = values.to(torch::kFloat64).contiguous();
    const double* p = t.data_ptr<double>();
    std::vector<double> v;
    v.reserve(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (std::isfinite(p[i]))
            v.push_back(p[i]);
        else
            ++d.non_finite;
    }
    std::sort(v.begin(), v.end());
    d.count = static_cast<int64_t>(v.size());
    d.lo = lo;
    d.hi = hi;
    d.histogram.assign(static_cast<size_t>(std::max(bins, 1)), 0);
    if (v.empty()) return d;
    double sum = 0.0;
    for (double x : v)
        sum += x;
    d.mean = sum / static_cast<double>(v.size());
    d.min = v.front();
    d.max = v.back();
    d.p10 = quantile_sorted(v, 0.10);
    d.median = quantile_sorted(v, 0.50);
    d.p90 = quantile_sorted(v, 0.90);
    d.p99 = quantile_sorted(v, 0.99);
    const double width = (hi - lo) / static_cast<double>(d.histogram.size());
    for (double x : v) {
        int64_t b = width > 0 ? static_cast<int64_t>(std::floor((x - lo) / width)) : 0;
        b = std::clamp<int64_t>(b, 0, static_cast<int64_t>(d.histogram.size()) - 1);
        ++d.histogram[static_cast<size_t>(b)];
    }
    return d;
}

torch::Tensor error_singular_values(const torch::Tensor& weight, const torch::Tensor& dequantized) {
    const int64_t O = weight.size(0), I = weight.size(1);
    if (std::min(O, I) <= 1024)
        return torch::linalg_svdvals(weight.to(torch::kFloat64) - dequantized.to(torch::kFloat64));
    // sigma_i^2 are the eigenvalues of the smaller Gram matrix.
    auto d = weight.to(torch::kFloat32) - dequantized.to(torch::kFloat32);  // (O, I)
    auto gram = O <= I ? torch::matmul(d, d.t()) : torch::matmul(d.t(), d); // (min, min)
    auto ev = torch::linalg_eigvalsh(gram.to(torch::kFloat64));             // ascending
    return ev.clamp_min(0.0).sqrt().flip({0});
}

double output_rel_error(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& dequantized) {
    auto xf = x.reshape({-1, x.size(-1)}).to(torch::kFloat32); // (rows, I)
    auto w = weight.to(torch::kFloat32);
    auto delta = w - dequantized.to(torch::kFloat32); // (O, I)
    const double ref = torch::matmul(xf, w.t()).to(torch::kFloat64).norm().item<double>();
    const double err = torch::matmul(xf, delta.t()).to(torch::kFloat64).norm().item<double>();
    if (ref == 0.0) return err == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    return err / ref;
}

void add_output_error(LinearQuantStats& stats, const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& dequantized) {
    stats.has_output_error = true;
    stats.output_rel_error = output_rel_error(x, weight, dequantized);
    stats.calib_rows = x.numel() / x.size(-1);
}

LinearQuantStats compute_linear_stats(const std::string& name, const torch::Tensor& weight,
                                      const QuantResult& result, const MetricsOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    LinearQuantStats s;
    s.name = name;
    s.rows = weight.size(0);
    s.cols = weight.size(1);
    s.bits = result.bits;
    s.layout = result.layout;
    const GroupLayout& l = result.layout;
    const int64_t NG = l.num_groups();
    const int levels = 1 << result.bits;

    auto w = weight.to(torch::kFloat32).contiguous();
    auto q = result.dequantized.to(torch::kFloat32).contiguous();
    const float* wp = w.data_ptr<float>();
    const float* qp = q.data_ptr<float>();

    // ---- weight error, one fused pass in fp64 ----
    s.group_rel_error = torch::empty({NG}, torch::kFloat32);
    float* gerr = s.group_rel_error.data_ptr<float>();
    double w2 = 0.0, e2 = 0.0, emax = 0.0;
    std::mutex merge;
    at::parallel_for(0, NG, 256, [&](int64_t g0, int64_t g1) {
        double lw2 = 0.0, le2 = 0.0, lmax = 0.0;
        for (int64_t g = g0; g < g1; ++g) {
            double gw = 0.0, ge = 0.0;
            for_group(l, g, [&](int64_t i) {
                const double a = wp[i], e = static_cast<double>(wp[i]) - static_cast<double>(qp[i]);
                gw += a * a;
                ge += e * e;
                lmax = std::max(lmax, std::fabs(e));
            });
            gerr[g] = gw > 0.0 ? static_cast<float>(std::sqrt(ge / gw))
                               : (ge == 0.0 ? 0.0f : std::numeric_limits<float>::infinity());
            lw2 += gw;
            le2 += ge;
        }
        std::lock_guard<std::mutex> lock(merge);
        w2 += lw2;
        e2 += le2;
        emax = std::max(emax, lmax);
    });
    s.weight_norm = std::sqrt(w2);
    s.error_norm = std::sqrt(e2);
    s.rel_error = w2 > 0.0 ? std::sqrt(e2 / w2) : (e2 == 0.0 ? 0.0 : std::numeric_limits<double>::infinity());
    s.sqnr_db = s.rel_error > 0.0 ? -20.0 * std::log10(s.rel_error) : std::numeric_limits<double>::infinity();
    s.max_abs_error = emax;
    if (l.kind == GroupKind::RowGroups) {
        s.heatmap_rows = l.rows;
        s.heatmap_cols = l.groups_per_row();
    } else if (l.cols % l.group_size == 0) {
        s.heatmap_rows = l.rows;
        s.heatmap_cols = l.cols / l.group_size;
    } else {
        s.heatmap_rows = 1; // blocks cross rows: the GUI gets the block sequence
        s.heatmap_cols = NG;
    }
    {
        auto finite = s.group_rel_error.masked_select(torch::isfinite(s.group_rel_error));
        const double hi = finite.numel() > 0 ? std::max(finite.max().item<double>(), 1e-12) : 1.0;
        s.group_error = summarize_distribution(s.group_rel_error, options.error_histogram_bins, 0.0, hi);
    }

    // ---- code entropy ----
    const auto entropy64 =
        group_code_entropy(l, result.codes, result.bits, &s.code_histogram); // (num_groups)
    s.group_entropy = entropy64.to(torch::kFloat32);
    s.mean_group_entropy_bits = entropy64.mean().item<double>();
    s.pooled_entropy_bits = entropy_bits(s.code_histogram.data(), levels, l.numel());

    // ---- the method's own ----
    if (result.record) s.method = result.record->stats(result, w, entropy64, options);

    // ---- spectrum of the error ----
    if (options.spectrum) {
        auto sv = error_singular_values(w, q).contiguous(); // (min(O, I)) f64 descending
        s.has_spectrum = true;
        s.spectrum_size = sv.numel();
        const double* svp = sv.data_ptr<double>();
        const int64_t keep = std::min<int64_t>(sv.numel(), options.spectrum_keep);
        s.singular_values.assign(svp, svp + keep);
        double total = 0.0;
        for (int64_t i = 0; i < sv.numel(); ++i)
            total += svp[i] * svp[i];
        for (int64_t r : options.energy_ranks) {
            double part = 0.0;
            for (int64_t i = 0; i < std::min(r, sv.numel()); ++i)
                part += svp[i] * svp[i];
            s.energy_at_rank.emplace_back(r, total > 0.0 ? part / total : 1.0);
        }
    }
    s.metrics_seconds = seconds_since(t0);
    // ---- the per-group arrays kept as their heat maps ----
    const int64_t max = options.group_grid_max;
    if (max > 0 && (s.heatmap_rows > max || s.heatmap_cols > max)) {
        s.pooled_rows = std::min(s.heatmap_rows, max);
        s.pooled_cols = std::min(s.heatmap_cols, max);
        for (torch::Tensor* t : {&s.group_rel_error, &s.group_entropy})
            *t = pool_group_grid(*t, s.heatmap_rows, s.heatmap_cols, s.pooled_rows, s.pooled_cols);
    }
    return s;
}

} // namespace rilq
