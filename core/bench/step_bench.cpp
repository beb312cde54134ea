#include "core/bench/step_bench.h"
#include "core/bench/bench_shape.h"
#include "core/bench/cpu_clock.h"

#include "core/lora/lora_set.h"
#include "core/model/llama_model.h"
#include "core/rilq/compensation.h"
#include "core/rilq/model_objective.h"
#include "core/rilq/trainer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include <malloc.h>

namespace rilq {

namespace {

using Clock = std::chrono::steady_clock;

// Bytes the process's heap holds now (glibc: small blocks in arenas plus large mmap'd blocks; torch's
// CPU allocator does not cache, so a freed tensor leaves this count at once).
double heap_live_bytes() {
    const struct mallinfo2 m = ::mallinfo2();
    return static_cast<double>(m.uordblks) + static_cast<double>(m.hblkhd);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double gemm_gflops(int64_t n) {
    auto a = torch::randn({n, n}), b = torch::randn({n, n});
    (void)torch::mm(a, b);
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
        const auto t0 = Clock::now();
        (void)torch::mm(a, b).sum().item<float>();
        best = std::min(best, seconds_since(t0));
    }
    return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best / 1e9;
}

// FLOPs per token (2 per multiply-add). Attention counts the causal half (scores and values
// over (T + 1) / 2 keys on average), like the eval benchmark.
double forward_flops_per_token(const LlamaConfig& c, int64_t seqlen) {
    const double C = static_cast<double>(c.hidden_size), F = static_cast<double>(c.intermediate_size);
    const double QD = static_cast<double>(c.q_dim()), KVD = static_cast<double>(c.kv_dim());
    const double linears = C * QD + 2.0 * C * KVD + QD * C + 3.0 * C * F;
    const double attention = 2.0 * QD * (static_cast<double>(seqlen) + 1.0) / 2.0;
    return 2.0 * (static_cast<double>(c.num_hidden_layers) * (linears + attention) +
                  C * static_cast<double>(c.vocab_size));
}

// LoRA per token: forward 2 r (in + out); backward to the input the same; grads of A and B the same.
double lora_flops_per_token(const LlamaConfig& c, int64_t r) {
    const double C = static_cast<double>(c.hidden_size), F = static_cast<double>(c.intermediate_size);
    const double QD = static_cast<double>(c.q_dim()), KVD = static_cast<double>(c.kv_dim());
    const double in_plus_out = (C + QD) + 2.0 * (C + KVD) + (QD + C) + 2.0 * (C + F) + (F + C);
    return 3.0 * 2.0 * static_cast<double>(r) * in_plus_out * static_cast<double>(c.num_hidden_layers);
}

} // namespace

StepBenchFigures run_step_bench(const StepBenchOptions& o) {
    const LlamaConfig config = bench_llama_config(o, std::max<int64_t>(2048, o.seqlen));

    StepBenchFigures f;
    f.gemm_gflops = gemm_gflops(1024);

    // Teacher and student: the student stands for a fake-quantized model (weights already
    // dequantized once, as in a real run: no per-step quantization).
    ModelOptions mo;
    if (o.dtype == "bf16") mo.compute_dtype = torch::kBFloat16;
    else if (o.dtype != "fp32") throw Error("bench step: dtype must be fp32 or bf16, found \"" + o.dtype + "\"");
    auto teacher = std::make_shared<LlamaModel>(LlamaModel::random(config, o.seed, mo));
    auto student = LlamaModel::random(config, o.seed + 1, mo);
    auto gen = at::detail::createCPUGenerator(o.seed + 2);
    const auto windows = torch::randint(0, o.vocab, {o.batch * 2, o.seqlen}, gen, torch::kLong);
    const auto train_ids = windows.slice(0, 0, o.batch), val_ids = windows.slice(0, o.batch, 2 * o.batch);

    TrainConfig tc;
    tc.lora.r = o.rank;
    tc.lora.alpha = 16.0;
    tc.lora.iec = o.iec;
    tc.approx_lr = 1e-4;
    tc.approx_batch_size = o.batch;
    tc.gradient_accumulation_steps = 1;   // every micro-step is a full step: forward, backward, update
    tc.approx_total_steps = o.warmup_steps + o.steps;
    tc.approx_eval_steps = tc.approx_total_steps + 1;   // only the (untimed) validation at update 0
    tc.approx_early_stop = false;
    auto targets = cache_teacher_targets(*teacher, train_ids, val_ids, tc);
    teacher.reset();

    auto adapters = attach_lora(student, tc.lora);
    f.trainable_parameters = adapters.parameter_count();
    ModelObjective objective(student, std::move(targets.train), std::move(targets.val), {0.5, 0.5},
                             o.activation_checkpointing);
    {
        // One training forward's graph, before any backward frees it.
        const double before = heap_live_bytes();
        const auto parts = objective.loss(DataSplit::Train, train_ids, 0);
        f.graph_mib = (heap_live_bytes() - before) / (1024.0 * 1024.0);
    }
    Clock::time_point timed_start;
    double cpu_start = 0.0, cpu_end = 0.0;
    double last_loss = 0.0;
    TrainerOptions opts;
    opts.on_event = [&](const TrainEvent& e) {
        if (e.kind != TrainEventKind::Update) return;
        if (e.update_step == o.warmup_steps) {
            timed_start = Clock::now();
            cpu_start = process_cpu_seconds();
        }
        cpu_end = process_cpu_seconds();
        last_loss = e.t_loss;
    };
    Trainer trainer(tc, adapters, objective, train_ids, val_ids, opts);
    const auto result = trainer.run();
    const double train_s = seconds_since(timed_start);
    (void)result;
    f.train_cpu_ms_per_step = 1e3 * (cpu_end - cpu_start) / static_cast<double>(o.steps);
    const double tokens = static_cast<double>(o.steps * o.batch * o.seqlen);
    f.train_tokens_per_s = tokens / train_s;
    f.train_step_ms = 1e3 * train_s / static_cast<double>(o.steps);
    f.train_flops_per_token = 2.0 * forward_flops_per_token(config, o.seqlen) + lora_flops_per_token(config, o.rank);
    f.train_gflops = f.train_flops_per_token * f.train_tokens_per_s / 1e9;
    f.final_loss = last_loss;

    // Eval: the adapted student's forward (logits), no grad, one window at a time.
    {
        torch::NoGradGuard no_grad;
        const auto eval_ids = torch::randint(0, o.vocab, {o.eval_windows, o.seqlen}, gen, torch::kLong);
        (void)student.logits(eval_ids.slice(0, 0, 1));
        const auto t0 = Clock::now();
        const double c0 = process_cpu_seconds();
        for (int64_t i = 0; i < o.eval_windows; ++i) (void)student.logits(eval_ids.slice(0, i, i + 1));
        const double eval_s = seconds_since(t0);
        f.eval_cpu_ms_per_window = 1e3 * (process_cpu_seconds() - c0) / static_cast<double>(o.eval_windows);
        f.eval_tokens_per_s = static_cast<double>(o.eval_windows * o.seqlen) / eval_s;
        f.eval_flops_per_token = forward_flops_per_token(config, o.seqlen) + lora_flops_per_token(config, o.rank) / 3.0;
        f.eval_gflops = f.eval_flops_per_token * f.eval_tokens_per_s / 1e9;
    }
    return f;
}

} // namespace rilq
