// A linear whose weight is not kept as a dense tensor: it is rebuilt on the fly from a compact
// form (bit-packed quantization codes, core/quant/packed_quant_weight.h) into one reusable fp32
// scratch buffer per thread, for the forward and again for the backward w.r.t. the input. The
// weight never requires a gradient, so the autograd graph holds no copy of it: only the compact
// form, shared by pointer. LoRA adapters keep their own path (Linear::forward adds their delta).
//
// The dequantization runs in blocks of rows (in parallel) into the scratch; the product is one
// GEMM over the whole scratch, exactly the call the dense path makes (torch::linear forward,
// grad.mm(W) backward), so packed == dense bit for bit. Row-blocked GEMMs would need less
// scratch but OpenBLAS tiles them differently and the last bit differs (measured).
#pragma once
#include <cstdint>
#include <memory>

#include "core/util/tensor.h"

namespace rilq {

class PackedLinearWeight {
  public:
    virtual ~PackedLinearWeight() = default;
    virtual int64_t rows() const = 0; // out_features
    virtual int64_t cols() const = 0; // in_features
    // Writes rows [r0, r1) of the dequantized fp32 weight to out ((r1 - r0) x cols, row-major).
    virtual void dequantize_rows(int64_t r0, int64_t r1, float* out) const = 0;
    // Bytes this representation holds (codes plus parameters).
    virtual int64_t stored_bytes() const = 0;
};

// The whole weight as a new (rows, cols) f32 tensor (checks, merges, SVD initialisations).
torch::Tensor dequantize_packed(const PackedLinearWeight& weight);

// y = x W^T for x (..., cols) f32 or another floating dtype (the weight is rounded after the
// fp32 dequantization, as the dense path's deq.to(dtype); bf16 straight into a bf16 scratch);
// differentiable w.r.t. x only.
torch::Tensor packed_linear(const torch::Tensor& x, const std::shared_ptr<const PackedLinearWeight>& weight);

// Bytes of the calling thread's dequantization scratches (f32 and bf16; each grows to the largest
// linear used in its dtype).
int64_t packed_scratch_bytes();

} // namespace rilq
