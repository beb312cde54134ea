#include "core/bench/packed_bench.h"

#include "core/bench/bench_shape.h"
#include "core/io/model_loader.h"
#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/model/packed_linear.h"
#include "core/quant/quantize_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace rilq {

namespace {

using PackedBenchClock = std::chrono::steady_clock;

double packed_bench_ms_since(PackedBenchClock::time_point t0) {
    return std::chrono::duration<double, std::milli>(PackedBenchClock::now() - t0).count();
}

int64_t packed_bench_bytes_of(const torch::Tensor& t) {
    return t.numel() * static_cast<int64_t>(t.element_size());
}

LlamaModel packed_bench_model(const PackedBenchOptions& o, std::string& shape) {
    if (!o.model.empty()) {
        shape = o.model;
        return load_model(o.model);
    }
    const LlamaConfig c = bench_llama_config(o, std::max<int64_t>(o.seqlen, 2048));
    shape = "random dim " + std::to_string(o.hidden) + ", " + std::to_string(o.layers) + " layers, ffn " +
            std::to_string(o.intermediate) + ", vocab " + std::to_string(o.vocab);
    return LlamaModel::random(c, 42);
}

// Best of `repeats` timings of f after one warm-up call.
template <class F> double packed_bench_best_ms(int64_t repeats, F&& f) {
    f();
    double best = 1e300;
    for (int64_t i = 0; i < repeats; ++i) {
        const auto t0 = PackedBenchClock::now();
        f();
        best = std::min(best, packed_bench_ms_since(t0));
    }
    return best;
}

struct PackedSideRun {
    PackedBenchSide figures;
    torch::Tensor logits;
    std::vector<torch::Tensor> gradients;
};

PackedSideRun run_packed_side(const LlamaModel& fp, const PackedBenchOptions& o, QuantStorage storage,
                              const torch::Tensor& ids) {
    PackedSideRun run;
    LlamaModel student = fp.clone();
    QuantSpec spec = o.spec;
    spec.storage = storage;
    quantize_model(student, spec);
    PackedBenchSide& f = run.figures;
    for (const auto& name : student.linear_names())
        f.linear_bytes += student.linear(name).weight_bytes();
    f.model_bytes = f.linear_bytes + packed_bench_bytes_of(student.embed_tokens()) +
                    packed_bench_bytes_of(student.final_norm());
    if (!student.config().tie_word_embeddings)
        f.model_bytes += packed_bench_bytes_of(student.lm_head_weight());
    for (const DecoderLayer& l : student.layers())
        f.model_bytes +=
            packed_bench_bytes_of(l.input_layernorm) + packed_bench_bytes_of(l.post_attention_layernorm);

    {
        torch::NoGradGuard no_grad;
        f.forward_ms = packed_bench_best_ms(o.repeats, [&] { run.logits = student.logits(ids); });
    }
    LoraConfig lora;
    lora.r = o.rank;
    lora.alpha = 16.0;
    LoraSet set = attach_lora(student, lora);
    const int64_t T = ids.size(1);
    f.train_ms = packed_bench_best_ms(o.repeats, [&] {
        for (const auto& p : set.parameters())
            if (p.grad().defined()) p.mutable_grad().zero_();
        const auto logits = student.logits(ids);
        const int64_t V = logits.size(-1);
        torch::nn::functional::cross_entropy(logits.slice(1, 0, T - 1).reshape({-1, V}),
                                             ids.slice(1, 1, T).reshape({-1}))
            .backward();
    });
    for (const auto& p : set.parameters())
        run.gradients.push_back(p.grad().clone());
    f.scratch_bytes = storage == QuantStorage::Packed ? packed_scratch_bytes() : 0;
    return run;
}

} // namespace

PackedBenchFigures run_packed_bench(const PackedBenchOptions& o) {
    PackedBenchFigures out;
    const LlamaModel fp = packed_bench_model(o, out.shape);
    for (const auto& name : fp.linear_names())
        if (o.spec.is_target(name))
            out.linear_parameters += fp.linear(name).in_features() * fp.linear(name).out_features();
    auto gen = at::detail::createCPUGenerator(1);
    const auto ids = torch::randint(0, fp.config().vocab_size, {1, o.seqlen}, gen, torch::kLong);
    // One student at a time, so the dense one is gone before the packed one is measured.
    PackedSideRun dense = run_packed_side(fp, o, QuantStorage::Dense, ids);
    out.dense = dense.figures;
    const PackedSideRun packed = run_packed_side(fp, o, QuantStorage::Packed, ids);
    out.packed = packed.figures;
    out.logits_identical = torch::equal(dense.logits, packed.logits);
    out.gradients_identical = dense.gradients.size() == packed.gradients.size();
    for (size_t i = 0; out.gradients_identical && i < dense.gradients.size(); ++i)
        out.gradients_identical = torch::equal(dense.gradients[i], packed.gradients[i]);
    return out;
}

} // namespace rilq
