#include "core/quant/icq_nf.h"

#include "core/quant/code_entropy.h"
#include "core/quant/dynamic_map.h"
#include "core/quant/metrics.h"
#include "core/quant/nf_tables.h"
#include "core/util/error.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rilq {

std::vector<float> icq_nf_candidates(int n, double lambda) {
    if (n == 0) return {0.0f};
    const double sigma = icq_sigma();
    const double start = -lambda * sigma, stop = lambda * sigma;
    const int num = 2 * n + 1;
    // numpy.linspace: step = (stop - start) / (num - 1); y = i * step + start; y[-1] = stop.
    const double step = (stop - start) / static_cast<double>(num - 1);
    std::vector<float> f(static_cast<size_t>(num));
    for (int i = 0; i < num; ++i) {
        const double y = i == num - 1 ? stop : static_cast<double>(i) * step + start;
        f[static_cast<size_t>(i)] = static_cast<float>(y);
    }
    return f;
}

namespace {

// ICQ's search on NF blocks; its NF table, thresholds and absmax storage are NfQuantizer's.
class IcqNfQuantizer : public NfQuantizer {
  public:
    using NfQuantizer::NfQuantizer;
    QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const override;
    // NF's storage plus a uint8 tau1 per block and an fp16 tau2 per super-block.
    double bits_per_weight(std::string* note) const override;
    std::string dequant_formula() const override;
};

struct BlockChoice {
    float median = 0.0f; // tau0
    float spread = 0.0f; // m
    int64_t choice = 0;
    float start_entropy = 0.0f;
    float best_entropy = 0.0f;
};

// Everything the per-block search reads, fixed for the whole tensor.
struct SearchSetup {
    const std::vector<float>* thresholds = nullptr;
    const std::vector<float>* candidates = nullptr;
    int64_t start_index = 0; // the f = 0 candidate (median start)
    int levels = 0;
};

// The search runs on the block sorted ascending. v_i = fl(fl(x_i - tau) * inv) is monotone in x_i
// (rounding is monotone, inv > 0), so "v_i > t_k" is false then true along the sorted block and
// the count of codes <= k is the partition point pos[k]. Between neighbouring candidates tau moves
// by ~5e-4·m, so each partition point is found by stepping from where the previous candidate left
// it: about two predicate evaluations per threshold instead of one per element. The counts are
// exactly those of quantizing every element (the brute-force oracle test checks this).
template <bool kExactTies>
BlockChoice search_block(const float* x, int64_t len, const SearchSetup& s, const EntropyTable& table,
                         float* buffer) {
    BlockChoice out;
    // The sentinels make "v > t" false below and true above the block for any tau and inv > 0.
    const float* sorted = sorted_with_sentinels(x, len, buffer);
    out.median = sorted[(len - 1) / 2]; // torch.median's lower middle value
    const float xmin = sorted[0], xmax = sorted[len - 1];
    // max|x - tau| is reached at an extreme because fl(x - tau) is monotone in x.
    out.spread = std::max(std::fabs(xmin - out.median), std::fabs(xmax - out.median));
    const float m = out.spread;

    const auto& cand = *s.candidates;
    const float* thr = s.thresholds->data();
    const int levels = s.levels, nthr = levels - 1;
    int64_t pos[16] = {
        0}; // pos[k] = number of elements with code <= k (sorted[pos[k]] is the first above t_k)
    int32_t hist[16];
    float best_f32 = 0.0f;
    int64_t best_fixed = 0;
    float last_f32 = 0.0f, last_bits = 0.0f;
    int64_t last_fixed = 0;
    for (size_t c = 0; c < cand.size(); ++c) {
        const float tau = cand[c] * m + out.median;
        const float a = std::max(std::fabs(xmin - tau), std::fabs(xmax - tau));
        const float inv = 1.0f / a;
        auto above = [&](int64_t i, float t) { return (sorted[i] - tau) * inv > t; };
        bool moved = c == 0;
        for (int k = 0; k < nthr; ++k) {
            const float t = thr[k];
            int64_t p = pos[k];
            if (c == 0) {
                p = k == 0 ? 0 : pos[k - 1];
                while (!above(p, t))
                    ++p;
                pos[k] = p;
                continue;
            }
            // Usually the partition stays put: one well-predicted branch per threshold.
            if (above(p, t) && !above(p - 1, t)) continue;
            while (!above(p, t))
                ++p;
            while (above(p - 1, t))
                --p;
            pos[k] = p;
            moved = true;
        }
        // Most neighbouring candidates give the same histogram, hence the same entropy, which
        // cannot be a strict improvement: only a moved partition needs the entropy again.
        if (moved) {
            hist[0] = static_cast<int32_t>(pos[0]);
            for (int k = 1; k < nthr; ++k)
                hist[k] = static_cast<int32_t>(pos[k] - pos[k - 1]);
            hist[nthr] = static_cast<int32_t>(len - pos[nthr - 1]);
            bool better = c == 0;
            if constexpr (kExactTies) {
                last_fixed = entropy_fixed(hist, levels, table);
                better = better || last_fixed > best_fixed;
                if (better) best_fixed = last_fixed;
                last_bits = static_cast<float>(fixed_entropy_to_bits(last_fixed, len));
            } else {
                last_f32 = entropy_f32(hist, levels, table);
                better = better || last_f32 > best_f32;
                if (better) best_f32 = last_f32;
                last_bits = last_f32;
            }
            if (better) {
                out.choice = static_cast<int64_t>(c);
                out.best_entropy = last_bits;
            }
        }
        if (static_cast<int64_t>(c) == s.start_index) out.start_entropy = last_bits;
    }
    return out;
}

} // namespace

const IcqNfRecord& icq_nf_record(const QuantResult& result) {
    return record_as<IcqNfRecord>(result, "ICQ-NF");
}

MethodStats IcqNfRecord::stats(const QuantResult& result, const torch::Tensor& weight,
                               const torch::Tensor& group_entropy, const MetricsOptions& options) const {
    const GroupLayout& l = result.layout;
    const double gain_vs_start = (best_entropy - start_entropy).to(torch::kFloat64).mean().item<double>();
    const auto plain_entropy = group_code_entropy(l, plain_codes, result.bits); // (NB) f64
    const auto gain = group_entropy - plain_entropy;
    const double gain_vs_plain = gain.mean().item<double>();
    const double losing = (gain < 0).to(torch::kFloat64).mean().item<double>();
    // tau* relative to the block's absmax of w.
    auto wabs = l.to_padded(weight.abs(), 0.0).amax(1); // (NB)
    auto ratio = offset / wabs.clamp_min(std::numeric_limits<float>::min());
    const Distribution offset_ratio = summarize_distribution(ratio, options.offset_ratio_bins, -1.0, 1.0);

    MethodStats s;
    s.key = "icq";
    s.metrics = {{"icq_gain_bits", gain_vs_start},
                 {"icq_gain_vs_plain_bits", gain_vs_plain},
                 {"icq_blocks_losing_vs_plain", losing}};
    s.detail = candidate_search_json(candidates, choice, gain_vs_start);
    s.detail["gain_vs_plain_bits"] = finite_or_null(gain_vs_plain);
    s.detail["plain_mean_group_bits"] = finite_or_null(plain_entropy.mean().item<double>());
    s.detail["blocks_losing_vs_plain"] = finite_or_null(losing);
    s.detail["offset_over_absmax"] = distribution_json(offset_ratio);
    return s;
}

void IcqNfRecord::add_code_tensors(const QuantResult& result, const QuantSpec& spec,
                                   const std::string& prefix,
                                   std::vector<std::pair<std::string, torch::Tensor>>& out) const {
    NfRecord::add_code_tensors(result, spec, prefix, out);
    if (spec.icq_quantize_offset) {
        out.emplace_back(prefix + "offset_codes", offset_codes);
        out.emplace_back(prefix + "offset_scales", offset_scales);
    } else {
        out.emplace_back(prefix + "offset", offset_dequant);
    }
    out.emplace_back(prefix + "icq_choice", choice.to(torch::kInt32));
}

double IcqNfQuantizer::bits_per_weight(std::string* note) const {
    const double G = static_cast<double>(spec_.group_size);
    double bits = NfQuantizer::bits_per_weight(note);
    bits += 8.0 / G + 16.0 / (G * static_cast<double>(spec_.icq_superblock));
    if (note) *note += " + uint8 tau1 per block + fp16 tau2 per super-block";
    return bits;
}

std::string IcqNfQuantizer::dequant_formula() const {
    return absmax_formula() +
           (spec_.icq_quantize_offset ? "tau[b] = dynamic_map[offset_codes[b]] * offset_scales[b // S]; "
                                      : "tau[b] = offset[b]; ") +
           "w.flat[j] = table[codes.flat[j]] * a[j // B] + tau[j // B]";
}

const QuantMethod& icq_nf_method() {
    static const QuantMethod method{
        "icq-nf",
        "ICQ-NF",
        "IR-QLoRA's Information Calibration Quantization: NF-k of W - tau with the entropy-maximising offset "
        "tau per block (METHODS.md 1.3)",
        variants_of(nf_variants()),
        {2, 3, 4},
        GroupKind::FlatBlocks,
        /*needs_calibration=*/false,
        {"double_quant", "double_quant_block", "icq_tau_lambda", "icq_tau_n", "icq_superblock",
         "icq_quantize_offset", "icq_entropy"},
        &make_quantizer_of<IcqNfQuantizer>};
    return method;
}

QuantResult IcqNfQuantizer::quantize(const torch::Tensor& weight, const QuantContext& /*context*/) const {
    const int64_t O = weight.size(0), I = weight.size(1), B = spec_.group_size, N = O * I;
    const int64_t NB = (N + B - 1) / B, S = spec_.icq_superblock, NS = (NB + S - 1) / S;
    QuantResult r;
    r.bits = spec_.bits;
    r.layout = GroupLayout::flat_blocks(O, I, B);
    const auto& table = table_;
    const auto& thresholds = thresholds_;
    r.table = torch::tensor(table, torch::kFloat32);
    const auto candidates = icq_nf_candidates(spec_.icq_tau_n, spec_.icq_tau_lambda);

    SearchSetup setup;
    setup.thresholds = &thresholds;
    setup.candidates = &candidates;
    setup.start_index = spec_.icq_tau_n; // the middle of 2n+1 (0 when n = 0)
    setup.levels = spec_.levels();
    const int64_t tail = N - (NB - 1) * B;
    const EntropyTable full_table = make_entropy_table(B);
    const EntropyTable tail_table = make_entropy_table(tail);
    const bool exact = spec_.icq_entropy == IcqEntropyArithmetic::ExactTies;

    auto record = std::make_shared<IcqNfRecord>();
    IcqNfRecord& st = *record;
    st.candidates = torch::tensor(candidates, torch::kFloat32); // (C)
    st.median = torch::empty({NB}, torch::kFloat32);            // (NB)
    st.spread = torch::empty({NB}, torch::kFloat32);            // (NB)
    st.choice = torch::empty({NB}, torch::kInt64);              // (NB)
    st.offset = torch::empty({NB}, torch::kFloat32);            // (NB)
    st.start_entropy = torch::empty({NB}, torch::kFloat32);     // (NB)
    st.best_entropy = torch::empty({NB}, torch::kFloat32);      // (NB)
    auto codes = torch::empty({N}, torch::kUInt8);              // (O*I)
    st.absmax_fp = torch::empty({NB}, torch::kFloat32);         // (NB)

    const float* x = weight.data_ptr<float>();
    uint8_t* code_ptr = codes.data_ptr<uint8_t>();
    float* med = st.median.data_ptr<float>();
    float* spread = st.spread.data_ptr<float>();
    int64_t* choice = st.choice.data_ptr<int64_t>();
    float* offset = st.offset.data_ptr<float>();
    float* h0 = st.start_entropy.data_ptr<float>();
    float* h1 = st.best_entropy.data_ptr<float>();
    float* absmax = st.absmax_fp.data_ptr<float>();

    at::parallel_for(0, NB, std::max<int64_t>(1, 8192 / B), [&](int64_t b0, int64_t b1) {
        std::vector<float> sorted(static_cast<size_t>(B + 2)), diff(static_cast<size_t>(B));
        for (int64_t b = b0; b < b1; ++b) {
            const int64_t i0 = b * B, len = std::min(B, N - i0);
            const EntropyTable& et = len == B ? full_table : tail_table;
            const BlockChoice bc = exact ? search_block<true>(x + i0, len, setup, et, sorted.data())
                                         : search_block<false>(x + i0, len, setup, et, sorted.data());
            med[b] = bc.median;
            spread[b] = bc.spread;
            choice[b] = bc.choice;
            h0[b] = bc.start_entropy;
            h1[b] = bc.best_entropy;
            // tau* = factor_best * absmax + tau0, then the NF codes of w - tau*.
            const float tau = candidates[static_cast<size_t>(bc.choice)] * bc.spread + bc.median;
            offset[b] = tau;
            for (int64_t i = 0; i < len; ++i)
                diff[static_cast<size_t>(i)] = x[i0 + i] - tau;
            absmax[b] = nf_quantize_block(diff.data(), len, thresholds, code_ptr + i0);
        }
    });
    r.codes = codes.view({O, I});

    // tau storage: tau2 = max|tau*| per super-block, tau1 = argmin |tau*/tau2 - dyn|.
    st.offset_scales = torch::empty({NS}, torch::kFloat32);  // (NS)
    st.offset_codes = torch::empty({NB}, torch::kUInt8);     // (NB)
    st.offset_dequant = torch::empty({NB}, torch::kFloat32); // (NB)
    st.offset_superblock = S;
    st.offset_quantized = spec_.icq_quantize_offset;
    {
        float* tau2 = st.offset_scales.data_ptr<float>();
        uint8_t* tau1 = st.offset_codes.data_ptr<uint8_t>();
        float* tau_hat = st.offset_dequant.data_ptr<float>();
        for (int64_t s = 0; s < NS; ++s) {
            const int64_t b0 = s * S, b1 = std::min(b0 + S, NB);
            float t2 = 0.0f;
            for (int64_t b = b0; b < b1; ++b)
                t2 = std::max(t2, std::fabs(offset[b]));
            tau2[s] = t2;
            for (int64_t b = b0; b < b1; ++b) {
                tau1[b] =
                    dynamic_map_argmin(t2 > 0.0f ? offset[b] / t2 : std::numeric_limits<float>::quiet_NaN());
                tau_hat[b] = spec_.icq_quantize_offset ? dynamic_map_value(tau1[b], t2) : offset[b];
            }
        }
    }

    store_absmax(st, r);
    r.dequantized = nf_dequantize(codes, r.absmax, B, table, st.offset_dequant).view({O, I});

    // Plain NF codes of the same weight (tau = 0): the metrics report the gain over them.
    torch::Tensor plain_codes, plain_absmax;
    nf_quantize_flat(weight.reshape({-1}), B, thresholds, plain_codes, plain_absmax);
    st.plain_codes = plain_codes.view({O, I});
    r.record = std::move(record);
    return r;
}

} // namespace rilq
