#include "core/lora/lora_adapter.h"
#include "core/util/shape_text.h"

#include "core/lora/iec.h"
#include "core/model/row_parallel_mm.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>

namespace rilq {

namespace {

torch::Tensor trainable(const torch::Tensor& t) {
    auto leaf = t.to(torch::kFloat32).contiguous();
    leaf.set_requires_grad(true);
    return leaf;
}

} // namespace

LoraAdapter::LoraAdapter(std::string linear_name, int64_t in_features, int64_t out_features, const LoraConfig& config,
                         at::Generator init_gen, at::Generator dropout_gen)
    : name_(std::move(linear_name)), in_(in_features), out_(out_features), r_(config.r), scale_(config.scale()),
      dropout_(config.dropout), iec_(config.iec), dropout_gen_(std::move(dropout_gen)) {
    if (r_ <= 0) throw Error("LoRA adapter on " + name_ + ": rank must be positive, found " + std::to_string(r_));
    if (iec_) check_iec_shape(name_, in_, out_, r_);
    torch::NoGradGuard no_grad;
    torch::Tensor a;
    if (config.init == LoraInit::Gaussian) {
        // PEFT "gaussian": nn.init.normal_(A, std=1/r).
        a = torch::randn({r_, in_}, init_gen, torch::kFloat32) / static_cast<double>(r_);
    } else {
        // PEFT default: kaiming_uniform_(A, a=sqrt(5)) -> bound = sqrt(6 / ((1 + 5) * in)) = 1/sqrt(in).
        const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
        a = torch::empty({r_, in_}, torch::kFloat32).uniform_(-bound, bound, init_gen);
    }
    A_ = trainable(a);
    B_ = trainable(torch::zeros({out_, r_}, torch::kFloat32));
    if (iec_) {
        beta1_ = trainable(torch::zeros({}, torch::kFloat32));
        beta2_ = trainable(torch::zeros({}, torch::kFloat32));
    }
}

torch::Tensor LoraAdapter::delta(const torch::Tensor& x) {
    const auto dtype = x.scalar_type();
    torch::Tensor h = x;                                        // (B, T, in)
    if (training_ && dropout_ > 0.0) {
        // Inverted dropout with our own generator, so masks are reproducible and resumable.
        auto keep = torch::empty_like(x).bernoulli_(1.0 - dropout_, dropout_gen_).div_(1.0 - dropout_);
        h = x * keep;
    }
    // The scale goes onto the rank-r intermediate: r values per token instead of `out`.
    auto u = row_parallel_linear(h, A_.to(dtype));              // (B, T, r)
    if (iec_) u = u + beta1_.to(dtype) * iec_group_mean(x, r_); // no dropout on the IEC branch
    u = u * scale_;
    auto z = row_parallel_linear(u, B_.to(dtype));              // (B, T, out)
    if (!iec_) return z;
    // z + beta2 * R(u), written as IR-QLoRA does: view out as (r, g2) and add u_j to group j.
    auto sizes = z.sizes().vec();
    auto grouped = sizes;
    grouped.back() = r_;
    grouped.push_back(out_ / r_);
    return (z.view(grouped) + beta2_.to(dtype) * u.unsqueeze(-1)).view(sizes);
}

std::vector<torch::Tensor> LoraAdapter::trainable_tensors() const {
    std::vector<torch::Tensor> out;
    for (const auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

at::Generator LoraAdapter::random_source() const {
    return training_ && dropout_ > 0.0 ? dropout_gen_ : at::Generator();
}

std::vector<std::pair<std::string, torch::Tensor>> LoraAdapter::named_parameters() const {
    std::vector<std::pair<std::string, torch::Tensor>> p = {{"lora_A", A_}, {"lora_B", B_}};
    if (iec_) {
        p.emplace_back("iec_beta1", beta1_);
        p.emplace_back("iec_beta2", beta2_);
    }
    return p;
}

void LoraAdapter::set_parameter(const std::string& short_name, const torch::Tensor& value) {
    torch::Tensor* target = nullptr;
    if (short_name == "lora_A") target = &A_;
    else if (short_name == "lora_B") target = &B_;
    else if (short_name == "iec_beta1" && iec_) target = &beta1_;
    else if (short_name == "iec_beta2" && iec_) target = &beta2_;
    if (!target) throw Error("LoRA adapter on " + name_ + " has no parameter \"" + short_name + "\"");
    if (value.sizes() != target->sizes())
        throw Error("LoRA " + name_ + "." + short_name + ": shape " + shape_text(value.sizes()) + ", expected " +
                    shape_text(target->sizes()));
    torch::NoGradGuard no_grad;
    target->copy_(value.to(torch::kFloat32));
}

torch::Tensor LoraAdapter::merged_A() const {
    torch::NoGradGuard no_grad;
    if (!iec_) return A_.detach().clone();
    return A_.detach() + beta1_.detach() * iec_group_mean_matrix(r_, in_);
}

torch::Tensor LoraAdapter::merged_B() const {
    torch::NoGradGuard no_grad;
    if (!iec_) return B_.detach().clone();
    return B_.detach() + beta2_.detach() * iec_repeat_matrix(out_, r_);
}

torch::Tensor LoraAdapter::delta_weight() const {
    torch::NoGradGuard no_grad;
    return torch::mm(merged_B(), merged_A()) * scale_;          // (out, r) @ (r, in)
}

} // namespace rilq
