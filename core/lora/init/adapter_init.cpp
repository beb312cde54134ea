#include "core/lora/init/adapter_init.h"

#include "core/lora/init/loftq.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/model/sequential_pass.h"
#include "core/quant/gptq.h"
#include "core/quant/quantize_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace rilq {

namespace {

void set_factors(LoraAdapter& a, const LowRankFactors& f) {
    a.set_parameter("lora_A", f.A);
    a.set_parameter("lora_B", f.B);
}

torch::Tensor fp32_cpu_copy(const torch::Tensor& w) { return w.detach().to(torch::kCPU, torch::kFloat32).contiguous(); }

std::string init_linear_name(size_t layer, const std::string& projection) {
    return "layers." + std::to_string(layer) + "." + projection;
}

void check_calibration(const torch::Tensor& ids, const char* what) {
    if (!ids.defined())
        throw Error(std::string(what) + " needs calibration windows (the inputs that define each linear's statistics)");
}

// LoftQ for GPTQ: the rounds need each linear's Hessian, so they run inside GPTQ's sequential
// pass over a copy of the FP model whose finished linears hold Q + s B A (adapted) or Q.
void loftq_with_gptq(const LlamaModel& teacher, LlamaModel& student, LoraSet& adapters, const QuantSpec& spec,
                     int iterations, const torch::Tensor& ids, const ProgressSink& progress, LoftqInitReport& report,
                     int64_t& counted) {
    check_calibration(ids, "LoftQ with gptq");
    LlamaModel work = teacher.clone();
    const GptqOptions gptq = gptq_options_of(spec);
    const auto targets = target_linears(student, spec);
    const auto is_target = [&](const std::string& n) { return std::find(targets.begin(), targets.end(), n) != targets.end(); };
    const auto& stages = true_sequential_stages();
    GptqHessian hessian;
    SequentialPassCallbacks pass;
    pass.label = "LoftQ (gptq)";
    pass.wanted = [&](size_t layer, size_t stage) {
        for (const auto& p : stages[stage])
            if (is_target(init_linear_name(layer, p)) || adapters.contains(init_linear_name(layer, p))) return true;
        return false;
    };
    pass.observe = [&](size_t, size_t, const torch::Tensor& x) {
        if (hessian.columns() == 0) hessian = GptqHessian(x.size(-1), x.device());
        hessian.add_batch(x);
    };
    pass.finish_stage = [&](size_t layer, size_t stage) {
        for (const auto& p : stages[stage]) {
            const std::string name = init_linear_name(layer, p);
            const bool adapted = adapters.contains(name);
            if (!adapted && !is_target(name)) continue;
            Linear& lw = work.linear(name);
            const auto W = fp32_cpu_copy(lw.weight);
            const WeightQuantizer quantize = [&](const torch::Tensor& w) {
                return gptq_quantize(w, hessian.matrix(), gptq, name).quant.dequantized;
            };
            torch::Tensor base, effective;
            if (adapted) {
                LoraAdapter& a = adapters.adapter(name);
                const LoftqResult r = loftq(W, quantize, a.rank(), a.scale(), iterations);
                set_factors(a, r.factors);
                base = r.base;
                effective = r.base + low_rank_product(r.factors, a.scale());
                report.mean_error += r.error_norms.back();
                ++counted;
            } else {
                base = effective = quantize(W);
            }
            Linear& ls = student.linear(name);
            ls.weight = base.to(ls.weight.device(), ls.weight.scalar_type());
            lw.weight = effective.to(lw.weight.device(), lw.weight.scalar_type());
        }
        hessian = GptqHessian();
    };
    run_sequential_pass(work, ids, pass, progress);
}

} // namespace

LoftqInitReport loftq_init_adapters(const LlamaModel& teacher, LlamaModel& student, LoraSet& adapters,
                                    const QuantSpec& spec, int iterations, const torch::Tensor& calib_ids,
                                    const ProgressSink& progress) {
    if (iterations < 1) throw Error("LoftQ: iterations must be >= 1, found " + std::to_string(iterations));
    spec.validate("LoftQ quantizer");
    torch::NoGradGuard no_grad;
    LoftqInitReport report;
    report.iterations = iterations;
    int64_t counted = 0;
    if (spec.method == QuantMethod::Gptq) {
        loftq_with_gptq(teacher, student, adapters, spec, iterations, calib_ids, progress, report, counted);
    } else {
        int64_t done = 0;
        for (const auto& a : adapters.adapters()) {
            progress.check_cancel();
            const std::string& name = a->linear_name();
            const WeightQuantizer quantize = [&](const torch::Tensor& w) {
                return quantize_weight(w, spec, name).dequantized;
            };
            const LoftqResult r = loftq(fp32_cpu_copy(teacher.linear(name).weight), quantize, a->rank(), a->scale(), iterations);
            set_factors(*a, r.factors);
            Linear& ls = student.linear(name);
            ls.weight = r.base.to(ls.weight.device(), ls.weight.scalar_type());
            report.mean_error += r.error_norms.back();
            ++counted;
            progress.report({"LoftQ " + name, ++done, static_cast<int64_t>(adapters.size()), "linears", 0.0, -1.0});
        }
    }
    if (counted > 0) report.mean_error /= static_cast<double>(counted);
    return report;
}

CalibratedInitReport calibrated_init_adapters(const LlamaModel& teacher, const LlamaModel& student, LoraSet& adapters,
                                              const torch::Tensor& calib_ids, CalibratedScaling scaling,
                                              const ProgressSink& progress) {
    check_calibration(calib_ids, "the calibrated initialisation");
    torch::NoGradGuard no_grad;
    CalibratedInitReport report;
    int64_t counted = 0;
    const auto& stages = true_sequential_stages();
    InputGram gram;
    SequentialPassCallbacks pass;
    pass.label = scaling == CalibratedScaling::Exact ? "calibrated init (exact)" : "calibrated init (diagonal)";
    pass.wanted = [&](size_t layer, size_t stage) {
        for (const auto& p : stages[stage])
            if (adapters.contains(init_linear_name(layer, p))) return true;
        return false;
    };
    pass.observe = [&](size_t, size_t, const torch::Tensor& x) {
        if (gram.features() == 0) gram = InputGram(x.size(-1));
        gram.add(x);
    };
    pass.finish_stage = [&](size_t layer, size_t stage) {
        const auto R = gram.mean();
        for (const auto& p : stages[stage]) {
            const std::string name = init_linear_name(layer, p);
            if (!adapters.contains(name)) continue;
            LoraAdapter& a = adapters.adapter(name);
            const auto E = fp32_cpu_copy(teacher.linear(name).weight) - fp32_cpu_copy(student.linear(name).weight);
            const LowRankFactors f = calibrated_factors(E, R, a.rank(), a.scale(), scaling);
            set_factors(a, f);
            const double before = calibrated_objective(E, R, {torch::zeros_like(f.A), torch::zeros_like(f.B)}, a.scale());
            if (before > 0.0) report.mean_objective_ratio += calibrated_objective(E, R, f, a.scale()) / before;
            ++counted;
        }
        gram = InputGram();
    };
    // The pass never changes the teacher: every Gram is of FP inputs.
    run_sequential_pass(teacher, calib_ids, pass, progress);
    if (counted > 0) report.mean_objective_ratio /= static_cast<double>(counted);
    return report;
}

} // namespace rilq
