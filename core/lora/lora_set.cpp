#include "core/lora/lora_set.h"
#include "core/util/shape_text.h"

#include "core/lora/iec.h"
#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

namespace {

} // namespace

bool LoraSet::contains(const std::string& linear_name) const { return index_.count(linear_name) > 0; }

LoraAdapter& LoraSet::adapter(const std::string& linear_name) const {
    auto it = index_.find(linear_name);
    if (it == index_.end()) throw Error("no LoRA adapter on \"" + linear_name + "\"");
    return *adapters_[it->second];
}

std::vector<torch::Tensor> LoraSet::parameters() const {
    std::vector<torch::Tensor> p;
    for (const auto& a : adapters_)
        for (const auto& [name, t] : a->named_parameters()) {
            (void)name;
            p.push_back(t);
        }
    return p;
}

std::vector<std::pair<std::string, torch::Tensor>> LoraSet::named_parameters() const {
    std::vector<std::pair<std::string, torch::Tensor>> p;
    for (const auto& a : adapters_)
        for (const auto& [name, t] : a->named_parameters()) p.emplace_back(a->linear_name() + "." + name, t);
    return p;
}

int64_t LoraSet::parameter_count() const {
    int64_t n = 0;
    for (const auto& t : parameters()) n += t.numel();
    return n;
}

void LoraSet::set_training(bool training) {
    for (const auto& a : adapters_) a->set_training(training);
}

AdapterState LoraSet::snapshot() const {
    AdapterState s;
    for (const auto& [name, t] : named_parameters()) s[name] = t.detach().clone();
    return s;
}

void LoraSet::restore(const AdapterState& state) {
    const auto params = named_parameters();
    for (const auto& [name, t] : params) {
        auto it = state.find(name);
        if (it == state.end()) throw Error("adapter snapshot lacks \"" + name + "\"");
        if (it->second.sizes() != t.sizes())
            throw Error("adapter snapshot \"" + name + "\" has shape " + shape_text(it->second.sizes()) +
                        ", expected " + shape_text(t.sizes()));
    }
    if (state.size() != params.size()) {
        for (const auto& [name, t] : state) {
            (void)t;
            const bool known = std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == name; });
            if (!known) throw Error("adapter snapshot has an unknown tensor \"" + name + "\"");
        }
    }
    torch::NoGradGuard no_grad;
    for (const auto& [name, t] : params) t.copy_(state.at(name));
}

torch::Tensor LoraSet::dropout_rng_state() const {
    if (!dropout_gen_.defined()) return {};
    return dropout_gen_.get_state();
}

void LoraSet::set_dropout_rng_state(const torch::Tensor& state) {
    if (dropout_gen_.defined() && state.defined()) dropout_gen_.set_state(state);
}

// ----------------------------------------------------------------------------

LoraSet attach_lora(LlamaModel& model, const LoraConfig& config) {
    config.validate();
    LoraSet set;
    set.config_ = config;
    if (config.r == 0) return set;
    if (model.options().device != "cpu")
        throw Error("LoRA adapters need a CPU model in this build (model device \"" + model.options().device + "\")");
    // Two streams from one seed: A's initialisation, then the dropout masks.
    auto init_gen = at::detail::createCPUGenerator(config.seed);
    set.dropout_gen_ = at::detail::createCPUGenerator(config.seed + 1);
    for (const auto& name : model.linear_names()) {
        const auto proj = projection_short_name(name);
        if (std::find(config.targets.begin(), config.targets.end(), proj) == config.targets.end()) continue;
        Linear& linear = model.linear(name);
        if (linear.adapter) throw Error("linear " + name + " already has an adapter (detach it first)");
        auto adapter = std::make_shared<LoraAdapter>(name, linear.in_features(), linear.out_features(),
                                                     config, init_gen, set.dropout_gen_);
        linear.adapter = adapter;
        set.index_[name] = set.adapters_.size();
        set.adapters_.push_back(std::move(adapter));
    }
    return set;
}

void detach_lora(LlamaModel& model, LoraSet& set) {
    if (set.merged_) unmerge_lora(model, set);
    for (const auto& a : set.adapters_) {
        Linear& linear = model.linear(a->linear_name());
        if (linear.adapter == a) linear.adapter.reset();
    }
}

LoraSet add_iec_gates(LlamaModel& model, LoraSet set) {
    if (set.empty() || set.config().iec) return set;
    if (set.merged()) throw Error("add_iec_gates: the adapters are merged into the weights");
    LoraConfig config = set.config();
    config.iec = true;
    for (const auto& a : set.adapters())
        check_iec_shape(a->linear_name(), a->in_features(), a->out_features(), a->rank());
    detach_lora(model, set);
    LoraSet gated = attach_lora(model, config);
    for (const auto& a : set.adapters()) {
        LoraAdapter& target = gated.adapter(a->linear_name());
        target.set_parameter("lora_A", a->merged_A());
        target.set_parameter("lora_B", a->merged_B());
    }
    return gated;
}

void merge_lora(LlamaModel& model, LoraSet& set) {
    if (set.merged_) throw Error("LoRA adapters are already merged");
    torch::NoGradGuard no_grad;
    for (const auto& a : set.adapters_) {
        Linear& linear = model.linear(a->linear_name());
        if (linear.adapter != a) throw Error("LoRA adapter on " + a->linear_name() + " is not attached to this model");
        // A packed linear becomes dense: the merged weight is no longer on its quantization grid.
        linear.weight =
            (linear.dense_weight().to(torch::kFloat32) + a->delta_weight()).to(model.options().compute_dtype);
        linear.packed.reset();
        linear.adapter.reset();
    }
    set.merged_ = true;
}

void unmerge_lora(LlamaModel& model, LoraSet& set) {
    if (!set.merged_) throw Error("LoRA adapters are not merged");
    torch::NoGradGuard no_grad;
    for (const auto& a : set.adapters_) {
        Linear& linear = model.linear(a->linear_name());
        linear.weight = (linear.weight.to(torch::kFloat32) - a->delta_weight()).to(linear.weight.scalar_type());
        linear.adapter = a;
    }
    set.merged_ = false;
}

} // namespace rilq
