// Process-wide compute setup: torch's thread count and which BLAS is really loaded.
// Debian's LibTorch does fp32 GEMM through libblas.so.3; the reference BLAS there is
// ~17x slower than OpenBLAS, so front ends call check_blas() at start-up and warn.
#pragma once
#include <string>

namespace rilq {

struct BlasInfo {
    std::string library_path;  // resolved path of the libblas.so.3 mapped into this process
    std::string name;          // "openblas-openmp", "openblas-pthread", "reference", "unknown"
    bool is_reference = false; // true: expect ~6 GFLOP/s fp32
};

// Sets torch's intra-op threads. 0 means: RILQ_THREADS env var if set, else all cores.
// Must run before the first tensor op (worker threads inherit it).
int configure_threads(int threads = 0);

// Inspects /proc/self/maps after forcing one GEMM so the BLAS is loaded.
BlasInfo detect_blas();

// One line to print at start-up when the reference BLAS is active; empty when all is well.
std::string blas_warning(const BlasInfo& info);

} // namespace rilq
