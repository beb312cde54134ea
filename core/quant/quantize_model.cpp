#include "core/quant/quantize_model.h"

#include "core/quant/packed_quant_weight.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <limits>
#include <memory>
#include <set>

namespace rilq {

namespace {

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Order in which the forward uses a linear: layer i, then q/k/v (0), o (1), gate/up (2), down (3).
// A linear's weight may be swapped once the forward has observed the input of a later stage.
int64_t forward_stage(const std::string& name) {
    const auto dot = name.find('.', 7); // after "layers."
    const int64_t layer = std::stoll(name.substr(7, dot - 7));
    const std::string proj = name.substr(dot + 1);
    int64_t stage = 0;
    if (proj == "self_attn.o_proj")
        stage = 1;
    else if (proj == "mlp.gate_proj" || proj == "mlp.up_proj")
        stage = 2;
    else if (proj == "mlp.down_proj")
        stage = 3;
    return layer * 4 + stage;
}

} // namespace

struct LayerwiseQuantizer::Impl {
    // A linear's quantized weight as the student holds it (quant.storage): dense or packed.
    struct StudentWeight {
        torch::Tensor dense;
        std::shared_ptr<const PackedLinearWeight> packed;

        void install(Linear& linear) const {
            linear.weight = dense;
            linear.packed = packed;
        }
    };

    LlamaModel& model;
    QuantSpec spec;
    QuantizeModelOptions options;
    ProgressSink progress;
    std::vector<std::string> targets;
    ModelQuantResult result;
    std::unique_ptr<Quantizer> quantizer;
    bool needs_inputs = false;
    double t_start = 0.0;

    // Quantized weights waiting until the forward has used their FP weight (weight-only methods).
    struct Pending {
        std::string name;
        StudentWeight weight;
        int64_t stage;
    };
    std::vector<Pending> pending;
    std::set<std::string> seen;

    Impl(LlamaModel& m, const QuantSpec& s, const QuantizeModelOptions& o, const ProgressSink& p)
        : model(m), spec(s), options(o), progress(p) {}

    void report(const std::string& name) {
        ProgressInfo info;
        info.stage = "quantize " + name;
        info.done = static_cast<int64_t>(result.linears.size());
        info.total = static_cast<int64_t>(targets.size());
        info.unit = "linears";
        info.elapsed_s = now_s() - t_start;
        if (info.done > 0)
            info.eta_s =
                info.elapsed_s / static_cast<double>(info.done) * static_cast<double>(info.total - info.done);
        progress.report(info);
    }

    // Quantizes one linear (FP weight still in the model) and returns its dequantized weight in
    // the model's dtype/device; x is its calibration input or null.
    StudentWeight process(const std::string& name, const torch::Tensor* x) {
        progress.check_cancel();
        const Linear& lin = model.linear(name);
        const auto fp = lin.dense_weight();
        auto w = fp.detach().to(torch::kCPU, torch::kFloat32).contiguous(); // (O, I)
        check_finite(w, name);
        const double tq = now_s();
        QuantContext context;
        context.name = name;
        if (needs_inputs && x) context.inputs = x->detach().to(torch::kCPU, torch::kFloat32);
        QuantResult qr = quantizer->quantize(w, context);
        const double quantize_s = now_s() - tq;
        LinearQuantStats stats = compute_linear_stats(name, w, qr, options.metrics);
        stats.quantize_seconds = quantize_s;
        if (x) add_output_error(stats, x->detach().to(torch::kCPU), w, qr.dequantized);
        StudentWeight deq;
        if (spec.storage == QuantStorage::Packed)
            deq.packed = PackedQuantWeight::pack(qr);
        else
            deq.dense =
                qr.dequantized.to(fp.device(), lin.packed ? model.options().compute_dtype : fp.scalar_type());
        if (options.keep_states) {
            qr.dequantized = torch::Tensor();
            if (qr.record) qr.record->drop_working_copies();
            result.states.emplace_back(name, std::move(qr));
        }
        result.linears.push_back(std::move(stats));
        report(name);
        return deq;
    }

    void flush(int64_t before_stage) {
        std::vector<Pending> keep;
        for (auto& p : pending) {
            if (p.stage < before_stage)
                p.weight.install(model.linear(p.name));
            else
                keep.push_back(std::move(p));
        }
        pending = std::move(keep);
    }

    void observe(const std::string& name, const torch::Tensor& x) {
        const int64_t stage = forward_stage(name);
        flush(stage);
        if (!spec.is_target(name) || seen.count(name)) return;
        seen.insert(name);
        auto deq = process(name, &x);
        if (needs_inputs)
            deq.install(model.linear(name)); // used at once: later linears see quantized inputs
        else
            pending.push_back({name, std::move(deq), stage});
    }

    // The targets of layer `index` no forward reached (all of them without calibration).
    void process_unseen(int64_t index) {
        const std::string prefix = "layers." + std::to_string(index) + ".";
        for (const auto& name : targets) {
            if (name.rfind(prefix, 0) != 0 || seen.count(name)) continue;
            seen.insert(name);
            process(name, nullptr).install(model.linear(name));
        }
    }
};

LayerwiseQuantizer::LayerwiseQuantizer(LlamaModel& model, const QuantSpec& spec,
                                       const QuantizeModelOptions& options, const ProgressSink& progress)
    : impl_(std::make_unique<Impl>(model, spec, options, progress)) {
    spec.validate();
    Impl& q = *impl_;
    for (const auto& name : model.linear_names())
        if (spec.is_target(name)) q.targets.push_back(name);
    if (q.targets.empty()) {
        std::string wanted;
        for (const auto& t : spec.targets)
            wanted += (wanted.empty() ? "" : ", ") + t;
        throw Error("quantize: no linear matches the targets [" + wanted +
                    "] (expected projection names such as q_proj or mlp.down_proj)");
    }
    q.result.spec = spec;
    q.result.spec.variant = spec.resolved_variant();
    q.quantizer = make_quantizer(spec);
    q.needs_inputs = quant_method(spec.method).needs_calibration;
    if (q.needs_inputs && !options.calib_ids.defined())
        throw Error("quantize: method \"" + spec.method +
                    "\" needs calibration windows (its quantizer reads each linear's inputs)");
    if (options.calib_ids.defined()) {
        const auto& ids = options.calib_ids;
        if (ids.dim() != 2 || ids.scalar_type() != torch::kInt64)
            throw Error("quantize: calibration windows must be an (N, T) int64 tensor, found " +
                        std::to_string(ids.dim()) + "-D " + std::string(ids.dtype().name()));
        q.result.calib_windows = ids.size(0);
        q.result.calib_tokens = ids.numel();
    }
    q.t_start = now_s();
    q.report(q.targets.front());
}

LayerwiseQuantizer::~LayerwiseQuantizer() = default;

bool LayerwiseQuantizer::calibrated() const {
    return impl_->options.calib_ids.defined();
}

torch::Tensor LayerwiseQuantizer::quantize_layer(int64_t index, const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    Impl& q = *impl_;
    torch::Tensor out;
    if (x.defined()) {
        out = q.model.forward_layer(
            index, x, [&q](const std::string& name, const torch::Tensor& input) { q.observe(name, input); });
        q.flush(std::numeric_limits<int64_t>::max()); // the layer has used every FP weight
    }
    q.process_unseen(index); // a target the forward never reached (none in Llama)
    return out;
}

ModelQuantResult LayerwiseQuantizer::finish() {
    impl_->result.seconds = now_s() - impl_->t_start;
    return std::move(impl_->result);
}

ModelQuantResult quantize_model(LlamaModel& model, const QuantSpec& spec, const QuantizeModelOptions& options,
                                const ProgressSink& progress) {
    LayerwiseQuantizer quantizer(model, spec, options, progress);
    torch::NoGradGuard no_grad;
    torch::Tensor x = options.calib_ids.defined() ? model.embed(options.calib_ids) : torch::Tensor();
    for (int64_t i = 0; i < model.config().num_hidden_layers; ++i)
        x = quantizer.quantize_layer(i, x);
    return quantizer.finish();
}

} // namespace rilq
