#include "core/quant/quantizer.h"

#include "core/util/error.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <atomic>
#include <cmath>
#include <sstream>

namespace rilq {

// ----------------------------------------------------------------------------
// GroupLayout

GroupLayout GroupLayout::row_groups(int64_t rows, int64_t cols, int64_t group_size) {
    GroupLayout l;
    l.kind = GroupKind::RowGroups;
    l.rows = rows;
    l.cols = cols;
    l.group_size = group_size <= 0 ? cols : group_size;
    return l;
}

GroupLayout GroupLayout::flat_blocks(int64_t rows, int64_t cols, int64_t block_size) {
    GroupLayout l;
    l.kind = GroupKind::FlatBlocks;
    l.rows = rows;
    l.cols = cols;
    l.group_size = block_size;
    return l;
}

int64_t GroupLayout::groups_per_row() const {
    return group_size > 0 ? (cols + group_size - 1) / group_size : 0;
}

int64_t GroupLayout::num_groups() const {
    if (group_size <= 0) return 0;
    if (kind == GroupKind::RowGroups) return rows * groups_per_row();
    return (numel() + group_size - 1) / group_size;
}

int64_t GroupLayout::last_group_size() const {
    if (group_size <= 0) return 0;
    const int64_t n = kind == GroupKind::RowGroups ? cols : numel();
    const int64_t rem = n % group_size;
    return rem == 0 ? group_size : rem;
}

int64_t GroupLayout::partial_groups() const {
    if (!has_partial_group()) return 0;
    return kind == GroupKind::RowGroups ? rows : 1;
}

int64_t GroupLayout::group_length(int64_t g) const {
    if (kind == GroupKind::RowGroups) {
        const int64_t gpr = groups_per_row();
        return (g % gpr == gpr - 1) ? last_group_size() : group_size;
    }
    return g == num_groups() - 1 ? last_group_size() : group_size;
}

torch::Tensor GroupLayout::to_padded(const torch::Tensor& t, double pad) const {
    const int64_t G = group_size, NG = num_groups();
    if (kind == GroupKind::RowGroups) {
        auto x = t.reshape({rows, cols}); // (O, I)
        const int64_t padded_cols = groups_per_row() * G;
        if (padded_cols != cols) x = torch::constant_pad_nd(x, {0, padded_cols - cols}, pad);
        return x.reshape({NG, G}); // (O*G, group)
    }
    auto x = t.reshape({-1}); // (O*I)
    const int64_t padded = NG * G;
    if (padded != x.numel()) x = torch::constant_pad_nd(x, {0, padded - x.numel()}, pad);
    return x.reshape({NG, G}); // (NB, block)
}

torch::Tensor GroupLayout::lengths() const {
    auto out = torch::full({num_groups()}, group_size, torch::kInt64);
    if (!has_partial_group()) return out;
    if (kind == GroupKind::RowGroups)
        out.view({rows, groups_per_row()}).select(1, groups_per_row() - 1).fill_(last_group_size());
    else
        out[num_groups() - 1] = last_group_size();
    return out;
}

// ----------------------------------------------------------------------------
// entry points

double MethodStats::metric(const std::string& name, double fallback) const {
    for (const auto& [metric_name, value] : metrics)
        if (metric_name == name) return value;
    return fallback;
}

MethodStats QuantRecord::stats(const QuantResult&, const torch::Tensor&, const torch::Tensor&,
                               const MetricsOptions&) const {
    return {};
}

void QuantRecord::add_code_tensors(const QuantResult& result, const QuantSpec&, const std::string& prefix,
                                   std::vector<std::pair<std::string, torch::Tensor>>& out) const {
    if (result.absmax.defined()) out.emplace_back(prefix + "absmax", result.absmax);
}

void throw_missing_record(const std::string& what) {
    throw Error("the quantization result has no " + what + " record (another method made it)");
}

std::unique_ptr<Quantizer> make_quantizer(const QuantSpec& spec) {
    spec.validate();
    QuantSpec resolved = spec;
    resolved.variant = spec.resolved_variant();
    return quant_method(spec.method).make(resolved);
}

void check_finite(const torch::Tensor& weight, const std::string& name) {
    // A pass without temporaries on the fp32 copy the quantizers get (allocating bool masks of a
    // 45M-weight matrix costs more than quantizing it); the error path may be slow.
    if (weight.scalar_type() == torch::kFloat32 && weight.is_contiguous() && weight.device().is_cpu()) {
        const auto* bits = static_cast<const uint32_t*>(weight.data_ptr());
        std::atomic<bool> bad_seen{false};
        at::parallel_for(0, weight.numel(), 1 << 16, [&](int64_t i0, int64_t i1) {
            uint32_t any = 0; // an all-ones exponent is inf or nan; an integer OR vectorises
            for (int64_t i = i0; i < i1; ++i)
                any |= static_cast<uint32_t>((bits[i] & 0x7f800000u) == 0x7f800000u);
            if (any) bad_seen = true;
        });
        if (!bad_seen) return;
    }
    auto bad = torch::logical_not(torch::isfinite(weight));
    const int64_t count = bad.sum().item<int64_t>();
    if (count == 0) return;
    auto first = torch::nonzero(bad.reshape({-1}))[0][0].item<int64_t>();
    std::ostringstream msg;
    msg << name << ": cannot quantize, " << count << " non-finite value" << (count > 1 ? "s" : "")
        << ", first ";
    const double v = weight.reshape({-1})[first].item<double>();
    msg << (std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf")) << " at [";
    if (weight.dim() == 2)
        msg << first / weight.size(1) << ", " << first % weight.size(1);
    else
        msg << first;
    msg << "]";
    throw Error(msg.str());
}

QuantResult quantize_weight(const torch::Tensor& weight, const QuantSpec& spec, const std::string& name,
                            const torch::Tensor& inputs) {
    const auto quantizer = make_quantizer(spec);
    if (!weight.defined() || weight.dim() != 2)
        throw Error(
            name + ": cannot quantize, expected a 2-D (out, in) weight, found " +
            (weight.defined() ? std::to_string(weight.dim()) + "-D" : std::string("an undefined tensor")));
    if (!weight.is_floating_point())
        throw Error(name + ": cannot quantize, expected a floating-point weight, found " +
                    std::string(weight.dtype().name()));
    if (weight.numel() == 0) throw Error(name + ": cannot quantize an empty weight");
    if (quant_method(spec.method).needs_calibration && !inputs.defined())
        throw Error(name + ": method \"" + spec.method + "\" needs the linear's calibration inputs");
    auto w = weight.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    check_finite(w, name);
    QuantContext context;
    context.name = name;
    if (inputs.defined()) context.inputs = inputs.detach().to(torch::kCPU, torch::kFloat32);
    return quantizer->quantize(w, context);
}

} // namespace rilq
