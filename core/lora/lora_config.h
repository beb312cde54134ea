// How LoRA adapters are shaped and initialised (PEFT's LoraConfig, the fields RILQ sets).
//   y = x Q(W)^T + s * B A dropout(x),   s = lora_alpha / r,   A (r, in), B (out, r).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/model/projections.h"
#include "core/util/config_fields_fwd.h"

namespace rilq {

// How the adapters start. The random inits draw A and set B = 0, so training starts at the
// quantized model; the closed forms (core/rilq/adapter_init.h) set both factors from the FP
// weights, and LoftQ also replaces the quantized base.
enum class LoraInit {
    Gaussian,  // RILQ (PEFT init_lora_weights="gaussian"): A ~ N(0, (1/r)^2)
    Kaiming,   // PEFT default: kaiming_uniform(a=sqrt(5)), i.e. A ~ U(-1/sqrt(in), 1/sqrt(in))
    Loftq,     // LoftQ (core/lora/init/loftq.h): loftq_iter rounds of quantize + SVD; base = last Q
    QeraExact, // QERA-exact (core/lora/init/qera.h): min ||X (W - Q - s B A)^T|| on the calibration Gram
    QeraDiag,  // QERA-approx / LQER: the same with only the Gram's diagonal
};
// ("gaussian", "kaiming", "loftq", "qera-exact", "qera-diag"): the experiment's lora_init values.
const std::vector<std::pair<LoraInit, std::string>>& lora_init_names();
std::string to_string(LoraInit init);
// The init computes both factors from the FP weights (loftq, qera-*), not a random A with B = 0.
bool is_closed_form(LoraInit init);
// The init reads each linear's calibration inputs (qera-*: the Gram E[x x^T]).
bool needs_input_gram(LoraInit init);

struct LoraConfig {
    int64_t r = 64;       // rank; 0 = no adapters at all
    double alpha = 16.0;  // lora_alpha; the scale is alpha / r
    double dropout = 0.0; // lora_dropout on the adapter input (training mode only)
    LoraInit init = LoraInit::Gaussian;
    int64_t loftq_iter = 1; // LoftQ's rounds T (PEFT LoftQConfig.loftq_iter); other inits ignore it
    bool iec = false;       // IR-QLoRA's elastic connection (core/lora/iec.h)
    // Projection short names ("q_proj" ... "down_proj"), as PEFT's target_modules.
    std::vector<std::string> targets = projection_names();
    uint64_t seed = 42; // A's initialisation and the dropout masks

    double scale() const { return r > 0 ? alpha / static_cast<double>(r) : 0.0; }
    // Every problem, each with its experiment key under `path` ("lora_r", "$.rilq.lora_targets[2]").
    std::vector<config::Problem> problems(const std::string& path = "") const;
    // Throws rilq::Error listing problems().
    void validate() const;
};

// The experiment's keys for these members, the official RILQ argument names (lora_r, lora_alpha,
// lora_dropout), PEFT's LoftQ one (loftq_iter) and the workbench's (lora_init, lora_targets, iec, seed).
const std::vector<config::Field<LoraConfig>>& lora_config_fields();

// "layers.3.self_attn.q_proj" -> "q_proj"
std::string projection_short_name(const std::string& linear_name);

} // namespace rilq
