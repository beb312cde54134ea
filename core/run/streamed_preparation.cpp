#include "core/run/streamed_preparation.h"

#include "core/io/layer_stream.h"
#include "core/util/error.h"
#include "core/util/heap_trim.h"

#include <torch/torch.h>

#include <chrono>

namespace rilq {

namespace {

using StreamClock = std::chrono::steady_clock;

double stream_seconds_since(StreamClock::time_point t0) {
    return std::chrono::duration<double>(StreamClock::now() - t0).count();
}

// Windows on their way through the layers: the hidden state of each batch, batched as the
// whole-model path batches them.
struct WindowStream {
    torch::Tensor ids; // (N, T)
    int64_t batch = 1;
    std::vector<torch::Tensor> hidden; // one (b, T, C) per batch

    WindowStream(const LlamaModel& model, torch::Tensor windows, int64_t batch_windows)
        : ids(std::move(windows)), batch(batch_windows) {
        for (int64_t b = 0; b < ids.size(0); b += batch)
            hidden.push_back(model.embed(ids.slice(0, b, std::min(ids.size(0), b + batch))));
    }
    void through_layer(const LlamaModel& model, int64_t index, const ProgressSink& progress) {
        for (auto& x : hidden) {
            progress.check_cancel();
            x = model.forward_layer(index, x);
        }
    }
    torch::Tensor batch_ids(size_t i) const {
        const int64_t b = static_cast<int64_t>(i) * batch;
        return ids.slice(0, b, std::min(ids.size(0), b + batch));
    }
};

TeacherTargets finish_targets(const LlamaModel& model, const WindowStream& stream,
                              const StreamedPreparationPlan& plan) {
    const bool hidden = plan.target_type == TargetType::Hidden;
    const auto& cfg = model.config();
    TeacherTargetWriter writer(stream.ids.size(0), stream.ids.size(1),
                               hidden ? cfg.hidden_size : cfg.vocab_size, model.options().compute_dtype,
                               plan.target_type, plan.target_policy);
    for (const auto& x : stream.hidden) {
        const ForwardResult r = model.forward_head(x, !hidden, hidden);
        writer.append(hidden ? r.hidden : r.logits);
    }
    return writer.finish();
}

PerplexityResult finish_perplexity(const LlamaModel& model, const WindowStream& stream, double seconds) {
    double nll_sum = 0.0; // as evaluate_perplexity sums it: window by window, in double
    for (size_t i = 0; i < stream.hidden.size(); ++i) {
        const auto logits = model.forward_head(stream.hidden[i], true, false).logits; // (b, T, V)
        nll_sum += window_mean_nll(logits, stream.batch_ids(i)).to(torch::kFloat64).sum().item<double>();
    }
    return perplexity_result(nll_sum, stream.ids.size(0), stream.ids.size(1), seconds);
}

void check_windows(const torch::Tensor& ids, const std::string& what, bool may_be_empty = false) {
    if (!ids.defined() || ids.dim() != 2 || (ids.size(0) == 0 && !may_be_empty) ||
        ids.scalar_type() != torch::kInt64)
        throw Error("streamed preparation: " + what + " must be a" + (may_be_empty ? "n" : " non-empty") +
                    " (N, T) int64 tensor");
}

} // namespace

StreamedPreparation prepare_streamed(const std::string& model_dir, const ModelOptions& options,
                                     const StreamedPreparationPlan& plan, const ProgressSink& progress) {
    const bool with_targets = plan.train_ids.defined();
    if (with_targets) {
        check_windows(plan.train_ids, "the training windows");
        check_windows(plan.val_ids, "the validation windows", true); // calib_val_ratio 0: none
        if (plan.target_batch < 1)
            throw Error("streamed preparation: the target batch must be >= 1, found " +
                        std::to_string(plan.target_batch));
    }
    for (const auto& windows : plan.fp_ppl_windows) {
        check_windows(windows, "perplexity windows");
        if (windows.size(1) < 2) throw Error("perplexity: windows need at least 2 tokens");
    }
    torch::NoGradGuard no_grad;
    StreamedPreparation out;
    auto t0 = StreamClock::now();
    const LayerStream source(model_dir, options);
    out.student = std::make_unique<LlamaModel>(source.load_skeleton());
    LlamaModel& model = *out.student;
    out.seconds.load += stream_seconds_since(t0);

    t0 = StreamClock::now();
    std::vector<WindowStream> target_streams;
    if (with_targets) {
        target_streams.emplace_back(model, plan.train_ids, plan.target_batch);
        target_streams.emplace_back(model, plan.val_ids, plan.target_batch);
    }
    out.seconds.targets += stream_seconds_since(t0);
    t0 = StreamClock::now();
    std::vector<WindowStream> ppl_streams;
    for (const auto& windows : plan.fp_ppl_windows)
        ppl_streams.emplace_back(model, windows, 1);
    std::vector<double> ppl_seconds(ppl_streams.size(), stream_seconds_since(t0));
    out.seconds.fp_ppl += ppl_seconds.empty() ? 0.0 : ppl_seconds.front();

    t0 = StreamClock::now();
    LayerwiseQuantizer quantizer(model, plan.quant, plan.quant_options, progress);
    torch::Tensor calib =
        quantizer.calibrated() ? model.embed(plan.quant_options.calib_ids) : torch::Tensor();
    out.seconds.quantize += stream_seconds_since(t0);

    const int64_t L = model.config().num_hidden_layers;
    const auto start = StreamClock::now();
    for (int64_t i = 0; i < L; ++i) {
        progress.check_cancel();
        t0 = StreamClock::now();
        out.largest_layer_bytes = std::max(out.largest_layer_bytes, source.load_layer(model, i));
        out.seconds.load += stream_seconds_since(t0);

        t0 = StreamClock::now();
        for (auto& stream : target_streams)
            stream.through_layer(model, i, progress);
        out.seconds.targets += stream_seconds_since(t0);
        for (size_t s = 0; s < ppl_streams.size(); ++s) {
            t0 = StreamClock::now();
            ppl_streams[s].through_layer(model, i, progress);
            ppl_seconds[s] += stream_seconds_since(t0);
            out.seconds.fp_ppl += stream_seconds_since(t0);
        }
        // Last: quantizing replaces the layer's FP weights, which the streams above needed.
        t0 = StreamClock::now();
        calib = quantizer.quantize_layer(i, calib);
        out.seconds.quantize += stream_seconds_since(t0);
        release_free_heap(); // the FP layer's and the quantizer's freed blocks around the packed codes

        const double elapsed = stream_seconds_since(start);
        progress.report({"streamed preparation: layer " + std::to_string(i + 1) + " of " + std::to_string(L),
                         i + 1, L, "layers", elapsed,
                         elapsed / static_cast<double>(i + 1) * static_cast<double>(L - i - 1)});
    }
    out.quant = quantizer.finish();

    t0 = StreamClock::now();
    if (with_targets) {
        CachedTargets targets;
        targets.train = finish_targets(model, target_streams[0], plan);
        targets.val = finish_targets(model, target_streams[1], plan);
        out.targets = std::move(targets);
    }
    target_streams.clear();
    out.seconds.targets += stream_seconds_since(t0);
    for (size_t s = 0; s < ppl_streams.size(); ++s) {
        t0 = StreamClock::now();
        out.fp_ppl.push_back(
            finish_perplexity(model, ppl_streams[s], ppl_seconds[s] + stream_seconds_since(t0)));
        out.seconds.fp_ppl += stream_seconds_since(t0);
    }
    ppl_streams.clear();
    release_free_heap();
    return out;
}

} // namespace rilq
