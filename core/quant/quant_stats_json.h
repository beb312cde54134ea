// The quantization stats as one JSON document (format "rilq.quant_stats", version kQuantStatsFormatVersion):
// the spec, model-level summaries (overall, per projection type, per layer) and every linear's metrics.
// Per-group arrays go in as heat maps average-pooled to a bounded grid so a 7B model stays a few MB;
// non-finite numbers are written as null.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/quant/quantize_model.h"

namespace rilq {

// 2: "spec" holds the experiment's quant.* keys; the method's summary means under their metric names.
constexpr int kQuantStatsFormatVersion = 2;

struct StatsJsonOptions {
    int64_t heatmap_max_rows = 64; // pooled heat-map grid bound (error and entropy)
    int64_t heatmap_max_cols = 64;
    bool full_group_arrays = false; // also write every group's error and entropy
};

// Means over a set of linears (weighted by weight count where it says so).
struct QuantGroupSummary {
    int64_t linears = 0;
    int64_t weights = 0;
    double rel_error_overall = 0.0; // sqrt(sum ||dW||^2 / sum ||W||^2)
    double rel_error_mean = 0.0;    // plain mean over linears
    double sqnr_db_overall = 0.0;
    double max_abs_error = 0.0;
    double mean_group_entropy_bits = 0.0; // weighted by weights
    double output_rel_error_mean = -1.0;  // -1 when no calibration
    std::map<int64_t, double> energy_at_rank_mean;
    // The method's metrics (icq_gain_bits, ...), weighted by weights over the linears that have them.
    std::map<std::string, double> method_means;
};

struct QuantSummary {
    QuantGroupSummary overall;
    double pooled_entropy_bits = 0.0; // entropy of all codes of the model pooled
    std::vector<int64_t> code_histogram;
    int64_t linears_with_partial_groups = 0, partial_groups = 0;
    double bits_per_weight = 0.0; // codes + stored scales/zeros/offsets (see storage_note)
    std::string storage_note;
    std::map<std::string, QuantGroupSummary> by_projection; // "self_attn.q_proj" -> ...
    std::map<int64_t, QuantGroupSummary> by_layer;
};

QuantSummary summarize_quantization(const ModelQuantResult& result);

nlohmann::json linear_stats_to_json(const LinearQuantStats& stats, const StatsJsonOptions& options = {});
nlohmann::json quant_stats_to_json(const ModelQuantResult& result, const std::string& model_source,
                                   const StatsJsonOptions& options = {});

} // namespace rilq
