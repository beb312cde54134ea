#include "core/bench/memory_bench.h"
#include "core/io/safetensors.h"

#include "core/eval/perplexity.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/random_checkpoint.h"
#include "core/lora/lora_set.h"
#include "core/model/packed_linear.h"
#include "core/rilq/compensation.h"
#include "core/run/streamed_preparation.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <sys/resource.h> // getrusage
#include <unistd.h>       // sysconf

namespace fs = std::filesystem;

namespace rilq {

namespace {

using MemoryBenchClock = std::chrono::steady_clock;

double memory_bench_seconds_since(MemoryBenchClock::time_point t0) {
    return std::chrono::duration<double>(MemoryBenchClock::now() - t0).count();
}

int64_t memory_bench_bytes_of(const torch::Tensor& t) {
    return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

MemoryBenchStage memory_bench_stage(const std::string& name, double seconds) {
    return {name, seconds, current_rss_bytes(), peak_rss_bytes()};
}

// The random model at options.model_dir: reused when its config has the shape, made otherwise.
void ensure_memory_bench_model(const MemoryBenchOptions& o, const LlamaConfig& config,
                               MemoryBenchFigures& out, const ProgressSink& progress) {
    if (is_hf_model_dir(o.model_dir)) {
        const LlamaConfig found = HfCheckpoint(o.model_dir).config();
        if (found.hidden_size != config.hidden_size || found.num_hidden_layers != config.num_hidden_layers ||
            found.num_attention_heads != config.num_attention_heads ||
            found.num_key_value_heads != config.num_key_value_heads ||
            found.intermediate_size != config.intermediate_size || found.vocab_size != config.vocab_size)
            throw Error(o.model_dir + ": holds a model of another shape than \"" + o.shape.name +
                        "\"; pass another --model-dir (nothing there is replaced)");
        return;
    }
    RandomCheckpointOptions make;
    make.seed = o.seed;
    make.tokenizer_file = o.tokenizer_file;
    const RandomCheckpointInfo info = write_random_checkpoint(config, o.model_dir, make, progress);
    out.made_model = true;
    out.make_seconds = info.seconds;
}

torch::Tensor memory_bench_windows(int64_t n, int64_t seqlen, int64_t vocab, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    return torch::randint(0, vocab, {n, seqlen}, gen, torch::kLong);
}

} // namespace

std::vector<QuantSpec> memory_bench_quantizers() {
    QuantSpec rtn;
    rtn.method = "rtn";
    rtn.bits = 2;
    rtn.group_size = 64;
    rtn.storage = QuantStorage::Packed;
    QuantSpec icq = rtn;
    icq.method = "icq-nf";
    return {rtn, icq};
}

int64_t current_rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    int64_t size_pages = 0, resident_pages = 0;
    statm >> size_pages >> resident_pages;
    return resident_pages * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

int64_t peak_rss_bytes() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<int64_t>(usage.ru_maxrss) * 1024; // Linux reports kilobytes
}

MemoryBenchFigures run_memory_bench(const MemoryBenchOptions& o, const ProgressSink& progress) {
    if (o.dtype != "fp32" && o.dtype != "bf16")
        throw Error("bench memory: dtype \"" + o.dtype + "\" (expected fp32 or bf16)");
    if (o.model_dir.empty()) throw Error("bench memory: no model folder given");
    if (o.quantizers.empty()) throw Error("bench memory: no quantizer given");
    for (const int64_t n : {o.seqlen, o.target_windows, o.val_windows, o.ppl_windows})
        if (n < 1)
            throw Error("bench memory: seqlen and window counts must be >= 1, found " + std::to_string(n));
    MemoryBenchFigures out;
    out.model_dir = o.model_dir;
    const LlamaConfig config = llama_shape_config(o.shape);
    if (o.seqlen > config.max_position_embeddings)
        throw Error("bench memory: seqlen " + std::to_string(o.seqlen) + " exceeds the shape's " +
                    std::to_string(config.max_position_embeddings) + " positions");
    ensure_memory_bench_model(o, config, out, progress);
    for (const auto& [name, shape] : config.hf_tensor_shapes()) {
        int64_t numel = 1;
        for (int64_t d : shape)
            numel *= d;
        out.parameters += numel;
        if (name.find("_proj.") != std::string::npos) out.linear_parameters += numel;
    }

    ModelOptions model_options;
    model_options.compute_dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    const auto train_ids = memory_bench_windows(o.target_windows, o.seqlen, config.vocab_size, o.seed + 1);
    const auto val_ids = memory_bench_windows(o.val_windows, o.seqlen, config.vocab_size, o.seed + 2);
    const auto ppl_ids = memory_bench_windows(o.ppl_windows, o.seqlen, config.vocab_size, o.seed + 3);

    TrainConfig train;
    train.lora.r = o.rank;
    train.approx_total_steps = o.micro_steps;
    train.gradient_accumulation_steps = 1; // every micro-step updates: Adam's state is allocated
    train.approx_batch_size = 1;
    train.approx_early_stop = false;
    train.restore_best = false;
    train.approx_eval_steps = o.micro_steps + 1;
    train.activation_checkpointing = o.activation_checkpointing;

    std::optional<CachedTargets> targets;
    double fp_ppl = 0.0;
    for (const QuantSpec& spec_in : o.quantizers) {
        MemoryBenchRun run;
        QuantSpec spec = spec_in;
        spec.storage = QuantStorage::Packed;
        run.quantizer = spec.describe();

        // The FP side (targets, FP perplexity) once: the later quantizers reuse it.
        StreamedPreparationPlan plan;
        plan.quant = spec;
        // No SVD of each linear's error (a run's layer stats): in fp64 it costs ~15 s per 7B linear,
        // about an hour for Llama-2-7B's 224, and it is not part of preparing the student.
        plan.quant_options.metrics.spectrum = false;
        if (!targets) {
            plan.train_ids = train_ids;
            plan.val_ids = val_ids;
            plan.target_batch = train.approx_batch_size;
            plan.target_type = train.a_type;
            plan.target_policy.memory_budget_bytes = train.target_memory_budget_bytes;
            plan.fp_ppl_windows = {ppl_ids};
        }
        auto t0 = MemoryBenchClock::now();
        StreamedPreparation prep = prepare_streamed(o.model_dir, model_options, plan, progress);
        const double prep_s = memory_bench_seconds_since(t0);
        run.stages.push_back(memory_bench_stage("streamed preparation", prep_s));
        run.stages.push_back({"  load layers (bf16 -> " + o.dtype + ")", prep.seconds.load, 0, 0});
        if (prep.targets) {
            run.stages.push_back({"  teacher targets", prep.seconds.targets, 0, 0});
            run.stages.push_back({"  FP perplexity", prep.seconds.fp_ppl, 0, 0});
            targets = std::move(prep.targets);
            fp_ppl = prep.fp_ppl.front().ppl;
        }
        run.stages.push_back({"  quantize (" + spec.method + ")", prep.seconds.quantize, 0, 0});
        run.fp_ppl = fp_ppl;
        LlamaModel& student = *prep.student;

        t0 = MemoryBenchClock::now();
        run.quantized_ppl = evaluate_perplexity(student, ppl_ids, progress).ppl;
        run.stages.push_back(memory_bench_stage("quantized perplexity", memory_bench_seconds_since(t0)));

        // micro_steps 0: preparation and perplexity only (the training peak is then left out).
        CompensationResult trained;
        if (o.micro_steps > 0) {
            TrainerOptions trainer;
            // Validation is skipped (a constant loss): the bench times the micro-steps alone.
            trainer.validate_override = [](int64_t) { return ValidationLosses{0.0, 0.0, 0.0}; };
            double last_elapsed = 0.0;
            trainer.on_event = [&](const TrainEvent& e) {
                if (e.kind != TrainEventKind::Update) return;
                run.micro_step_seconds.push_back(e.elapsed_s - last_elapsed);
                last_elapsed = e.elapsed_s;
            };
            t0 = MemoryBenchClock::now();
            trained = train_on_targets(student, *targets, train_ids, val_ids, train, trainer);
            run.stages.push_back(memory_bench_stage(std::to_string(o.micro_steps) + " RILQ micro-steps (r" +
                                                        std::to_string(o.rank) + ")",
                                                    memory_bench_seconds_since(t0)));
            if (trained.train.status != TrainStatus::Finished)
                throw Error("bench memory: training ended " + to_string(trained.train.status) + ": " +
                            trained.train.message);
        }

        // What stayed in memory, by part (the rest of the peak: activations, allocator, runtime).
        int64_t linears = 0, rest_of_model = 0, lora = 0;
        for (const auto& name : student.linear_names())
            linears += student.linear(name).weight_bytes();
        // A table read in place from the checkpoint holds only the looked-up rows' pages.
        const bool embedding_in_place = is_file_mapped(student.embed_tokens());
        rest_of_model = (embedding_in_place ? 0 : memory_bench_bytes_of(student.embed_tokens())) +
                        memory_bench_bytes_of(student.final_norm());
        if (!student.config().tie_word_embeddings)
            rest_of_model += memory_bench_bytes_of(student.lm_head_weight());
        for (const DecoderLayer& l : student.layers())
            rest_of_model +=
                memory_bench_bytes_of(l.input_layernorm) + memory_bench_bytes_of(l.post_attention_layernorm);
        for (const auto& p : trained.adapters.parameters())
            lora += memory_bench_bytes_of(p);
        run.lora_parameters = trained.adapters.parameter_count();
        run.parts = {
            {"packed student linears", linears},
            {embedding_in_place ? "norms, head (" + o.dtype + "); embedding mapped"
                                : "embedding, norms, head (" + o.dtype + ")",
             rest_of_model},
            {"LoRA weights + grads + Adam (2 states)", 4 * lora},
            {"teacher targets", targets->train.bytes() + targets->val.bytes()},
            {"dequantization scratch", packed_scratch_bytes()},
        };
        // The preparation holds one FP layer at a time; the micro-steps hold none. Which of the two
        // set this run's peak decides whether the layer is part of it.
        const bool peak_in_training =
            o.micro_steps > 0 && run.stages.back().peak_bytes > run.stages.front().peak_bytes;
        if (!peak_in_training) run.parts.push_back({"one FP layer (largest)", prep.largest_layer_bytes});
        int64_t known = 0;
        for (const auto& part : run.parts)
            known += part.bytes;
        run.parts.push_back({"activations, allocator, runtime (rest of the peak)", peak_rss_bytes() - known});
        if (!trained.adapters.empty()) detach_lora(student, trained.adapters);
        out.runs.push_back(std::move(run));
    }
    out.peak_rss_bytes = peak_rss_bytes();
    return out;
}

} // namespace rilq
