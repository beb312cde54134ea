// fp32 GEMMs for the CPU training step, split by output rows over the threads, each part one
// single-threaded BLAS call (OpenBLAS runs one thread inside a parallel region): one hand-off per
// GEMM. OpenBLAS's own threading of a GEMM exchanges packed panels between its threads many
// times per call; on two shared cores a busy partner turns each exchange into a scheduling delay
// (measured on the loaded VM: a 512 x 512 x 1376 product took 16 ms of CPU on 2 threads against
// 2 x 4.2 ms as two halves). Other dtypes (bf16: oneDNN) and devices keep torch's own GEMM.
#pragma once
#include "core/util/tensor.h"

namespace rilq {

// a (M, K) . b (K, N) -> (M, N).
torch::Tensor row_parallel_mm(const torch::Tensor& a, const torch::Tensor& b);

// y = x W^T for x (..., in), W (out, in), differentiable w.r.t. x and (when it requires grad) W;
// every GEMM forward and backward by row_parallel_mm. torch::linear for non-fp32 or non-CPU.
torch::Tensor row_parallel_linear(const torch::Tensor& x, const torch::Tensor& w);

} // namespace rilq
