// One LoRA adapter on one linear of the student (PEFT LoraLayer semantics):
//   delta(x) = s * B A dropout(x),   s = alpha / r,   A (r, in), B (out, r)
// plus, with IEC on, the two elastic-connection scalars of core/lora/iec.h.
// A, B (and beta1, beta2) are fp32 leaf tensors that require grad: they are the only trainable
// state. The base weight lives in the model's Linear and never requires grad.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include "core/util/tensor.h"

#include "core/lora/lora_config.h"
#include "core/model/llama_model.h"

namespace rilq {

class LoraAdapter final : public LinearAdapter {
public:
    // Fresh adapter: A from config.init drawn with `init_gen`, B = 0, betas = 0.
    // `dropout_gen` draws the dropout masks (shared by all adapters of a LoraSet).
    LoraAdapter(std::string linear_name, int64_t in_features, int64_t out_features, const LoraConfig& config,
                at::Generator init_gen, at::Generator dropout_gen);

    // delta for the input x (B, T, in) -> (B, T, out), in x's dtype.
    torch::Tensor delta(const torch::Tensor& x) override;
    std::vector<torch::Tensor> trainable_tensors() const override; // A, B (, beta1, beta2)
    at::Generator random_source() const override;                   // the dropout generator while it draws

    const std::string& linear_name() const { return name_; }
    int64_t rank() const { return r_; }
    int64_t in_features() const { return in_; }
    int64_t out_features() const { return out_; }
    double scale() const { return scale_; }
    bool iec() const { return iec_; }
    void set_training(bool training) { training_ = training; }
    bool training() const { return training_; }

    // The trainable tensors by their short names: lora_A, lora_B (, iec_beta1, iec_beta2).
    std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
    const torch::Tensor& A() const { return A_; }   // (r, in)
    const torch::Tensor& B() const { return B_; }   // (out, r)
    const torch::Tensor& beta1() const { return beta1_; }  // () or undefined without IEC
    const torch::Tensor& beta2() const { return beta2_; }

    // Overwrites one trainable tensor in place (no grad); Error on an unknown name or shape.
    void set_parameter(const std::string& short_name, const torch::Tensor& value);

    // IEC folded in (METHODS 2.2): A' = A + beta1 G, B' = B + beta2 Rm; plain A, B without IEC.
    // With dropout 0 (always at inference) delta(x) == s * x A'^T B'^T exactly.
    torch::Tensor merged_A() const;   // (r, in) fp32, detached
    torch::Tensor merged_B() const;   // (out, r) fp32, detached
    // What a merge adds to the base weight: s * B' A'  (out, in) fp32, detached.
    torch::Tensor delta_weight() const;

private:
    std::string name_;
    int64_t in_ = 0, out_ = 0, r_ = 0;
    double scale_ = 0.0;
    double dropout_ = 0.0;
    bool iec_ = false;
    bool training_ = false;
    at::Generator dropout_gen_;
    torch::Tensor A_;       // (r, in)
    torch::Tensor B_;       // (out, r)
    torch::Tensor beta1_;   // () IEC group-mean gate into u
    torch::Tensor beta2_;   // () IEC repeat gate into z
};

} // namespace rilq
