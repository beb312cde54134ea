// Per-linear measurements of a quantization (METHODS §5): weight error, per-group error
// distribution, code entropy, the method's own stats (ICQ gains and offsets, from its record),
// output error on calibration inputs and the singular-value spectrum of the error. Cheap enough to run on
// every linear of a model; the spectrum is the only part that costs more than a pass over the weight and can
// be switched off.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

#include <nlohmann/json_fwd.hpp>

#include "core/quant/quantizer.h"

namespace rilq {

struct MetricsOptions {
    bool spectrum = true;        // SVD of W - Q(W)
    int64_t spectrum_keep = 512; // singular values kept in the stats (energies use all of them)
    std::vector<int64_t> energy_ranks = {1, 2, 4, 8, 16, 32, 64, 128};
    int error_histogram_bins = 32; // histogram of per-group relative errors
    int offset_ratio_bins = 40;    // ICQ-NF: histogram of tau*/max|w| over [-1, 1]
    // The per-group error and entropy arrays are kept as their heat maps, pooled to at most this
    // many rows and columns (what quant_stats.json writes): Llama-2-7B's 101M groups would hold
    // 0.8 GB until the run ends. 0 keeps every group (`rilq qstats --full-groups`).
    int64_t group_grid_max = 64;
};

// A distribution summarised for charts: quantiles plus an equal-width histogram on [lo, hi].
struct Distribution {
    int64_t count = 0;      // finite values
    int64_t non_finite = 0; // e.g. a group of zeros quantized to non-zeros (relative error +inf)
    double mean = 0.0, min = 0.0, p10 = 0.0, median = 0.0, p90 = 0.0, p99 = 0.0, max = 0.0;
    double lo = 0.0, hi = 0.0;
    std::vector<int64_t> histogram;
};

Distribution summarize_distribution(const torch::Tensor& values, int bins, double lo, double hi);
// A (rows, cols) grid of per-group values average-pooled to (out_rows, out_cols), flat fp64; the
// non-finite values are left out of their cell's mean (NaN where a cell has none finite).
torch::Tensor pool_group_grid(const torch::Tensor& values, int64_t rows, int64_t cols, int64_t out_rows,
                              int64_t out_cols);
// Quantiles and histogram as quant_stats.json writes them; non-finite numbers become null.
nlohmann::json distribution_json(const Distribution& d);
nlohmann::json finite_or_null(double v);

// A search over candidates (ICQ's offsets or clip ratios) as quant_stats.json records it: the
// candidates, how many groups chose each (`choice` holds candidate indices) and the mean entropy
// gain over the search's start.
nlohmann::json candidate_search_json(const torch::Tensor& candidates, const torch::Tensor& choice,
                                     double gain_vs_start_bits);

// Per-group code entropy (num_groups) f64, in bits over each group's own length; `pooled` gets
// the histogram of all codes when given.
torch::Tensor group_code_entropy(const GroupLayout& layout, const torch::Tensor& codes, int bits,
                                 std::vector<int64_t>* pooled = nullptr);

struct LinearQuantStats {
    std::string name;           // "layers.3.mlp.up_proj"
    int64_t rows = 0, cols = 0; // O, I
    int bits = 0;
    GroupLayout layout;

    // Weight error: ||W - Q(W)||_F / ||W||_F, SQNR_dB = 20 log10(1 / rel_error), max |W - Q(W)|.
    double weight_norm = 0.0, error_norm = 0.0, rel_error = 0.0, sqnr_db = 0.0, max_abs_error = 0.0;
    torch::Tensor group_rel_error;              // (num_groups) f32 ||w_g - q_g|| / ||w_g|| (the heat map)
    int64_t heatmap_rows = 0, heatmap_cols = 0; // grid of group_rel_error: (O, G), (O, I/B) or (1, NB)
    // > 0: group_rel_error and group_entropy hold that grid average-pooled to pooled_rows x pooled_cols
    // (fp64) (MetricsOptions::group_grid_max; non-finite groups left out of their cell, NaN if all are).
    int64_t pooled_rows = 0, pooled_cols = 0;
    Distribution group_error;

    // Code entropy (fp64, bits): per group over its own length, mean over groups, and of the pooled
    // histogram of all codes; the full histogram (2^bits counts).
    torch::Tensor group_entropy; // (num_groups) f32
    double mean_group_entropy_bits = 0.0, pooled_entropy_bits = 0.0;
    std::vector<int64_t> code_histogram;

    // The method's own (its record's stats): metrics such as icq_gain_bits and a JSON object.
    MethodStats method;

    // Output error on calibration inputs X (FP model's input to this linear):
    // ||X W^T - X Q(W)^T||_F / ||X W^T||_F.
    bool has_output_error = false;
    double output_rel_error = 0.0;
    int64_t calib_rows = 0; // rows of X (tokens)

    // Spectrum of W - Q(W): singular values (descending, first spectrum_keep) and the energy
    // captured by the top r: E(r) = sum_{i<=r} s_i^2 / sum s_i^2.
    bool has_spectrum = false;
    int64_t spectrum_size = 0; // min(O, I)
    std::vector<double> singular_values;
    std::vector<std::pair<int64_t, double>> energy_at_rank;

    double quantize_seconds = 0.0, metrics_seconds = 0.0;
};

// Everything except the output error, from the FP weight (O, I) and the quantizer's result.
LinearQuantStats compute_linear_stats(const std::string& name, const torch::Tensor& weight,
                                      const QuantResult& result, const MetricsOptions& options = {});

// ||X W^T - X Q^T||_F / ||X W^T||_F with X (..., I) flattened to rows; fp32 GEMM, fp64 norms.
double output_rel_error(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& dequantized);
void add_output_error(LinearQuantStats& stats, const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& dequantized);

// Singular values of W - Q (both (O, I)), descending, in fp64. Exact SVD of the fp64 difference up
// to min(O, I) = 1024; above that the eigenvalues of the smaller Gram matrix of the fp32 difference
// (~10x faster on 4096 x 11008, and accurate enough for energy fractions).
torch::Tensor error_singular_values(const torch::Tensor& weight, const torch::Tensor& dequantized);

} // namespace rilq
