#include "core/model/sequential_pass.h"

#include "core/model/llama_model.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>

namespace rilq {

namespace {

// Thrown by the observer once the stage's input is seen: the rest of the layer is not needed
// for this stage's pass (the layer's outputs are computed once, after its last stage).
struct StageInputSeen {};

// "k_proj,v_proj,q_proj"
std::string stage_label(const std::vector<std::string>& stage) {
    std::string s;
    for (const auto& p : stage) s += (s.empty() ? "" : ",") + p.substr(p.find('.') + 1);
    return s;
}

double pass_clock_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

const std::vector<std::vector<std::string>>& true_sequential_stages() {
    static const std::vector<std::vector<std::string>> stages = {
        {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"},
        {"self_attn.o_proj"},
        {"mlp.up_proj", "mlp.gate_proj"},
        {"mlp.down_proj"},
    };
    return stages;
}

void run_sequential_pass(const LlamaModel& model, const torch::Tensor& ids, const SequentialPassCallbacks& callbacks,
                         const ProgressSink& progress) {
    if (!ids.defined() || ids.dim() != 2 || ids.scalar_type() != torch::kInt64 || ids.size(0) == 0)
        throw Error("sequential pass: calibration windows must be a non-empty (N, T) int64 tensor");
    torch::NoGradGuard no_grad;
    const int64_t N = ids.size(0);
    const auto& stages = true_sequential_stages();
    const size_t layers = model.layers().size();
    const int64_t total = static_cast<int64_t>(layers * stages.size());
    const double start = pass_clock_s();

    std::vector<torch::Tensor> hidden; // N x (1, T, C)
    hidden.reserve(static_cast<size_t>(N));
    for (int64_t j = 0; j < N; ++j)
        hidden.push_back(model.embed(ids.slice(0, j, j + 1)));

    int64_t passes = 0;
    for (size_t layer = 0; layer < layers; ++layer) {
        const std::string prefix = "layers." + std::to_string(layer) + ".";
        for (size_t stage = 0; stage < stages.size(); ++stage, ++passes) {
            ProgressInfo info;
            info.stage = callbacks.label + " layers." + std::to_string(layer) + " [" + stage_label(stages[stage]) + "]";
            info.done = passes;
            info.total = total;
            info.unit = "stages";
            info.elapsed_s = pass_clock_s() - start;
            if (passes > 0) info.eta_s = info.elapsed_s / static_cast<double>(passes) * static_cast<double>(total - passes);
            progress.report(info);
            if (callbacks.wanted && !callbacks.wanted(layer, stage)) continue;
            // The first linear of the stage that the forward reaches; the others get the same input.
            const std::string first = prefix + (stage == 0 ? "self_attn.q_proj" : stage == 2 ? "mlp.gate_proj"
                                                                                          : stages[stage].front());
            for (int64_t j = 0; j < N; ++j) {
                progress.check_cancel();
                const LinearInputObserver observer = [&](const std::string& name, const torch::Tensor& x) {
                    if (name != first) return;
                    if (callbacks.observe) callbacks.observe(layer, stage, x);
                    throw StageInputSeen{};
                };
                try {
                    model.decoder_layer(layer, hidden[static_cast<size_t>(j)], observer);
                } catch (const StageInputSeen&) {
                }
            }
            if (callbacks.finish_stage) callbacks.finish_stage(layer, stage);
        }
        for (int64_t j = 0; j < N; ++j) {
            progress.check_cancel();
            auto& h = hidden[static_cast<size_t>(j)];
            h = model.decoder_layer(layer, h);
        }
    }
    ProgressInfo done;
    done.stage = callbacks.label + " done";
    done.done = total;
    done.total = total;
    done.unit = "stages";
    done.elapsed_s = pass_clock_s() - start;
    progress.report(done);
}

} // namespace rilq
