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

// OpenMP threads that spin while they wait for work (libgomp's default) stall every parallel
// region when another process holds a core: measured on 2 cores with a build running, eval
// dropped from 14,500 to 1,600 tokens/s. libgomp reads OMP_WAIT_POLICY when it is loaded,
// before main(), so when the variable is unset this sets it to PASSIVE and re-executes the
// program (same arguments); it returns when the environment is already set (or exec fails).
void use_passive_openmp_wait(char** argv);

// Sets torch's intra-op threads. 0 means: RILQ_THREADS env var if set, else all cores.
// Must run before the first tensor op (worker threads inherit it).
int configure_threads(int threads = 0);

// Inspects /proc/self/maps after forcing one GEMM so the BLAS is loaded.
BlasInfo detect_blas();

// One line to print at start-up when the reference BLAS is active; empty when all is well.
std::string blas_warning(const BlasInfo& info);

} // namespace rilq
