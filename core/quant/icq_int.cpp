#include "core/quant/icq_int.h"

#include "core/quant/code_entropy.h"
#include "core/quant/metrics.h"
#include "core/util/error.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rilq {

std::vector<float> icq_int_candidates(int n, double range) {
    auto p = torch::cat({torch::ones({1}, torch::kFloat32),
                         torch::linspace(1.0, 1.0 + range, n + 1, torch::kFloat32).slice(0, 1),
                         torch::linspace(1.0, 1.0 - range, n + 1, torch::kFloat32).slice(0, 1)})
                 .contiguous();
    return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

namespace {

class IcqIntQuantizer : public AffineQuantizer { // GPTQ's min/max, then the clip-ratio search per group
  public:
    using AffineQuantizer::AffineQuantizer;
    QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const override;
};

struct GroupChoice {
    AffineParams params;
    int64_t choice = 0;
    float start_entropy = 0.0f;
    float best_entropy = 0.0f;
};

struct GroupSearch {
    const std::vector<float>* candidates = nullptr;
    int levels = 0;
    bool symmetric = false;
    bool exact = false;
};

// Keeps the candidate with the strictly highest entropy (first wins ties), in the chosen arithmetic.
class BestTracker {
  public:
    BestTracker(bool exact, const EntropyTable& table, int levels, int64_t len)
        : exact_(exact), table_(table), levels_(levels), len_(len) {}
    // Returns the entropy in bits; `better` tells whether it replaced the best so far.
    float offer(const int32_t* hist, bool first, bool& better) {
        if (exact_) {
            const int64_t h = entropy_fixed(hist, levels_, table_);
            better = first || h > best_fixed_;
            if (better) best_fixed_ = h;
            return static_cast<float>(fixed_entropy_to_bits(h, len_));
        }
        const float h = entropy_f32(hist, levels_, table_);
        better = first || h > best_f32_;
        if (better) best_f32_ = h;
        return h;
    }

  private:
    bool exact_;
    const EntropyTable& table_;
    int levels_;
    int64_t len_;
    float best_f32_ = 0.0f;
    int64_t best_fixed_ = 0;
};

AffineParams candidate_params(float p, float xmin, float xmax, float maxq, bool symmetric) {
    // quantizer_icq.py: xmin1 = p*xmin, xmax1 = p*xmax, scale1 = (xmax1 - xmin1)/maxq,
    // zero1 = round(-xmin1/scale1) (the symmetric form keeps zero = (maxq+1)/2).
    const float xmin1 = p * xmin, xmax1 = p * xmax;
    AffineParams ap;
    ap.scale = (xmax1 - xmin1) / maxq;
    ap.zero = symmetric ? (maxq + 1.0f) / 2.0f : round_half_even(-xmin1 / ap.scale);
    return ap;
}

// Every candidate codes every element: used when the group is short relative to the levels (8-bit).
GroupChoice search_brute_force(const float* x, int64_t len, float xmin, float xmax, const GroupSearch& s,
                               const EntropyTable& table, int32_t* hist) {
    GroupChoice out;
    const float maxq = static_cast<float>(s.levels - 1);
    BestTracker best(s.exact, table, s.levels, len);
    const auto& cand = *s.candidates;
    for (size_t k = 0; k < cand.size(); ++k) {
        const AffineParams ap = candidate_params(cand[k], xmin, xmax, maxq, s.symmetric);
        std::fill(hist, hist + s.levels, 0);
        for (int64_t i = 0; i < len; ++i)
            ++hist[static_cast<size_t>(affine_code(x[i], ap, maxq))];
        bool better = false;
        const float h = best.offer(hist, k == 0, better);
        if (k == 0) out.start_entropy = h;
        if (better) {
            out.params = ap;
            out.choice = static_cast<int64_t>(k);
            out.best_entropy = h;
        }
    }
    return out;
}

// The codes clamp(round(x/scale) + zero) are monotone in x, so on the sorted group the histogram is
// given by where each boundary "code > q" splits it; those split points move little between
// neighbouring clip ratios and are walked from where the previous candidate left them (as in the
// ICQ-NF search). buffer = [-inf, sorted..., +inf] so the walks need no bounds checks.
GroupChoice search_sorted(const float* x, int64_t len, float xmin, float xmax, const GroupSearch& s,
                          const EntropyTable& table, float* buffer, int64_t* pos, int32_t* hist) {
    GroupChoice out;
    const float* sorted = sorted_with_sentinels(x, len, buffer);
    const int nb = s.levels - 1; // boundaries between codes q and q+1
    const float maxq = static_cast<float>(nb);
    BestTracker best(s.exact, table, s.levels, len);
    const auto& cand = *s.candidates;
    float last = 0.0f;
    for (size_t k = 0; k < cand.size(); ++k) {
        const AffineParams ap = candidate_params(cand[k], xmin, xmax, maxq, s.symmetric);
        auto above = [&](int64_t i, int q) {
            return affine_code(sorted[i], ap, maxq) > static_cast<float>(q);
        };
        bool moved = k == 0;
        for (int q = 0; q < nb; ++q) {
            int64_t p = k == 0 ? (q == 0 ? 0 : pos[q - 1]) : pos[q];
            if (k > 0 && above(p, q) && !above(p - 1, q)) continue;
            while (!above(p, q))
                ++p;
            while (above(p - 1, q))
                --p;
            moved = moved || p != pos[q];
            pos[q] = p;
        }
        if (moved) {
            hist[0] = static_cast<int32_t>(pos[0]);
            for (int q = 1; q < nb; ++q)
                hist[q] = static_cast<int32_t>(pos[q] - pos[q - 1]);
            hist[nb] = static_cast<int32_t>(len - pos[nb - 1]);
            bool better = false;
            last = best.offer(hist, k == 0, better);
            if (better) {
                out.params = ap;
                out.choice = static_cast<int64_t>(k);
                out.best_entropy = last;
            }
        }
        if (k == 0) out.start_entropy = last;
    }
    return out;
}

} // namespace

const IcqIntRecord& icq_int_record(const QuantResult& result) {
    return record_as<IcqIntRecord>(result, "ICQ-int");
}

MethodStats IcqIntRecord::stats(const QuantResult&, const torch::Tensor&, const torch::Tensor&,
                                const MetricsOptions&) const {
    const double gain = (best_entropy - start_entropy).to(torch::kFloat64).mean().item<double>();
    MethodStats s;
    s.key = "icq";
    s.metrics = {{"icq_gain_bits", gain}};
    s.detail = candidate_search_json(candidates, choice, gain);
    return s;
}

void IcqIntRecord::add_code_tensors(const QuantResult&, const QuantSpec&, const std::string& prefix,
                                    std::vector<std::pair<std::string, torch::Tensor>>& out) const {
    out.emplace_back(prefix + "icq_choice", choice.to(torch::kInt32));
}

const QuantMethod& icq_int_method() {
    // The official integer ICQ sits in GPTQ's quantizer, so only GPTQ's range forms apply.
    static const QuantMethod method{
        "icq-int",
        "ICQ-int",
        "IR-QLoRA's ICQ on the integer grid: the entropy-maximising clip ratio per group around GPTQ's "
        "min/max, without GPTQ's Hessian updates (METHODS.md 1.4)",
        variants_of(rtn_variants(), {RtnVariant::Gptq, RtnVariant::GptqSymmetric}),
        {2, 3, 4, 8},
        GroupKind::RowGroups,
        /*needs_calibration=*/false,
        {"icq_int_n", "icq_int_range", "icq_entropy"},
        &make_quantizer_of<IcqIntQuantizer>};
    return method;
}

QuantResult IcqIntQuantizer::quantize(const torch::Tensor& weight, const QuantContext& /*context*/) const {
    const int64_t O = weight.size(0), I = weight.size(1);
    QuantResult r = empty_result(O, I);
    const int64_t G = r.layout.group_size, NG = r.layout.groups_per_row();
    const int levels = spec_.levels();
    const float maxq = static_cast<float>(levels - 1);
    const auto candidates = icq_int_candidates(spec_.icq_int_n, spec_.icq_int_range);
    const EntropyTable full_table = make_entropy_table(G);
    const EntropyTable tail_table = make_entropy_table(r.layout.last_group_size());
    GroupSearch search;
    search.candidates = &candidates;
    search.levels = levels;
    search.symmetric = variant_ == RtnVariant::GptqSymmetric;
    search.exact = spec_.icq_entropy == IcqEntropyArithmetic::ExactTies;

    auto record = std::make_shared<IcqIntRecord>();
    IcqIntRecord& st = *record;
    st.candidates = torch::tensor(candidates, torch::kFloat32);
    st.choice = torch::empty({O, NG}, torch::kInt64);          // (O, G)
    st.start_entropy = torch::empty({O, NG}, torch::kFloat32); // (O, G)
    st.best_entropy = torch::empty({O, NG}, torch::kFloat32);  // (O, G)
    const float* w = weight.data_ptr<float>();
    float *deq = r.dequantized.data_ptr<float>(), *scales = r.scales.data_ptr<float>();
    float *zeros = r.zeros.data_ptr<float>(), *h0 = st.start_entropy.data_ptr<float>();
    float* h1 = st.best_entropy.data_ptr<float>();
    uint8_t* codes = r.codes.data_ptr<uint8_t>();
    int64_t* choice = st.choice.data_ptr<int64_t>();

    at::parallel_for(0, O, std::max<int64_t>(1, 2048 / std::max<int64_t>(I, 1)), [&](int64_t r0, int64_t r1) {
        std::vector<int32_t> hist(static_cast<size_t>(levels));
        std::vector<int64_t> pos(static_cast<size_t>(levels));
        std::vector<float> buffer(static_cast<size_t>(G + 2));
        for (int64_t row = r0; row < r1; ++row) {
            for (int64_t g = 0; g < NG; ++g) {
                const int64_t c0 = g * G, c1 = std::min(c0 + G, I), len = c1 - c0;
                const float* x = w + row * I + c0;
                const EntropyTable& et = len == G ? full_table : tail_table;
                float xmin = 0.0f, xmax = 0.0f;
                group_range(x, len, xmin, xmax);
                gptq_range(xmin, xmax, search.symmetric);
                // Walking the split points pays off while there are fewer of them than elements.
                const GroupChoice gc = 4 * (levels - 1) <= len
                                           ? search_sorted(x, len, xmin, xmax, search, et, buffer.data(),
                                                           pos.data(), hist.data())
                                           : search_brute_force(x, len, xmin, xmax, search, et, hist.data());
                const int64_t gi = row * NG + g;
                scales[gi] = gc.params.scale;
                zeros[gi] = gc.params.zero;
                choice[gi] = gc.choice;
                h0[gi] = gc.start_entropy;
                h1[gi] = gc.best_entropy;
                write_affine_group(x, len, gc.params, maxq, deq + row * I + c0, codes + row * I + c0);
            }
        }
    });
    r.record = std::move(record);
    return r;
}

} // namespace rilq
