#include "core/model/rms_norm.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace rilq {

namespace {

constexpr int64_t kRmsNormRowGrain = 16; // rows per task: a (16, 4096) block is 256 KiB of fp32

inline float rms_as_float(float v) {
    return v;
}
inline float rms_as_float(c10::BFloat16 v) {
    return static_cast<float>(v);
}

// Forward of rows [r0, r1): rstd[r] = 1 / sqrt(mean(x^2) + eps); y = w * dtype(x * rstd).
template <class T>
void rms_norm_rows(const T* x, const T* w, T* y, float* rstd, int64_t C, double eps, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
        const T* xr = x + r * C;
        double sum = 0.0; // double: the order of a serial sum must not matter at C = 4096
        for (int64_t c = 0; c < C; ++c) {
            const double v = rms_as_float(xr[c]);
            sum += v * v;
        }
        const float variance = static_cast<float>(sum / static_cast<double>(C));
        const float rs = 1.0f / std::sqrt(variance + static_cast<float>(eps));
        rstd[r] = rs;
        T* yr = y + r * C;
        for (int64_t c = 0; c < C; ++c)
            yr[c] =
                static_cast<T>(rms_as_float(w[c]) * rms_as_float(static_cast<T>(rms_as_float(xr[c]) * rs)));
    }
}

// dx of rows [r0, r1) from g (the gradient of y): dx = r (g w - n mean(g w n)), n = x r.
template <class T>
void rms_norm_grad_rows(const T* x, const T* w, const T* g, const float* rstd, T* dx, int64_t C, int64_t r0,
                        int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
        const T* xr = x + r * C;
        const T* gr = g + r * C;
        const float rs = rstd[r];
        double dot = 0.0;
        for (int64_t c = 0; c < C; ++c)
            dot += static_cast<double>(rms_as_float(gr[c]) * rms_as_float(w[c])) * rms_as_float(xr[c]);
        const float mean_dot = static_cast<float>(dot * rs / static_cast<double>(C));
        T* dr = dx + r * C;
        for (int64_t c = 0; c < C; ++c) {
            const float n = rms_as_float(xr[c]) * rs;
            dr[c] = static_cast<T>(rs * (rms_as_float(gr[c]) * rms_as_float(w[c]) - n * mean_dot));
        }
    }
}

class FusedRmsNormFunction : public torch::autograd::Function<FusedRmsNormFunction> {
  public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in,
                                 const torch::Tensor& w_in, double eps) {
        const auto x = x_in.detach().contiguous(), w = w_in.detach().contiguous();
        const int64_t C = x.size(-1), rows = x.numel() / C;
        auto y = torch::empty_like(x);
        auto rstd = torch::empty({rows}, torch::kFloat32);
        float* rs = rstd.data_ptr<float>();
        at::parallel_for(0, rows, kRmsNormRowGrain, [&](int64_t r0, int64_t r1) {
            if (x.scalar_type() == torch::kBFloat16)
                rms_norm_rows(x.data_ptr<c10::BFloat16>(), w.data_ptr<c10::BFloat16>(),
                              y.data_ptr<c10::BFloat16>(), rs, C, eps, r0, r1);
            else
                rms_norm_rows(x.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), rs, C, eps, r0,
                              r1);
        });
        ctx->save_for_backward({x, w, rstd});
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto x = saved[0].detach(), w = saved[1].detach(), rstd = saved[2].detach();
        const auto g = grads[0].detach().contiguous();
        const int64_t C = x.size(-1), rows = x.numel() / C;
        torch::Tensor dx, dw;
        if (ctx->needs_input_grad(0)) {
            dx = torch::empty_like(x);
            const float* rs = rstd.data_ptr<float>();
            at::parallel_for(0, rows, kRmsNormRowGrain, [&](int64_t r0, int64_t r1) {
                if (x.scalar_type() == torch::kBFloat16)
                    rms_norm_grad_rows(x.data_ptr<c10::BFloat16>(), w.data_ptr<c10::BFloat16>(),
                                       g.data_ptr<c10::BFloat16>(), rs, dx.data_ptr<c10::BFloat16>(), C, r0,
                                       r1);
                else
                    rms_norm_grad_rows(x.data_ptr<float>(), w.data_ptr<float>(), g.data_ptr<float>(), rs,
                                       dx.data_ptr<float>(), C, r0, r1);
            });
        }
        if (ctx->needs_input_grad(1)) {
            // The weight's gradient (full training only): sum over rows of g * dtype(x r).
            const auto n = (x.to(torch::kFloat32).view({rows, C}) * rstd.unsqueeze(1)).to(x.scalar_type());
            dw = (g.view({rows, C}).to(torch::kFloat32) * n.to(torch::kFloat32)).sum(0).to(w.scalar_type());
        }
        return {dx, dw, torch::Tensor()};
    }
};

} // namespace

torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    return FusedRmsNormFunction::apply(x, weight, eps);
}

} // namespace rilq
