#include "core/quant/icq_int.h"

#include "core/quant/code_entropy.h"
#include "core/quant/rtn.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace rilq {

std::vector<float> icq_int_candidates(int n, double range) {
    auto p = torch::cat({torch::ones({1}, torch::kFloat32),
                         torch::linspace(1.0, 1.0 + range, n + 1, torch::kFloat32).slice(0, 1),
                         torch::linspace(1.0, 1.0 - range, n + 1, torch::kFloat32).slice(0, 1)})
                 .contiguous();
    return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

QuantResult IcqIntQuantizer::quantize(const torch::Tensor& weight, const std::string& /*name*/) const {
    const int64_t O = weight.size(0), I = weight.size(1);
    QuantResult r;
    r.bits = spec_.bits;
    r.layout = GroupLayout::row_groups(O, I, spec_.group_size);
    const int64_t G = r.layout.group_size, NG = r.layout.groups_per_row();
    const bool sym = spec_.rtn_variant == RtnVariant::GptqSymmetric;
    const bool exact = spec_.icq_entropy == IcqEntropyArithmetic::ExactTies;
    const int levels = spec_.levels();
    const float maxq = static_cast<float>(levels - 1);
    const auto candidates = icq_int_candidates(spec_.icq_int_n, spec_.icq_int_range);
    const EntropyTable full_table = make_entropy_table(G);
    const EntropyTable tail_table = make_entropy_table(r.layout.last_group_size());

    r.dequantized = torch::empty({O, I}, torch::kFloat32);   // (O, I)
    r.codes = torch::empty({O, I}, torch::kUInt8);           // (O, I)
    r.scales = torch::empty({O, NG}, torch::kFloat32);       // (O, G)
    r.zeros = torch::empty({O, NG}, torch::kFloat32);        // (O, G)
    r.has_icq_int = true;
    IcqIntState& st = r.icq_int;
    st.candidates = torch::tensor(candidates, torch::kFloat32);
    st.choice = torch::empty({O, NG}, torch::kInt64);
    st.start_entropy = torch::empty({O, NG}, torch::kFloat32);
    st.best_entropy = torch::empty({O, NG}, torch::kFloat32);

    const float* w = weight.data_ptr<float>();
    float* deq = r.dequantized.data_ptr<float>();
    uint8_t* codes = r.codes.data_ptr<uint8_t>();
    float* scales = r.scales.data_ptr<float>();
    float* zeros = r.zeros.data_ptr<float>();
    int64_t* choice = st.choice.data_ptr<int64_t>();
    float* h0 = st.start_entropy.data_ptr<float>();
    float* h1 = st.best_entropy.data_ptr<float>();

    at::parallel_for(0, O, std::max<int64_t>(1, 2048 / std::max<int64_t>(I, 1)), [&](int64_t r0, int64_t r1) {
        std::vector<int32_t> hist(static_cast<size_t>(levels));
        for (int64_t row = r0; row < r1; ++row) {
            for (int64_t g = 0; g < NG; ++g) {
                const int64_t c0 = g * G, c1 = std::min(c0 + G, I), len = c1 - c0;
                const float* x = w + row * I;
                const EntropyTable& et = len == G ? full_table : tail_table;
                float xmin = x[c0], xmax = x[c0];
                for (int64_t c = c0 + 1; c < c1; ++c) {
                    xmin = std::min(xmin, x[c]);
                    xmax = std::max(xmax, x[c]);
                }
                gptq_range(xmin, xmax, sym);
                const float sym_zero = (maxq + 1.0f) / 2.0f;
                AffineParams best;
                float best_f32 = 0.0f;
                int64_t best_fixed = 0;
                for (size_t k = 0; k < candidates.size(); ++k) {
                    const float p = candidates[k];
                    const float xmin1 = p * xmin, xmax1 = p * xmax;
                    AffineParams ap;
                    ap.scale = (xmax1 - xmin1) / maxq;
                    ap.zero = sym ? sym_zero : round_half_even(-xmin1 / ap.scale);
                    std::fill(hist.begin(), hist.end(), 0);
                    for (int64_t c = c0; c < c1; ++c) ++hist[static_cast<size_t>(affine_code(x[c], ap, maxq))];
                    bool better = k == 0;
                    float h_bits = 0.0f;
                    if (exact) {
                        const int64_t h = entropy_fixed(hist.data(), levels, et);
                        better = better || h > best_fixed;
                        if (better) best_fixed = h;
                        h_bits = static_cast<float>(fixed_entropy_to_bits(h, len));
                    } else {
                        const float h = entropy_f32(hist.data(), levels, et);
                        better = better || h > best_f32;
                        if (better) best_f32 = h;
                        h_bits = h;
                    }
                    if (k == 0) h0[row * NG + g] = h_bits;
                    if (better) {
                        best = ap;
                        choice[row * NG + g] = static_cast<int64_t>(k);
                        h1[row * NG + g] = h_bits;
                    }
                }
                scales[row * NG + g] = best.scale;
                zeros[row * NG + g] = best.zero;
                for (int64_t c = c0; c < c1; ++c) {
                    const float q = affine_code(x[c], best, maxq);
                    deq[row * I + c] = best.scale * (q - best.zero);
                    codes[row * I + c] = static_cast<uint8_t>(q);
                }
            }
        }
    });
    return r;
}

} // namespace rilq
