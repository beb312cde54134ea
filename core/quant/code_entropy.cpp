#include "core/quant/code_entropy.h"

#include <torch/torch.h>

#include <cmath>

namespace rilq {

namespace {
constexpr double kFixedScale = 1099511627776.0; // 2^40
}

EntropyTable make_entropy_table(int64_t length) {
    EntropyTable t;
    t.length = length;
    // The same fp32 ops as evaluate_entropy(): freqs = count / blocksize; -freqs * log2(freqs).
    auto counts = torch::arange(length + 1, torch::kFloat32);
    auto f = counts / static_cast<double>(length);
    auto terms = (-f) * torch::log2(f);
    terms = torch::where(torch::isnan(terms), torch::zeros_like(terms), terms).contiguous();
    t.f32.assign(terms.data_ptr<float>(), terms.data_ptr<float>() + length + 1);
    t.fixed.resize(static_cast<size_t>(length + 1), 0);
    for (int64_t c = 1; c <= length; ++c) {
        const double bits =
            static_cast<double>(c) * std::log2(static_cast<double>(length) / static_cast<double>(c));
        t.fixed[static_cast<size_t>(c)] = std::llround(bits * kFixedScale);
    }
    return t;
}

double fixed_entropy_to_bits(int64_t fixed, int64_t length) {
    return static_cast<double>(fixed) / kFixedScale / static_cast<double>(length);
}

double entropy_bits(const int64_t* counts, int levels, int64_t length) {
    if (length <= 0) return 0.0;
    double h = 0.0;
    for (int k = 0; k < levels; ++k) {
        if (counts[k] <= 0) continue;
        const double p = static_cast<double>(counts[k]) / static_cast<double>(length);
        h -= p * std::log2(p);
    }
    return h;
}

} // namespace rilq
