#include "core/bench/gemm_bench.h"

#include "core/util/runtime.h"

#include <torch/torch.h>

#include <chrono>

namespace rilq {

namespace {
double best_gflops(int64_t n, torch::Dtype dtype, int repeats) {
    auto a = torch::randn({n, n}).to(dtype);
    auto b = torch::randn({n, n}).to(dtype);
    (void)torch::mm(a, b);   // warm-up: thread pools, BLAS load, oneDNN kernels
    double best_s = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto c = torch::mm(a, b);
        (void)c.data_ptr();
        best_s = std::min(best_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best_s / 1e9;
}
} // namespace

GemmFigures measure_gemm(int64_t n, int repeats) {
    torch::NoGradGuard no_grad;
    GemmFigures f;
    f.n = n;
    f.threads = torch::get_num_threads();
    f.blas = detect_blas().name;
    f.fp32_gflops = best_gflops(n, torch::kFloat32, repeats);
    f.bf16_gflops = best_gflops(n, torch::kBFloat16, repeats);
    return f;
}

double llama_forward_flops_per_token(int64_t hidden, int64_t intermediate, int64_t layers, int64_t q_dim,
                                     int64_t kv_dim, int64_t vocab, int64_t seqlen) {
    const double C = static_cast<double>(hidden), F = static_cast<double>(intermediate);
    const double linear_params = C * q_dim + 2.0 * C * kv_dim + q_dim * C + 3.0 * C * F;
    // Causal attention: on average a token attends to (seqlen + 1) / 2 positions, for QK^T and PV.
    const double attention = 2.0 * 2.0 * q_dim * (static_cast<double>(seqlen) + 1.0) / 2.0;
    return static_cast<double>(layers) * (2.0 * linear_params + attention) + 2.0 * C * static_cast<double>(vocab);
}

} // namespace rilq
