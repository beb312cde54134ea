#include "core/model/packed_linear.h"
#include "core/model/row_parallel_mm.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace rilq {

namespace {

// Each thread's dequantization target, grown to the largest linear it has served. The autograd
// graph never references it: the forward and the backward each refill it and use it at once.
thread_local torch::Tensor t_packed_scratch;

void packed_dequantize_to(const PackedLinearWeight& w, float* out) {
    const int64_t cols = w.cols();
    // Blocks of rows of about 16k weights: a task large enough to amortise its dispatch, small
    // enough that the codes and parameters of a block stay in cache.
    const int64_t block_rows = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
    at::parallel_for(0, w.rows(), block_rows, [&](int64_t r0, int64_t r1) {
        for (int64_t b0 = r0; b0 < r1; b0 += block_rows) {
            const int64_t b1 = std::min(r1, b0 + block_rows);
            w.dequantize_rows(b0, b1, out + b0 * cols);
        }
    });
}

// bf16 compute: each row block is dequantized in fp32 into a small per-thread buffer and rounded
// into the bf16 scratch (the copy kernel's round-to-nearest-even, as the dense path's
// deq.to(kBFloat16)), so no fp32 copy of the whole weight is ever made.
thread_local torch::Tensor t_packed_scratch_bf16;

void packed_dequantize_to_bf16(const PackedLinearWeight& w, const torch::Tensor& out) {
    const int64_t cols = w.cols();
    const int64_t block_rows = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
    at::parallel_for(0, w.rows(), block_rows, [&](int64_t r0, int64_t r1) {
        thread_local std::vector<float> block;
        block.resize(static_cast<size_t>(block_rows * cols));
        for (int64_t b0 = r0; b0 < r1; b0 += block_rows) {
            const int64_t b1 = std::min(r1, b0 + block_rows), n = (b1 - b0) * cols;
            w.dequantize_rows(b0, b1, block.data());
            out.narrow(0, b0 * cols, n).copy_(torch::from_blob(block.data(), {n}, torch::kFloat32));
        }
    });
}

// The weight in the scratch as a (rows, cols) view in x's dtype: f32, or bf16 on the CPU (the
// rounding of the dense path's deq.to(kBFloat16)); other dtypes and devices get a converted copy.
torch::Tensor packed_weight_like(const PackedLinearWeight& w, const torch::Tensor& like) {
    const int64_t n = w.rows() * w.cols();
    if (like.scalar_type() == torch::kBFloat16 && like.device().is_cpu()) {
        if (!t_packed_scratch_bf16.defined() || t_packed_scratch_bf16.numel() < n)
            t_packed_scratch_bf16 = torch::empty({n}, torch::kBFloat16);
        auto weight = t_packed_scratch_bf16.narrow(0, 0, n);
        packed_dequantize_to_bf16(w, weight);
        return weight.view({w.rows(), w.cols()});
    }
    if (!t_packed_scratch.defined() || t_packed_scratch.numel() < n)
        t_packed_scratch = torch::empty({n}, torch::kFloat32);
    packed_dequantize_to(w, t_packed_scratch.data_ptr<float>());
    auto weight = t_packed_scratch.narrow(0, 0, n).view({w.rows(), w.cols()});
    if (like.scalar_type() != torch::kFloat32 || !like.device().is_cpu())
        weight = weight.to(like.device(), like.scalar_type());
    return weight;
}

// Keeps the packed weight alive in the autograd graph (IValue capsules hold CustomClassHolders).
struct PackedWeightHolder : torch::CustomClassHolder {
    explicit PackedWeightHolder(std::shared_ptr<const PackedLinearWeight> w) : weight(std::move(w)) {}
    std::shared_ptr<const PackedLinearWeight> weight;
};

class PackedLinearFunction : public torch::autograd::Function<PackedLinearFunction> {
  public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const std::shared_ptr<const PackedLinearWeight>& weight) {
        ctx->saved_data["packed"] =
            c10::IValue::make_capsule(c10::make_intrusive<PackedWeightHolder>(weight));
        // The dense path's GEMM (Linear::forward's row_parallel_linear): x.reshape(-1, in) . W^T.
        return row_parallel_linear(x, packed_weight_like(*weight, x));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto capsule = ctx->saved_data["packed"].toCapsule(); // keeps the holder alive here
        const PackedLinearWeight& w = *static_cast<const PackedWeightHolder*>(capsule.get())->weight;
        const torch::Tensor& grad = grads[0]; // (..., out)
        // mm's backward w.r.t. its first operand: grad (N, out) . W (out, in).
        auto grad_x = row_parallel_mm(grad.reshape({-1, w.rows()}), packed_weight_like(w, grad));
        auto sizes = grad.sizes().vec();
        sizes.back() = w.cols();
        return {grad_x.view(sizes), torch::Tensor()};
    }
};

} // namespace

torch::Tensor dequantize_packed(const PackedLinearWeight& weight) {
    auto out = torch::empty({weight.rows(), weight.cols()}, torch::kFloat32);
    packed_dequantize_to(weight, out.data_ptr<float>());
    return out;
}

torch::Tensor packed_linear(const torch::Tensor& x, const std::shared_ptr<const PackedLinearWeight>& weight) {
    return PackedLinearFunction::apply(x, weight);
}

int64_t packed_scratch_bytes() {
    int64_t bytes = 0;
    for (const auto* t : {&t_packed_scratch, &t_packed_scratch_bf16})
        if (t->defined()) bytes += t->numel() * static_cast<int64_t>(t->element_size());
    return bytes;
}

} // namespace rilq
