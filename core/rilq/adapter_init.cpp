#include "core/rilq/adapter_init.h"

#include "core/lora/init/loftq.h"
#include "core/lora/lora_config.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/quant/quant_registry.h"
#include "core/quant/quantizer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

namespace rilq {

std::map<std::string, InputGram> collect_input_grams(const LlamaModel& model, const torch::Tensor& ids,
                                                     const std::vector<std::string>& names,
                                                     int64_t batch_windows, const ProgressSink& progress) {
    if (!ids.defined() || ids.dim() != 2 || ids.size(0) == 0)
        throw Error("input Grams: expected (N, T) calibration windows with N >= 1");
    std::map<std::string, InputGram> grams;
    for (const auto& name : names)
        grams.emplace(name, InputGram(model.linear(name).weight.size(1)));
    torch::NoGradGuard no_grad;
    ForwardOptions options;
    options.want_logits = false;
    options.observer = [&grams](const std::string& name, const torch::Tensor& x) {
        const auto it = grams.find(name);
        if (it != grams.end()) it->second.add(x);
    };
    const int64_t n = ids.size(0), step = std::max<int64_t>(1, batch_windows);
    for (int64_t start = 0; start < n; start += step) {
        progress.check_cancel();
        model.forward(ids.slice(0, start, std::min(n, start + step)), options);
        ProgressInfo info;
        info.stage = "lora_init: calibration Grams";
        info.done = std::min(n, start + step);
        info.total = n;
        info.unit = "windows";
        progress.report(info);
    }
    return grams;
}

namespace {

std::string adapted_linears_text(size_t count) {
    return std::to_string(count) + " linear" + (count == 1 ? "" : "s");
}

std::string fixed(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", value);
    return text;
}

} // namespace

ReplacedWeights init_adapters_closed_form(LlamaModel& student, LoraSet& adapters, const LoraConfig& config,
                                          const ClosedFormInputs& inputs, std::string* log,
                                          const ProgressSink& progress) {
    if (!is_closed_form(config.init))
        throw Error("lora_init " + to_string(config.init) +
                    " is not a closed form (loftq, qera-exact, qera-diag)");
    if (!inputs.fp) throw Error("lora_init " + to_string(config.init) + ": no FP model");
    const bool loftq_init = config.init == LoraInit::Loftq;
    if (loftq_init && !inputs.quant)
        throw Error(
            "lora_init loftq: no quantizer (quant.method \"none\" leaves nothing to re-quantize with)");
    std::unique_ptr<Quantizer> quantizer;
    bool calibrated_quantizer = false;
    if (loftq_init) {
        quantizer = make_quantizer(*inputs.quant);
        calibrated_quantizer = quant_method(inputs.quant->method).needs_calibration;
    }
    std::vector<std::string> names;
    for (const auto& a : adapters.adapters())
        names.push_back(a->linear_name());
    std::map<std::string, InputGram> grams;
    if (needs_input_gram(config.init) || calibrated_quantizer) {
        if (!inputs.calib_ids.defined())
            throw Error("lora_init " + to_string(config.init) +
                        ": no calibration windows for the input Grams");
        grams = collect_input_grams(*inputs.fp, inputs.calib_ids, names, inputs.batch_windows, progress);
    }

    torch::NoGradGuard no_grad;
    ReplacedWeights replaced;
    double first_error = 0.0, last_error = 0.0; // LoftQ: mean relative weight error, round 1 and T
    double objective = 0.0;                     // QERA: sum of the calibrated objectives
    int64_t done = 0;
    for (const auto& a : adapters.adapters()) {
        progress.check_cancel();
        const std::string& name = a->linear_name();
        Linear& linear = student.linear(name);
        const auto W = inputs.fp->linear(name).weight.detach().to(torch::kCPU, torch::kFloat32); // (O, I)
        LowRankFactors factors;
        if (loftq_init) {
            torch::Tensor root; // (I, I): stands in for the inputs of a calibrated quantizer
            if (calibrated_quantizer) root = gram_root(grams.at(name).mean()).to(torch::kFloat32);
            const WeightQuantizer quantize = [&](const torch::Tensor& R) {
                QuantContext context;
                context.name = name;
                context.inputs = root;
                return quantizer->quantize(R.contiguous(), context).dequantized;
            };
            const LoftqResult r =
                loftq(W, quantize, a->rank(), a->scale(), static_cast<int>(config.loftq_iter));
            first_error += r.error_norms.front();
            last_error += r.error_norms.back();
            replaced.emplace_back(name, linear.weight);
            linear.weight = r.base.to(linear.weight.device(), linear.weight.scalar_type());
            factors = r.factors;
        } else {
            const auto gram = grams.at(name).mean();
            const auto E = W - linear.weight.detach().to(torch::kCPU, torch::kFloat32);
            const auto scaling =
                config.init == LoraInit::QeraExact ? CalibratedScaling::Exact : CalibratedScaling::Diagonal;
            factors = calibrated_factors(E, gram, a->rank(), a->scale(), scaling);
            objective += calibrated_objective(E, gram, factors, a->scale());
        }
        a->set_parameter("lora_A", factors.A);
        a->set_parameter("lora_B", factors.B);
        ProgressInfo info;
        info.stage = "lora_init " + to_string(config.init) + " " + name;
        info.done = ++done;
        info.total = static_cast<int64_t>(names.size());
        info.unit = "linears";
        progress.report(info);
    }
    if (log) {
        const double n = std::max<double>(1.0, static_cast<double>(names.size()));
        if (loftq_init)
            *log = "lora_init loftq (" + std::to_string(config.loftq_iter) + " rounds, " +
                   quant_method_label(inputs.quant->method) + "): mean ||W - Q - sBA|| / ||W|| " +
                   fixed(first_error / n) + " after round 1, " + fixed(last_error / n) +
                   " after the last, over " + adapted_linears_text(names.size());
        else
            *log = "lora_init " + to_string(config.init) +
                   ": calibrated objective tr((E - sBA) R (E - sBA)^T) " + fixed(objective) +
                   " summed over " + adapted_linears_text(names.size());
    }
    return replaced;
}

void restore_weights(LlamaModel& model, ReplacedWeights& replaced) {
    for (auto it = replaced.rbegin(); it != replaced.rend(); ++it)
        model.linear(it->first).weight = it->second;
    replaced.clear();
}

} // namespace rilq
