#include "core/model/rope.h"

#include <torch/torch.h>

#include <cmath>

namespace rilq {

torch::Tensor rope_inv_freq(const LlamaConfig& config) {
    const int64_t dim = config.head_dim;
    // inv_freq_i = theta^(-2i/HD), i = 0..HD/2-1 (fp32, as HF's int64 arange .float() / dim)
    auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<float>(dim);
    auto inv_freq = 1.0 / torch::pow(static_cast<float>(config.rope_theta), exponents);
    inv_freq = inv_freq.to(torch::kFloat32);

    const RopeScaling& rs = config.rope_scaling;
    if (rs.rope_type == "linear") {
        // Linear scaling divides positions by the factor; dividing the frequencies is the same.
        inv_freq = inv_freq / static_cast<float>(rs.factor);
    } else if (rs.rope_type == "llama3") {
        // HF _compute_llama3_parameters: long wavelengths are slowed by `factor`, short ones kept,
        // and the band between them interpolated smoothly.
        const double old_len = static_cast<double>(rs.original_max_position_embeddings);
        const double low_freq_wavelen = old_len / rs.low_freq_factor;
        const double high_freq_wavelen = old_len / rs.high_freq_factor;
        auto wavelen = 2 * M_PI / inv_freq;
        auto scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / rs.factor, inv_freq);
        auto smooth = (old_len / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
        auto smoothed = (1 - smooth) * scaled / rs.factor + smooth * scaled;
        auto is_medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
        inv_freq = torch::where(is_medium, smoothed, scaled).to(torch::kFloat32);
    }
    return inv_freq;
}

RopeTables rope_tables(const torch::Tensor& inv_freq, int64_t seq_len, torch::Dtype dtype, const torch::Device& device) {
    auto positions = torch::arange(seq_len, torch::kInt64).to(torch::kFloat32);     // (T)
    auto freqs = torch::outer(positions, inv_freq);                                    // (T, HD/2)
    auto emb = torch::cat({freqs, freqs}, -1);                                         // (T, HD)
    return {emb.cos().to(device, dtype), emb.sin().to(device, dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables) {
    const int64_t half = x.size(-1) / 2;
    auto x1 = x.narrow(-1, 0, half);
    auto x2 = x.narrow(-1, half, half);
    auto rotated = torch::cat({-x2, x1}, -1);                                          // rotate_half
    return x * tables.cos + rotated * tables.sin;                                      // (B, H, T, HD)
}

} // namespace rilq
