#include "core/quant/gptq_model.h"

#include "core/model/llama_model.h"
#include "core/model/sequential_pass.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

namespace rilq {

LinearQuantStats gptq_linear_stats(const std::string& name, const torch::Tensor& weight, const GptqResult& result,
                                   const torch::Tensor& hessian, int64_t calib_tokens, const MetricsOptions& metrics) {
    const auto w = weight.detach().to(torch::kCPU, torch::kFloat32).contiguous(); // (O, I)
    const auto q = result.quant.dequantized.to(torch::kCPU, torch::kFloat32);    // (O, I)
    LinearQuantStats s;
    if (result.groups_in_act_order) {
        // A group is a run of act-order positions: measure groups in that order.
        QuantResult ordered = result.quant;
        ordered.dequantized = q.index_select(1, result.perm).contiguous();
        ordered.codes = result.quant.codes.to(torch::kCPU).index_select(1, result.perm).contiguous();
        s = compute_linear_stats(name, w.index_select(1, result.perm).contiguous(), ordered, metrics);
        s.gptq_groups_in_act_order = true;
    } else {
        QuantResult plain = result.quant;
        plain.dequantized = q;
        plain.codes = result.quant.codes.to(torch::kCPU);
        s = compute_linear_stats(name, w, plain, metrics);
    }
    s.has_gptq = true;
    s.gptq_loss = result.loss;
    s.gptq_damp_percent = result.damp_percent;
    s.gptq_damp_retries = result.damp_retries;
    s.gptq_dead_columns = result.dead_columns;
    s.quantize_seconds = result.seconds;

    // H = 2/N X^T X, so tr(D H D^T) / tr(W H W^T) = ||X D^T||^2 / ||X W^T||^2 (fp32 products,
    // fp64 sums: a ratio of norms needs no more).
    const auto H = hessian.detach().to(torch::kCPU, torch::kFloat32);
    const auto D = w - q;
    const double num = (D.matmul(H) * D).sum(torch::kFloat64).item<double>();
    const double den = (w.matmul(H) * w).sum(torch::kFloat64).item<double>();
    if (den > 0.0) {
        s.has_output_error = true;
        s.output_rel_error = std::sqrt(std::max(num, 0.0) / den);
        s.calib_rows = calib_tokens;
    }
    return s;
}

ModelQuantResult gptq_quantize_model(LlamaModel& model, const QuantSpec& spec, const QuantizeModelOptions& options,
                                     const ProgressSink& progress) {
    spec.validate("quant spec");
    if (spec.method != QuantMethod::Gptq)
        throw Error("gptq_quantize_model: the spec's method is " + to_string(spec.method) + ", not gptq");
    const std::vector<std::string> targets = target_linears(model, spec);
    const torch::Tensor& ids = options.calib_ids;
    if (!ids.defined())
        throw Error("gptq needs calibration windows: it quantizes each linear against the Hessian of its "
                    "calibration inputs (rilq quantize --calib NAME=PATH)");
    if (ids.dim() != 2 || ids.scalar_type() != torch::kInt64 || ids.size(0) == 0)
        throw Error("gptq: calibration windows must be a non-empty (N, T) int64 tensor");

    const auto start = std::chrono::steady_clock::now();
    const GptqOptions gptq = gptq_options_of(spec);
    ModelQuantResult result;
    result.spec = spec;
    result.calib_windows = ids.size(0);
    result.calib_tokens = ids.numel();
    const auto is_target = [&](const std::string& name) {
        return std::find(targets.begin(), targets.end(), name) != targets.end();
    };
    const auto& stages = true_sequential_stages();
    const auto linear_name = [](size_t layer, const std::string& projection) {
        return "layers." + std::to_string(layer) + "." + projection;
    };

    GptqHessian hessian;
    SequentialPassCallbacks pass;
    pass.label = "gptq";
    pass.wanted = [&](size_t layer, size_t stage) {
        for (const auto& p : stages[stage])
            if (is_target(linear_name(layer, p))) return true;
        return false;
    };
    pass.observe = [&](size_t, size_t, const torch::Tensor& x) {
        if (hessian.columns() == 0) hessian = GptqHessian(x.size(-1), x.device());
        hessian.add_batch(x);
    };
    pass.finish_stage = [&](size_t layer, size_t stage) {
        for (const auto& p : stages[stage]) {
            const std::string name = linear_name(layer, p);
            if (!is_target(name)) continue;
            Linear& lin = model.linear(name);
            const auto w = lin.weight.detach().to(torch::kFloat32).contiguous();
            check_finite(w.to(torch::kCPU), name);
            GptqResult r = gptq_quantize(w, hessian.matrix(), gptq, name, options.log);
            result.linears.push_back(gptq_linear_stats(name, w, r, hessian.matrix(), result.calib_tokens, options.metrics));
            lin.weight = r.quant.dequantized.to(lin.weight.device(), lin.weight.scalar_type());
            if (options.keep_states) {
                r.quant.dequantized = torch::Tensor();
                result.states.emplace_back(name, std::move(r.quant));
            }
        }
        hessian = GptqHessian();
    };
    run_sequential_pass(model, ids, pass, progress);

    // Report in model order, like the weight-only methods.
    std::map<std::string, size_t> order;
    for (const auto& name : model.linear_names()) order.emplace(name, order.size());
    std::sort(result.linears.begin(), result.linears.end(),
              [&](const LinearQuantStats& a, const LinearQuantStats& b) { return order[a.name] < order[b.name]; });
    std::sort(result.states.begin(), result.states.end(),
              [&](const auto& a, const auto& b) { return order[a.first] < order[b.first]; });
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace rilq
