#include "core/util/runtime.h"

#include <unistd.h>

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace rilq {

int configure_threads(int threads) {
    if (threads <= 0) {
        const char* env = std::getenv("RILQ_THREADS");
        if (env && *env) threads = std::atoi(env);
    }
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    return threads;
}

BlasInfo detect_blas() {
    // A small fp32 matmul makes sure the BLAS is actually mapped.
    auto a = torch::ones({64, 64});
    (void)torch::mm(a, a).sum().item<float>();

    BlasInfo info;
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        auto pos = line.find('/');
        if (pos == std::string::npos) continue;
        std::string path = line.substr(pos);
        auto file = std::filesystem::path(path).filename().string();
        if (file.rfind("libblas.so", 0) == 0 || file.rfind("libopenblas", 0) == 0) {
            std::error_code ec;
            auto resolved = std::filesystem::canonical(path, ec);
            info.library_path = ec ? path : resolved.string();
            if (file.rfind("libopenblas", 0) == 0) break; // the real implementation wins
        }
    }
    const std::string& p = info.library_path;
    if (p.empty()) {
        info.name = "unknown";
    } else if (p.find("openblas-openmp") != std::string::npos) {
        info.name = "openblas-openmp";
    } else if (p.find("openblas-pthread") != std::string::npos) {
        info.name = "openblas-pthread";
    } else if (p.find("openblas") != std::string::npos) {
        info.name = "openblas";
    } else if (p.find("/blas/") != std::string::npos) {
        info.name = "reference";
        info.is_reference = true;
    } else {
        info.name = "other";
    }
    return info;
}

std::string blas_warning(const BlasInfo& info) {
    if (info.is_reference)
        return "warning: the reference BLAS (" + info.library_path +
               ") is active: fp32 matmul will be ~17x slower. Install libopenblas0-openmp (scripts/setup.sh does).";
    if (info.name == "openblas-pthread")
        return "warning: pthread OpenBLAS is active; it ignores torch's thread setting. Prefer libopenblas0-openmp.";
    return {};
}

void use_passive_openmp_wait(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    ::execv("/proc/self/exe", argv); // returns only on failure: go on with the spinning default
}

} // namespace rilq
