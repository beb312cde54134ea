#include "core/model/row_parallel_mm.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>

namespace rilq {

namespace {

bool row_parallel_applies(const torch::Tensor& a, const torch::Tensor& b) {
    return a.scalar_type() == torch::kFloat32 && b.scalar_type() == torch::kFloat32 && a.device().is_cpu() &&
           b.device().is_cpu() && at::get_num_threads() > 1 && !at::in_parallel_region();
}

class RowParallelLinearFunction : public torch::autograd::Function<RowParallelLinearFunction> {
  public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& w) {
        const auto x2 = x.detach().reshape({-1, x.size(-1)}), wd = w.detach();
        // What each gradient needs, as torch::linear keeps it: x only for W's gradient (training
        // all weights), W only for x's.
        ctx->save_for_backward(
            {w.requires_grad() ? x2 : torch::Tensor(), x.requires_grad() ? wd : torch::Tensor()});
        ctx->saved_data["out"] = w.size(0);
        ctx->saved_data["in"] = w.size(1);
        auto sizes = x.sizes().vec();
        sizes.back() = w.size(0);
        return row_parallel_mm(x2, wd.t()).view(sizes);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto x2 = saved[0], w = saved[1];
        const int64_t out = ctx->saved_data["out"].toInt(), in = ctx->saved_data["in"].toInt();
        const auto g2 = grads[0].detach().reshape({-1, out}); // (N, out)
        torch::Tensor gx, gw;
        if (ctx->needs_input_grad(0)) {
            auto sizes = grads[0].sizes().vec();
            sizes.back() = in;
            gx = row_parallel_mm(g2, w).view(sizes); // (N, out) . (out, in)
        }
        if (ctx->needs_input_grad(1)) gw = row_parallel_mm(g2.t(), x2); // (out, N) . (N, in)
        return {gx, gw};
    }
};

} // namespace

torch::Tensor row_parallel_mm(const torch::Tensor& a, const torch::Tensor& b) {
    if (!row_parallel_applies(a, b)) return torch::mm(a, b);
    const int64_t M = a.size(0), N = b.size(1);
    auto out = torch::empty({M, N}, a.options());
    const int64_t parts = std::min<int64_t>(at::get_num_threads(), std::max<int64_t>(1, M / 8));
    const int64_t rows_per_part = (M + parts - 1) / parts;
    at::parallel_for(0, M, rows_per_part, [&](int64_t r0, int64_t r1) {
        for (int64_t s = r0; s < r1; s += rows_per_part) {
            const int64_t e = std::min(r1, s + rows_per_part);
            auto part = out.narrow(0, s, e - s);
            at::mm_out(part, a.narrow(0, s, e - s), b);
        }
    });
    return out;
}

torch::Tensor row_parallel_linear(const torch::Tensor& x, const torch::Tensor& w) {
    if (!row_parallel_applies(x, w)) return torch::linear(x, w);
    return RowParallelLinearFunction::apply(x, w);
}

} // namespace rilq
