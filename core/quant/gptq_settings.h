// GPTQ's own knobs (IST-DASLab llama.py arguments and fasterquant defaults, GPTQModel's damping
// retry; the algorithm is core/quant/gptq.h). Torch-free so the quantization spec can hold it.
// Bits, group size and the symmetric grid are the spec's bits, group_size and variant.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace rilq {

struct GptqSettings {
    double damp_percent = 0.01;     // --percdamp: damping = damp_percent * mean(diag H)
    double damp_increment = 0.0025; // GPTQModel damp_auto_increment: added after a failed Cholesky
    int64_t block_size = 128;       // fasterquant blocksize: columns updated lazily together
    bool act_order = false;         // --act-order: columns by decreasing H_ii
    bool static_groups = false;     // --static-groups: group grids fit once on the original weights
    bool mse = false;               // Quantizer mse=True: per-row clip search instead of plain min/max
    double mse_norm = 2.4;          // error |Q(x) - x|^norm of the clip search
    int mse_grid = 100;             // shrink steps p = 1 - k / grid ...
    double mse_max_shrink = 0.8;    // ... for k < max_shrink * grid

    // Throws rilq::Error naming the field under `path` ("$.quant.gptq.damp_percent").
    void validate(const std::string& path) const;
};

// JSON object of every field; reading keeps defaults for missing keys and names unknown keys.
nlohmann::json gptq_settings_json(const GptqSettings& settings);
GptqSettings gptq_settings_from_json(const nlohmann::json& j, const std::string& path);

} // namespace rilq
