#include "core/quant/gptq.h"

#include "core/quant/metrics.h"
#include "core/quant/rtn.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

namespace rilq {

namespace {

double gptq_seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string damp_text(double fraction) {
    std::ostringstream s;
    s.precision(4);
    s << fraction;
    return s.str();
}

// The variant gptq-sym: quant.py's sym=True.
bool gptq_symmetric(const QuantSpec& spec) {
    return variant_value(rtn_variants(), spec.resolved_variant(), "gptq") == RtnVariant::GptqSymmetric;
}

// One grid per row of x (O, n): quant.py Quantizer.find_params(x, weight=True) with
// perchannel=True. Whole-tensor ops in quant.py's order, so every rounding matches it.
struct RowGrid {
    torch::Tensor scale; // (O, 1) f32
    torch::Tensor zero;  // (O, 1) f32, integer valued
};

// clamp(round(x / scale) + zero, 0, maxq): the integer code, as a float tensor.
torch::Tensor grid_codes(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero,
                         double maxq) {
    return torch::clamp(torch::round(x / scale) + zero, 0.0, maxq);
}

// quant.py quantize(): scale * (code - zero).
torch::Tensor grid_dequantize(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero,
                              double maxq) {
    return scale * (grid_codes(x, scale, zero, maxq) - zero);
}

RowGrid fit_grid(const torch::Tensor& x, const QuantSpec& o) {
    const double maxq = static_cast<double>((1 << o.bits) - 1);
    const auto zeros = torch::zeros({x.size(0)}, x.options());
    auto xmin = torch::minimum(std::get<0>(x.min(1)), zeros); // the range always holds 0
    auto xmax = torch::maximum(std::get<0>(x.max(1)), zeros);
    if (gptq_symmetric(o)) {
        xmax = torch::maximum(torch::abs(xmin), xmax);
        // Widened only where xmin < 0: an all-positive row keeps xmin = 0 (quant.py does so).
        xmin = torch::where(xmin < 0, -xmax, xmin);
    }
    const auto empty = (xmin == 0).logical_and(xmax == 0); // an all-zero row gets [-1, 1]
    xmin = torch::where(empty, torch::full_like(xmin, -1.0), xmin);
    xmax = torch::where(empty, torch::full_like(xmax, 1.0), xmax);
    auto scale = (xmax - xmin) / maxq;
    auto zero = gptq_symmetric(o) ? torch::full_like(scale, (maxq + 1.0) / 2.0) : torch::round(-xmin / scale);

    if (o.gptq_mse) {
        // Shrink the range by p = 1 - k/grid and keep, per row, the p with the smallest
        // sum |Q(x) - x|^norm (strictly smaller replaces, so the widest range wins ties).
        auto best = torch::full({x.size(0)}, std::numeric_limits<float>::infinity(), x.options());
        const int steps = static_cast<int>(o.gptq_mse_max_shrink * o.gptq_mse_grid);
        for (int k = 0; k < steps; ++k) {
            const double p = 1.0 - static_cast<double>(k) / static_cast<double>(o.gptq_mse_grid);
            const auto xmin1 = xmin * p, xmax1 = xmax * p;
            const auto scale1 = (xmax1 - xmin1) / maxq;
            const auto zero1 = gptq_symmetric(o) ? zero : torch::round(-xmin1 / scale1);
            auto q = grid_dequantize(x, scale1.unsqueeze(1), zero1.unsqueeze(1), maxq);
            q.sub_(x).abs_().pow_(o.gptq_mse_norm);
            const auto err = torch::sum(q, 1);
            const auto better = err < best;
            best = torch::where(better, err, best);
            scale = torch::where(better, scale1, scale);
            zero = torch::where(better, zero1, zero);
        }
    }
    return {scale.reshape({-1, 1}), zero.reshape({-1, 1})};
}

// Upper Cholesky factor of (H + damp I)^-1 with damp = damp_percent * mean(diag H); on a failed
// factorization damp_percent grows by damp_increment (GPTQModel) until it would reach 1.
torch::Tensor inverse_hessian_factor(const torch::Tensor& H, const QuantSpec& o, const std::string& name,
                                     const GptqLog& log, GptqRecord& record) {
    double damp_percent = o.gptq_damp_percent;
    int retries = 0;
    while (damp_percent < 1.0) {
        auto damped = H.clone();
        const auto damp = torch::mean(torch::diag(damped)) * damp_percent; // () f32
        damped.diagonal().add_(damp);
        auto [lower, info] = torch::linalg_cholesky_ex(damped, /*upper=*/false, /*check_errors=*/false);
        if (info.item<int64_t>() == 0) {
            auto [upper, info2] = torch::linalg_cholesky_ex(torch::cholesky_inverse(lower), /*upper=*/true,
                                                            /*check_errors=*/false);
            if (info2.item<int64_t>() == 0) {
                record.damp_percent = damp_percent;
                record.damp_retries = retries;
                return upper;
            }
        }
        const double next = damp_percent + o.gptq_damp_increment;
        if (log)
            log(name + ": GPTQ: the damped Hessian is not positive definite at damp_percent " +
                damp_text(damp_percent) +
                (next < 1.0 ? "; retrying with " + damp_text(next) : "; giving up"));
        damp_percent = next;
        ++retries;
    }
    throw Error(name + ": GPTQ: no damping below 1 (x mean diagonal) makes the Hessian positive definite, " +
                std::to_string(retries) + " tries from damp_percent " + damp_text(o.gptq_damp_percent));
}

} // namespace

// ----------------------------------------------------------------------------
// Hessian

GptqHessian::GptqHessian(int64_t columns) : H_(torch::zeros({columns, columns}, torch::kFloat32)) {}

void GptqHessian::add_batch(const torch::Tensor& x) {
    if (!H_.defined()) throw Error("GptqHessian: add_batch on a Hessian without columns");
    if (x.dim() < 2 || x.size(-1) != H_.size(0))
        throw Error("GptqHessian: inputs must be (..., " + std::to_string(H_.size(0)) + "), found " +
                    std::to_string(x.dim()) + "-D with last dimension " +
                    (x.dim() > 0 ? std::to_string(x.size(-1)) : "-"));
    const auto batched = x.dim() == 2 ? x.unsqueeze(0) : x;
    const int64_t b = batched.size(0);
    auto xt = batched.reshape({-1, batched.size(-1)}).t(); // (I, rows)
    // Running average: H = 2/N sum x x^T after every batch, N counting batch entries.
    H_.mul_(static_cast<double>(samples_) / static_cast<double>(samples_ + b));
    samples_ += b;
    xt = xt.to(torch::kFloat32) * std::sqrt(2.0 / static_cast<double>(samples_));
    H_.add_(xt.matmul(xt.t()));
}

// ----------------------------------------------------------------------------
// options

// ----------------------------------------------------------------------------
// fasterquant

QuantResult gptq_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const QuantSpec& o,
                          const std::string& name, const GptqLog& log) {
    if (o.method != "gptq") throw Error(name + ": gptq_quantize needs a gptq spec, found method " + o.method);
    o.validate();
    if (!weight.defined() || weight.dim() != 2 || !weight.is_floating_point() || weight.numel() == 0)
        throw Error(name + ": GPTQ needs a non-empty 2-D floating-point (out, in) weight");
    const int64_t O = weight.size(0), I = weight.size(1);
    if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != I || hessian.size(1) != I)
        throw Error(name + ": GPTQ Hessian must be (" + std::to_string(I) + ", " + std::to_string(I) + ")");
    const auto start = std::chrono::steady_clock::now();
    torch::NoGradGuard no_grad;
    auto H = hessian.detach().to(weight.device(), torch::kFloat32).clone(); // modified below
    if (!torch::isfinite(H).all().item<bool>())
        throw Error(name + ": GPTQ Hessian holds NaN or Inf (non-finite calibration inputs to this linear)");
    auto W = weight.detach().to(torch::kFloat32).clone().contiguous(); // (O, I)
    const double maxq = static_cast<double>((1 << o.bits) - 1);
    const int64_t gs = o.group_size;
    const bool grouped = gs > 0;

    auto record = std::make_shared<GptqRecord>();
    // Per channel, the grid comes from the weight before dead columns are zeroed (gptq.py fits
    // its fresh quantizer first).
    RowGrid grid = fit_grid(W, o);

    // Dead inputs: the column cannot matter to the output; quantize it to 0's code.
    auto diagonal = H.diagonal();
    const auto dead = diagonal == 0;
    record->dead_columns = dead.sum().item<int64_t>();
    if (record->dead_columns > 0) {
        diagonal.masked_fill_(dead, 1.0);
        W.masked_fill_(dead.unsqueeze(0), 0.0);
    }

    const int64_t NG = grouped ? (I + gs - 1) / gs : 1;
    std::vector<RowGrid> groups; // one per group, in the order they are used
    if (grouped && o.gptq_static_groups)
        for (int64_t c = 0; c < I; c += gs)
            groups.push_back(fit_grid(W.narrow(1, c, std::min(gs, I - c)), o));
    if (!grouped) groups.push_back(grid);

    torch::Tensor perm, invperm, perm_cpu;
    if (o.gptq_act_order) {
        perm = torch::argsort(torch::diag(H), /*dim=*/0, /*descending=*/true);
        W = W.index_select(1, perm);
        H = H.index_select(0, perm).index_select(1, perm);
        invperm = torch::argsort(perm);
        perm_cpu = perm.to(torch::kCPU).contiguous();
    }
    const int64_t* original_of = perm_cpu.defined() ? perm_cpu.data_ptr<int64_t>() : nullptr;

    auto Q = torch::zeros_like(W);      // (O, I) dequantized, in working (permuted) order
    auto codes = torch::zeros_like(W);  // (O, I) float codes
    auto losses = torch::zeros_like(W); // (O, I)
    auto group_of_position = torch::zeros({I}, torch::kInt64);
    auto* group_at = group_of_position.data_ptr<int64_t>();
    const auto Hinv = inverse_hessian_factor(H, o, name, log, *record); // (I, I) upper
    H = torch::Tensor();

    const int64_t block = o.gptq_block_size;
    for (int64_t i1 = 0; i1 < I; i1 += block) {
        const int64_t i2 = std::min(i1 + block, I), count = i2 - i1;
        auto W1 = W.narrow(1, i1, count).clone(); // (O, count): the block's working copy
        auto Q1 = torch::zeros_like(W1), C1 = torch::zeros_like(W1);
        auto Err1 = torch::zeros_like(W1), Losses1 = torch::zeros_like(W1);
        const auto Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count);
        for (int64_t i = 0; i < count; ++i) {
            const int64_t col = i1 + i;
            const auto w = W1.select(1, i); // (O)
            const auto d = Hinv1[i][i];     // ()
            if (grouped) {
                if (!o.gptq_static_groups) {
                    // Refit from W, which lacks this block's in-block updates (see gptq.h).
                    if (col % gs == 0) {
                        grid = fit_grid(W.narrow(1, col, std::min(gs, I - col)), o);
                        groups.push_back(grid);
                    }
                    group_at[col] = static_cast<int64_t>(groups.size()) - 1;
                } else {
                    const int64_t original = original_of ? original_of[col] : col;
                    grid = groups[static_cast<size_t>(original / gs)];
                    group_at[col] = original / gs;
                }
            }
            const auto code = grid_codes(w.unsqueeze(1), grid.scale, grid.zero, maxq); // (O, 1)
            const auto q = (grid.scale * (code - grid.zero)).flatten();                // (O)
            C1.select(1, i).copy_(code.flatten());
            Q1.select(1, i).copy_(q);
            Losses1.select(1, i).copy_((w - q).pow(2) / d.pow(2));
            const auto err1 = (w - q) / d;
            // Spread this column's error over the rest of the block (OBS update, row i of Hinv).
            W1.narrow(1, i, count - i)
                .sub_(err1.unsqueeze(1).matmul(Hinv1[i].narrow(0, i, count - i).unsqueeze(0)));
            Err1.select(1, i).copy_(err1);
        }
        Q.narrow(1, i1, count).copy_(Q1);
        codes.narrow(1, i1, count).copy_(C1);
        losses.narrow(1, i1, count).copy_(Losses1 / 2);
        // The block's errors, all at once, on every column after it.
        if (i2 < I)
            W.narrow(1, i2, I - i2).sub_(Err1.matmul(Hinv.narrow(0, i1, count).narrow(1, i2, I - i2)));
    }
    record->loss = torch::sum(losses).item<double>();

    if (o.gptq_act_order) {
        Q = Q.index_select(1, invperm);
        codes = codes.index_select(1, invperm);
        group_of_position = group_of_position.index_select(0, invperm.to(torch::kCPU));
        record->perm = perm_cpu;
        record->groups_in_act_order = grouped && !o.gptq_static_groups;
    }
    std::vector<torch::Tensor> scales, zeros;
    for (const auto& g : groups) {
        scales.push_back(g.scale);
        zeros.push_back(g.zero);
    }
    QuantResult r;
    r.bits = o.bits;
    r.layout = GroupLayout::row_groups(O, I, gs);
    r.dequantized = Q.contiguous();
    r.codes = codes.to(torch::kUInt8).contiguous();
    r.scales = torch::cat(scales, 1).contiguous(); // (O, NG)
    r.zeros = torch::cat(zeros, 1).contiguous();
    if (r.scales.size(1) != NG) throw Error(name + ": GPTQ internal error: group count mismatch");
    record->group_index = group_of_position.contiguous();
    record->seconds = gptq_seconds_since(start);
    r.record = std::move(record);
    return r;
}

// ----------------------------------------------------------------------------
// the registered method

const GptqRecord& gptq_record(const QuantResult& result) {
    return record_as<GptqRecord>(result, "GPTQ");
}

MethodStats GptqRecord::stats(const QuantResult&, const torch::Tensor&, const torch::Tensor&,
                              const MetricsOptions&) const {
    MethodStats s;
    s.key = "gptq";
    s.metrics = {{"gptq_loss", loss}, {"gptq_damp_percent", damp_percent}};
    s.detail = {{"loss", loss},
                {"damp_percent", damp_percent},
                {"damp_retries", damp_retries},
                {"dead_columns", dead_columns},
                {"samples", samples},
                {"act_order", perm.defined()},
                {"groups_in_act_order", groups_in_act_order},
                {"seconds", seconds}};
    return s;
}

void GptqRecord::add_code_tensors(const QuantResult&, const QuantSpec&, const std::string& prefix,
                                  std::vector<std::pair<std::string, torch::Tensor>>& out) const {
    out.emplace_back(prefix + "g_idx", group_index.to(torch::kInt32));
    if (perm.defined()) out.emplace_back(prefix + "perm", perm.to(torch::kInt32));
}

namespace {

// GPTQ as a registered quantizer: the Hessian of the inputs quantize_model hands it, then
// gptq_quantize. Its grid is GPTQ's own affine one (gptq / gptq-sym), stored like RTN's.
class GptqQuantizer : public AffineQuantizer {
  public:
    using AffineQuantizer::AffineQuantizer;
    QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const override {
        if (!context.inputs.defined())
            throw Error(context.name + ": GPTQ needs the linear's calibration inputs (calibration windows)");
        GptqHessian hessian(weight.size(1));
        // One add_batch per window, as llama.py feeds its calibration samples (batch 1), so the
        // running average rounds as GPTQ's does.
        if (context.inputs.dim() == 3)
            for (int64_t k = 0; k < context.inputs.size(0); ++k)
                hessian.add_batch(context.inputs.narrow(0, k, 1));
        else
            hessian.add_batch(context.inputs);
        QuantResult r = gptq_quantize(weight, hessian.matrix(), spec_, context.name);
        auto record = std::make_shared<GptqRecord>(gptq_record(r)); // shallow: tensors are shared
        record->samples = hessian.samples();
        r.record = std::move(record);
        return r;
    }
    std::string dequant_formula() const override {
        return "w[o, i] = (codes[o, i] - zeros[o, g_idx[i]]) * scales[o, g_idx[i]]";
    }
};

} // namespace

const QuantMethod& gptq_method() {
    static const QuantMethod method{
        "gptq",
        "GPTQ",
        "GPTQ (Frantar et al. 2022, IST-DASLab gptq.py): Hessian-guided rounding with error feedback on "
        "calibration inputs, true-sequential over the layers",
        variants_of(rtn_variants(), {RtnVariant::Gptq, RtnVariant::GptqSymmetric}),
        {2, 3, 4, 8},
        GroupKind::RowGroups,
        /*needs_calibration=*/true,
        {"gptq_damp_percent", "gptq_damp_increment", "gptq_block_size", "gptq_act_order",
         "gptq_static_groups", "gptq_mse", "gptq_mse_norm", "gptq_mse_grid", "gptq_mse_max_shrink"},
        &make_quantizer_of<GptqQuantizer>};
    return method;
}

} // namespace rilq
