// The LoRA adapters attached to one model, and what is done with them as a whole:
// attach / detach, merge into the weights and back, the trainable parameter list, and
// snapshots (the trainer keeps the best adapters as a snapshot and restores it at the end).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include "core/util/tensor.h"

#include "core/lora/lora_adapter.h"
#include "core/lora/lora_config.h"

namespace rilq {

class LlamaModel;

// Adapter tensors by full name: "layers.0.self_attn.q_proj.lora_A", ... (cloned, detached).
using AdapterState = std::map<std::string, torch::Tensor>;

class LoraSet {
public:
    LoraSet() = default;   // no adapters (rank 0)

    const LoraConfig& config() const { return config_; }
    bool empty() const { return adapters_.empty(); }
    size_t size() const { return adapters_.size(); }
    // In the model's linear_names() order.
    const std::vector<std::shared_ptr<LoraAdapter>>& adapters() const { return adapters_; }
    bool contains(const std::string& linear_name) const;
    LoraAdapter& adapter(const std::string& linear_name) const;   // Error when absent

    // The trainable leaves, in a fixed order (adapter order, then A, B, beta1, beta2): the
    // optimizer's parameter list and its checkpoints rely on this order.
    std::vector<torch::Tensor> parameters() const;
    std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;   // full names
    int64_t parameter_count() const;

    // Dropout is active only in training mode (like nn.Module.train()/eval()).
    void set_training(bool training);

    AdapterState snapshot() const;
    // Copies a snapshot back in place; Error naming a missing, unknown or mis-shaped tensor.
    void restore(const AdapterState& state);

    // The dropout mask generator's state (a byte tensor), for bit-identical resumes.
    torch::Tensor dropout_rng_state() const;
    void set_dropout_rng_state(const torch::Tensor& state);

    bool merged() const { return merged_; }

private:
    friend LoraSet attach_lora(LlamaModel& model, const LoraConfig& config);
    friend void detach_lora(LlamaModel& model, LoraSet& set);
    friend void merge_lora(LlamaModel& model, LoraSet& set);
    friend void unmerge_lora(LlamaModel& model, LoraSet& set);

    LoraConfig config_;
    std::vector<std::shared_ptr<LoraAdapter>> adapters_;
    std::map<std::string, size_t> index_;   // linear name -> position in adapters_
    at::Generator dropout_gen_;
    bool merged_ = false;
};

// Puts a fresh adapter (A from config.init, B = 0) on every linear whose projection is in
// config.targets, drawn in linear order from config.seed. r = 0 attaches nothing. Error when a
// target linear already has an adapter or the model is not on the CPU.
LoraSet attach_lora(LlamaModel& model, const LoraConfig& config);
// Removes the set's adapters from the model (unmerges first when merged); the set stays usable.
void detach_lora(LlamaModel& model, LoraSet& set);
// The same adapters with IEC gates added at 0 (core/lora/iec.h): `set` is detached and IEC
// adapters with A, B = its (merged) A', B' take its place, so the model computes exactly what it
// did and the gates train from there (IR-QLoRA fine-tuning on top of RILQ's compensation).
// Error naming the linear when r does not divide its dimensions; a set with IEC is returned as is.
LoraSet add_iec_gates(LlamaModel& model, LoraSet set);
// W <- W + s B' A' (in the weight's dtype) and the adapters leave the forward pass. The weight
// tensor is replaced, never written in place, so a model sharing weights with this one is safe.
void merge_lora(LlamaModel& model, LoraSet& set);
// W <- W - s B' A' and the adapters return to the forward pass. Exact up to rounding of the
// weight dtype (fp32: ~1e-7 relative; bf16 weights do not come back bit-exact).
void unmerge_lora(LlamaModel& model, LoraSet& set);

} // namespace rilq
