#include "core/run/layer_stats.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "core/io/hf_checkpoint.h"
#include "core/io/layer_stream.h"
#include "core/io/model_loader.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/quant/metrics.h"
#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq::run {

std::pair<int, std::string> split_linear_name(const std::string& linear_name) {
    const std::string prefix = "layers.";
    const size_t dot = linear_name.find('.', prefix.size());
    if (linear_name.rfind(prefix, 0) != 0 || dot == std::string::npos)
        throw Error("linear name '" + linear_name + "' is not inside a decoder layer (layers.N.*)");
    return {std::stoi(linear_name.substr(prefix.size(), dot - prefix.size())), linear_name.substr(dot + 1)};
}

namespace {

double sqnr_db(double rel_error) {
    return rel_error > 0.0 ? -20.0 * std::log10(rel_error) : std::numeric_limits<double>::infinity();
}

struct RowWriter {
    std::vector<store::LayerStat>& rows;
    std::string stage;
    int layer;
    std::string module;
    void operator()(const std::string& metric, double value) const {
        rows.push_back({stage, layer, module, metric, value});
    }
};

} // namespace

std::vector<store::LayerStat> quantized_layer_stats(const ModelQuantResult& result) {
    std::vector<store::LayerStat> rows;
    for (const LinearQuantStats& s : result.linears) {
        const auto [layer, module] = split_linear_name(s.name);
        RowWriter fp{rows, "fp", layer, module};
        fp("weight_norm", s.weight_norm);
        RowWriter q{rows, "quantized", layer, module};
        q("rel_error", s.rel_error);
        q("sqnr_db", s.sqnr_db);
        q("max_abs_error", s.max_abs_error);
        q("entropy_bits", s.mean_group_entropy_bits);
        q("pooled_entropy_bits", s.pooled_entropy_bits);
        if (s.has_output_error) q("output_error", s.output_rel_error);
        if (s.has_spectrum)
            for (const auto& [rank, energy] : s.energy_at_rank)
                q("energy_r" + std::to_string(rank), energy);
        for (const auto& [metric, value] : s.method.metrics)
            q(metric, value);
        for (size_t k = 0; k < s.code_histogram.size(); ++k)
            q("code_count_" + std::to_string(k), static_cast<double>(s.code_histogram[k]));
    }
    return rows;
}

std::vector<store::LayerStat> compensated_layer_stats(const std::string& base_model,
                                                      const ModelOptions& options, const LlamaModel& student,
                                                      const LoraSet& adapters, const torch::Tensor& calib_ids,
                                                      const ProgressSink& progress) {
    torch::NoGradGuard no_grad;
    // The FP side: layer by layer from an HF folder, or the whole model; either way the calibration
    // windows run through it one layer at a time (forward()'s own steps, so the same inputs).
    std::unique_ptr<LayerStream> stream;
    LlamaModel fp;
    if (is_hf_model_dir(base_model)) {
        stream = std::make_unique<LayerStream>(base_model, options);
        fp = stream->load_skeleton();
    } else {
        fp = load_model(base_model, options, progress);
    }
    const std::vector<std::string> names = fp.linear_names();
    torch::Tensor x = calib_ids.defined() && calib_ids.numel() > 0 ? fp.embed(calib_ids) : torch::Tensor();
    std::vector<store::LayerStat> rows;
    int64_t done = 0;
    for (int64_t i = 0; i < fp.config().num_hidden_layers; ++i) {
        if (stream) stream->load_layer(fp, i);
        const std::string prefix = "layers." + std::to_string(i) + ".";
        std::vector<std::string> layer_names;
        for (const std::string& name : names)
            if (name.rfind(prefix, 0) == 0) layer_names.push_back(name);
        // The effective weight of each linear: merged adapters are already in the student's weight.
        std::map<std::string, torch::Tensor> effective;
        for (const std::string& name : layer_names) {
            torch::Tensor w = student.linear(name).dense_weight().to(torch::kFloat32);
            if (!adapters.merged() && adapters.contains(name)) w = w + adapters.adapter(name).delta_weight();
            effective[name] = w;
        }
        std::map<std::string, double> output_error;
        if (x.defined())
            x = fp.forward_layer(i, x, [&](const std::string& name, const torch::Tensor& input) {
                progress.check_cancel();
                output_error[name] =
                    output_rel_error(input, fp.linear(name).dense_weight(), effective.at(name));
            });
        for (const std::string& name : layer_names) {
            const auto [layer, module] = split_linear_name(name);
            const torch::Tensor w = fp.linear(name).dense_weight().to(torch::kFloat64);
            const torch::Tensor diff = w - effective.at(name).to(torch::kFloat64);
            const double rel = diff.norm().item<double>() / w.norm().item<double>();
            RowWriter c{rows, "compensated", layer, module};
            c("rel_error", rel);
            c("sqnr_db", sqnr_db(rel));
            c("max_abs_error", diff.abs().max().item<double>());
            if (const auto it = output_error.find(name); it != output_error.end())
                c("output_error", it->second);
            progress.report(
                {"compensated stats", ++done, static_cast<int64_t>(names.size()), "linears", 0.0, -1.0});
            if (stream) fp.linear(name).weight = torch::Tensor(); // this layer's FP weight is done
        }
    }
    return rows;
}

} // namespace rilq::run
