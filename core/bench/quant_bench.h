// `rilq bench quantize`: every registered quantizer on one Llama-2-7B MLP-shaped matrix (4096 x
// 11008 fp32, N(0, 0.02)), timed with a fixed thread count; each at its defaults, int-grid methods
// at 2 bits (RILQ's W2) and NormalFloat-block methods at 4 (NF4, as QLoRA and IR-QLoRA ship it).
// Goals from the quantization issue: RTN under 0.5 s and ICQ-NF with the official 201
// candidates under 10 s on 2 cores. GPTQ gets GPTQ's default calibration, 128 windows of 2048
// tokens of N(0, 1) features, streamed into its Hessian one window at a time (the inputs at once
// would take 128 x 2048 x 11008 x 4 bytes = 11.5 GB); the Hessian and the quantization are timed
// apart, the first growing linearly with the tokens.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace rilq {

struct QuantBenchOptions {
    int64_t rows = 4096;
    int64_t cols = 11008;
    int threads = 2;
    int repeats = 1; // best of N
    // Registered method names and "metrics"; empty = every method, then the metrics.
    std::vector<std::string> cases;
    // quant.* settings applied to every case that reads them, as JSON text: ("icq_tau_n", "50").
    std::vector<std::pair<std::string, std::string>> settings;
    int64_t calib_windows = 128; // calibration of the methods that read inputs (GPTQ)
    int64_t calib_seqlen = 2048; // tokens per calibration window
    uint64_t seed = 0;
};

struct QuantBenchEntry {
    std::string name;          // "rtn w2 g64 omniquant"
    double seconds = 0.0;      // wall, best of repeats
    double cpu_seconds = 0.0;  // process CPU time (all threads), best of repeats
    double goal_seconds = 0.0; // 0 when there is no goal
    double rel_error = 0.0;    // ||W - Q(W)|| / ||W|| of the result (sanity)
    double mweights_per_s = 0.0;
};

struct QuantBenchResult {
    int threads = 0;
    int64_t rows = 0, cols = 0;
    std::vector<QuantBenchEntry> entries;
};

// Runs the benchmark (sets torch's thread count to options.threads) and prints a table to `out`.
QuantBenchResult run_quant_bench(const QuantBenchOptions& options, std::ostream& out);

} // namespace rilq
