#include "core/quant/quant_stats_json.h"

#include "core/quant/code_entropy.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace rilq {

namespace {

using nlohmann::json;

json number(double v) {
    return finite_or_null(v);
}

json numbers(const torch::Tensor& t) {
    auto c = t.to(torch::kFloat64).contiguous();
    const double* p = c.data_ptr<double>();
    json a = json::array();
    for (int64_t i = 0; i < c.numel(); ++i)
        a.push_back(number(p[i]));
    return a;
}

// A linear's heat map of per-group values (pool_group_grid) at most (max_rows, max_cols); the
// arrays may already be pooled (LinearQuantStats::pooled_rows), to a grid this pools no further.
json heatmap_json(const torch::Tensor& values, const LinearQuantStats& s, const StatsJsonOptions& o) {
    const int64_t rows = s.pooled_rows > 0 ? s.pooled_rows : s.heatmap_rows;
    const int64_t cols = s.pooled_rows > 0 ? s.pooled_cols : s.heatmap_cols;
    const int64_t pr = std::min(rows, o.heatmap_max_rows), pc = std::min(cols, o.heatmap_max_cols);
    return json{{"rows", s.heatmap_rows},
                {"cols", s.heatmap_cols},
                {"pooled_rows", pr},
                {"pooled_cols", pc},
                {"values", numbers(pool_group_grid(values, rows, cols, pr, pc))}};
}

std::string projection_of(const std::string& name) {
    const auto dot = name.find('.', 7);
    return name.rfind("layers.", 0) == 0 && dot != std::string::npos ? name.substr(dot + 1) : name;
}

int64_t layer_of(const std::string& name) {
    if (name.rfind("layers.", 0) != 0) return -1;
    return std::stoll(name.substr(7, name.find('.', 7) - 7));
}

QuantGroupSummary summarize_group(const std::vector<const LinearQuantStats*>& set) {
    QuantGroupSummary g;
    double w2 = 0.0, e2 = 0.0, rel_sum = 0.0, ent = 0.0, out_sum = 0.0;
    int64_t out_n = 0, spectra = 0;
    std::map<int64_t, double> energy_sum;
    std::map<std::string, std::pair<double, double>> method_sum; // metric -> (weighted sum, weights)
    for (const auto* s : set) {
        const auto n = s->rows * s->cols;
        ++g.linears;
        g.weights += n;
        w2 += s->weight_norm * s->weight_norm;
        e2 += s->error_norm * s->error_norm;
        rel_sum += s->rel_error;
        g.max_abs_error = std::max(g.max_abs_error, s->max_abs_error);
        ent += s->mean_group_entropy_bits * static_cast<double>(n);
        for (const auto& [key, value] : s->method.metrics) {
            method_sum[key].first += value * static_cast<double>(n);
            method_sum[key].second += static_cast<double>(n);
        }
        if (s->has_output_error) {
            out_sum += s->output_rel_error;
            ++out_n;
        }
        if (s->has_spectrum) {
            ++spectra;
            for (const auto& [r, e] : s->energy_at_rank)
                energy_sum[r] += e;
        }
    }
    if (g.linears == 0) return g;
    const double nw = static_cast<double>(g.weights);
    g.rel_error_overall = w2 > 0.0 ? std::sqrt(e2 / w2) : 0.0;
    g.sqnr_db_overall = g.rel_error_overall > 0.0 ? -20.0 * std::log10(g.rel_error_overall)
                                                  : std::numeric_limits<double>::infinity();
    g.rel_error_mean = rel_sum / static_cast<double>(g.linears);
    g.mean_group_entropy_bits = ent / nw;
    for (const auto& [key, sums] : method_sum)
        g.method_means[key] = sums.first / sums.second;
    if (out_n > 0) g.output_rel_error_mean = out_sum / static_cast<double>(out_n);
    for (const auto& [r, e] : energy_sum)
        g.energy_at_rank_mean[r] = e / static_cast<double>(spectra);
    return g;
}

json group_summary_json(const QuantGroupSummary& g) {
    json energy = json::object();
    for (const auto& [r, e] : g.energy_at_rank_mean)
        energy[std::to_string(r)] = number(e);
    json out{{"linears", g.linears},
             {"weights", g.weights},
             {"rel_error_overall", number(g.rel_error_overall)},
             {"rel_error_mean", number(g.rel_error_mean)},
             {"sqnr_db_overall", number(g.sqnr_db_overall)},
             {"max_abs_error", number(g.max_abs_error)},
             {"mean_group_entropy_bits", number(g.mean_group_entropy_bits)},
             {"output_rel_error_mean",
              g.output_rel_error_mean < 0 ? json(nullptr) : number(g.output_rel_error_mean)},
             {"energy_at_rank_mean", energy}};
    for (const auto& [key, value] : g.method_means)
        out[key] = number(value);
    return out;
}

std::string kind_name(GroupKind k) {
    return k == GroupKind::RowGroups ? "row_groups" : "flat_blocks";
}

} // namespace

QuantSummary summarize_quantization(const ModelQuantResult& result) {
    QuantSummary s;
    std::vector<const LinearQuantStats*> all;
    std::map<std::string, std::vector<const LinearQuantStats*>> by_proj;
    std::map<int64_t, std::vector<const LinearQuantStats*>> by_layer;
    for (const auto& l : result.linears) {
        all.push_back(&l);
        by_proj[projection_of(l.name)].push_back(&l);
        by_layer[layer_of(l.name)].push_back(&l);
        if (s.code_histogram.size() < l.code_histogram.size())
            s.code_histogram.resize(l.code_histogram.size(), 0);
        for (size_t k = 0; k < l.code_histogram.size(); ++k)
            s.code_histogram[k] += l.code_histogram[k];
        if (l.layout.has_partial_group()) {
            ++s.linears_with_partial_groups;
            s.partial_groups += l.layout.partial_groups();
        }
    }
    s.overall = summarize_group(all);
    int64_t total = 0;
    for (auto c : s.code_histogram)
        total += c;
    s.pooled_entropy_bits =
        entropy_bits(s.code_histogram.data(), static_cast<int>(s.code_histogram.size()), total);
    for (const auto& [k, v] : by_proj)
        s.by_projection[k] = summarize_group(v);
    for (const auto& [k, v] : by_layer)
        s.by_layer[k] = summarize_group(v);
    s.bits_per_weight = make_quantizer(result.spec)->bits_per_weight(&s.storage_note);
    return s;
}

json linear_stats_to_json(const LinearQuantStats& s, const StatsJsonOptions& o) {
    const GroupLayout& l = s.layout;
    json j{{"name", s.name},
           {"rows", s.rows},
           {"cols", s.cols},
           {"bits", s.bits},
           {"groups",
            {{"kind", kind_name(l.kind)},
             {"group_size", l.group_size},
             {"count", l.num_groups()},
             {"last_group_size", l.last_group_size()},
             {"partial_groups", l.partial_groups()},
             {"blocks_cross_rows", l.kind == GroupKind::FlatBlocks && l.cols % l.group_size != 0}}},
           {"rel_error", number(s.rel_error)},
           {"sqnr_db", number(s.sqnr_db)},
           {"max_abs_error", number(s.max_abs_error)},
           {"weight_norm", number(s.weight_norm)},
           {"error_norm", number(s.error_norm)},
           {"group_error", distribution_json(s.group_error)},
           {"group_error_heatmap", heatmap_json(s.group_rel_error, s, o)},
           {"entropy",
            {{"mean_group_bits", number(s.mean_group_entropy_bits)},
             {"pooled_bits", number(s.pooled_entropy_bits)},
             {"max_bits", s.bits},
             {"code_histogram", s.code_histogram},
             {"group_heatmap", heatmap_json(s.group_entropy, s, o)}}},
           {"quantize_seconds", s.quantize_seconds},
           {"metrics_seconds", s.metrics_seconds}};
    if (o.full_group_arrays && s.pooled_rows == 0) {
        j["group_rel_error"] = numbers(s.group_rel_error);
        j["group_entropy_bits"] = numbers(s.group_entropy);
    }
    if (!s.method.key.empty()) j[s.method.key] = s.method.detail;
    if (s.has_output_error)
        j["output_error"] = {{"rel_error", number(s.output_rel_error)}, {"rows", s.calib_rows}};
    if (s.has_spectrum) {
        json energy = json::object();
        for (const auto& [r, e] : s.energy_at_rank)
            energy[std::to_string(r)] = number(e);
        json sv = json::array();
        for (double v : s.singular_values)
            sv.push_back(number(v));
        j["spectrum"] = {{"size", s.spectrum_size}, {"singular_values", sv}, {"energy_at_rank", energy}};
    }
    return j;
}

json quant_stats_to_json(const ModelQuantResult& result, const std::string& model_source,
                         const StatsJsonOptions& options) {
    const QuantSummary s = summarize_quantization(result);
    const json spec = quant_spec_json(result.spec);
    json by_proj = json::object();
    for (const auto& [k, v] : s.by_projection)
        by_proj[k] = group_summary_json(v);
    json by_layer = json::array();
    for (const auto& [k, v] : s.by_layer) {
        json g = group_summary_json(v);
        g["layer"] = k;
        by_layer.push_back(g);
    }
    json linears = json::array();
    for (const auto& l : result.linears)
        linears.push_back(linear_stats_to_json(l, options));
    return json{{"format", "rilq.quant_stats"},
                {"version", kQuantStatsFormatVersion},
                {"model", model_source},
                {"spec", spec},
                {"describe", result.spec.describe()},
                {"calibration", {{"windows", result.calib_windows}, {"tokens", result.calib_tokens}}},
                {"seconds", result.seconds},
                {"summary",
                 {{"overall", group_summary_json(s.overall)},
                  {"pooled_entropy_bits", number(s.pooled_entropy_bits)},
                  {"code_histogram", s.code_histogram},
                  {"linears_with_partial_groups", s.linears_with_partial_groups},
                  {"partial_groups", s.partial_groups},
                  {"bits_per_weight", number(s.bits_per_weight)},
                  {"storage_note", s.storage_note},
                  {"by_projection", by_proj},
                  {"by_layer", by_layer}}},
                {"linears", linears}};
}

} // namespace rilq
