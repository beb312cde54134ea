#include "core/model/head_attention.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace rilq {

namespace {

constexpr int64_t kHeadAttentionBlock = 128; // queries per block, as LlamaModel::attention

// Offset of query block [s, e) in a head's saved probabilities: blocks are stored one after the
// other, block [s, e) as a contiguous (e - s, e) matrix (keys 0..e-1).
int64_t head_probs_offset(int64_t s) {
    int64_t offset = 0;
    for (int64_t b = 0; b < s; b += kHeadAttentionBlock)
        offset += kHeadAttentionBlock * (b + kHeadAttentionBlock);
    return offset;
}

int64_t head_probs_size(int64_t T) {
    int64_t size = 0;
    for (int64_t s = 0; s < T; s += kHeadAttentionBlock) {
        const int64_t e = std::min(T, s + kHeadAttentionBlock);
        size += (e - s) * e;
    }
    return size;
}

class HeadParallelAttentionFunction : public torch::autograd::Function<HeadParallelAttentionFunction> {
  public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q_in,
                                 const torch::Tensor& k_in, const torch::Tensor& v_in) {
        // Detached: the worker threads run with their own grad mode, and nothing here is recorded.
        const auto q = q_in.detach().contiguous(), k = k_in.detach().contiguous(),
                   v = v_in.detach().contiguous();
        const int64_t B = q.size(0), NH = q.size(1), T = q.size(2), HD = q.size(3), NKV = k.size(1);
        const int64_t rep = NH / NKV;
        const double scale = 1.0 / std::sqrt(static_cast<double>(HD));
        auto out = torch::empty({B, T, NH, HD}, q.options());
        auto probs = torch::empty({B, NH, head_probs_size(T)}, q.options());
        // Within a block, query i (position s + i) sees keys j <= s + i: the diagonal part masks j > i.
        const auto diagonal_mask =
            torch::ones({kHeadAttentionBlock, kHeadAttentionBlock}, torch::kBool).triu(1);
        at::parallel_for(0, B * NKV, 1, [&](int64_t t0, int64_t t1) {
            for (int64_t task = t0; task < t1; ++task) {
                const int64_t b = task / NKV, g = task % NKV;
                const auto kg = k[b][g], vg = v[b][g]; // (T, HD)
                for (int64_t h = g * rep; h < (g + 1) * rep; ++h) {
                    const auto qh = q[b][h];             // (T, HD)
                    const auto oh = out[b].select(1, h); // (T, HD), row stride NH * HD
                    for (int64_t s = 0; s < T; s += kHeadAttentionBlock) {
                        const int64_t e = std::min(T, s + kHeadAttentionBlock), n = e - s;
                        auto scores = torch::mm(qh.narrow(0, s, n), kg.narrow(0, 0, e).t()) // (n, e)
                                          .to(torch::kFloat32)
                                          .mul_(scale);
                        scores.narrow(1, s, n).masked_fill_(diagonal_mask.narrow(0, 0, n).narrow(1, 0, n),
                                                            -std::numeric_limits<float>::infinity());
                        auto p = probs[b][h].narrow(0, head_probs_offset(s), n * e).view({n, e});
                        p.copy_(torch::softmax(scores, -1));
                        oh.narrow(0, s, n).copy_(torch::mm(p, vg.narrow(0, 0, e)));
                    }
                }
            }
        });
        ctx->save_for_backward({q, k, v, probs});
        return out.view({B, T, NH * HD});
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto q = saved[0].detach(), k = saved[1].detach(), v = saved[2].detach(),
                   probs = saved[3].detach();
        const int64_t B = q.size(0), NH = q.size(1), T = q.size(2), HD = q.size(3), NKV = k.size(1);
        const int64_t rep = NH / NKV;
        const double scale = 1.0 / std::sqrt(static_cast<double>(HD));
        const auto dtype = q.scalar_type();
        const auto grad_out = grads[0].detach().contiguous().view({B, T, NH, HD});
        auto dq = torch::empty_like(q), dk = torch::empty_like(k), dv = torch::empty_like(v);
        at::parallel_for(0, B * NKV, 1, [&](int64_t t0, int64_t t1) {
            for (int64_t task = t0; task < t1; ++task) {
                const int64_t b = task / NKV, g = task % NKV;
                const auto kg = k[b][g], vg = v[b][g];
                auto dk32 = torch::zeros({T, HD}, torch::kFloat32),
                     dv32 = torch::zeros({T, HD}, torch::kFloat32);
                for (int64_t h = g * rep; h < (g + 1) * rep; ++h) {
                    const auto qh = q[b][h];
                    const auto doh = grad_out[b].select(1, h); // (T, HD)
                    auto dqh = dq[b][h];
                    for (int64_t s = 0; s < T; s += kHeadAttentionBlock) {
                        const int64_t e = std::min(T, s + kHeadAttentionBlock), n = e - s;
                        const auto p = probs[b][h].narrow(0, head_probs_offset(s), n * e).view({n, e});
                        const auto d_o = doh.narrow(0, s, n);
                        dv32.narrow(0, 0, e).add_(torch::mm(p.t(), d_o).to(torch::kFloat32));
                        const auto dp = torch::mm(d_o, vg.narrow(0, 0, e).t()).to(torch::kFloat32); // (n, e)
                        const auto p32 = p.to(torch::kFloat32);
                        auto ds = (dp - (dp * p32).sum(-1, true)).mul_(p32).mul_(scale).to(dtype);
                        dqh.narrow(0, s, n).copy_(torch::mm(ds, kg.narrow(0, 0, e)));
                        dk32.narrow(0, 0, e).add_(torch::mm(ds.t(), qh.narrow(0, s, n)).to(torch::kFloat32));
                    }
                }
                dk[b][g].copy_(dk32);
                dv[b][g].copy_(dv32);
            }
        });
        return {dq, dk, dv};
    }
};

} // namespace

torch::Tensor head_parallel_causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v) {
    return HeadParallelAttentionFunction::apply(q, k, v);
}

} // namespace rilq
