// Layer streaming (issue 15): a random checkpoint written shard by shard loads with the normal
// loader and holds exactly the values random_checkpoint_tensor() gives; the shape presets have
// the published models' parameter counts; the layer-streamed preparation (targets of both
// types, FP perplexity, the packed student of weight-only and calibrated quantizers) equals the
// whole-model path bit for bit in fp32 on a random GQA model in bf16 safetensors and on
// stories260K; `rilq bench memory`'s pipeline runs end to end on a tiny shape; bad input is named.
#include <QtTest/QtTest>

#include "tests/support/drawn_lora.h"
#include "tests/support/stories_experiment.h"
#include "tests/support/test_errors.h"
#include "tests/support/test_main.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_llama.h"

#include "core/bench/bench_shape.h"
#include "core/bench/memory_bench.h"
#include "core/eval/perplexity.h"
#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c.h"
#include "core/io/model_loader.h"
#include "core/io/random_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/llama_model.h"
#include "core/quant/quantize_model.h"
#include "core/rilq/compensation.h"
#include "core/run/run_preparation.h"
#include "core/run/layer_stats.h"
#include "core/run/runner.h"
#include "core/run/streamed_preparation.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

int64_t stream_test_numel(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

// A random GQA model (4 query heads over 2 KV heads) as bf16 safetensors in several shards.
std::string stream_test_gqa_dir() {
    const std::string dir = test::make_temp_dir("stream-gqa") + "/model";
    RandomCheckpointOptions options;
    options.seed = 5;
    options.max_shard_bytes = 40000;
    write_random_checkpoint(llama_shape_config(parse_llama_shape("d64-l3-h4-kv2-f128-v96")), dir, options);
    return dir;
}

struct WholeModelPath {
    CachedTargets targets;
    PerplexityResult fp_ppl;
    LlamaModel student;
    ModelQuantResult quant;
};

// What run_preparation's whole-model path does: load, FP perplexity, targets, quantize in place.
WholeModelPath stream_test_whole_path(const std::string& dir, const StreamedPreparationPlan& plan,
                                      const ModelOptions& options) {
    WholeModelPath w;
    w.student = load_model(dir, options);
    w.fp_ppl = evaluate_perplexity(w.student, plan.fp_ppl_windows.front());
    TrainConfig train;
    train.a_type = plan.target_type;
    train.approx_batch_size = plan.target_batch;
    train.target_memory_budget_bytes = plan.target_policy.memory_budget_bytes;
    w.targets = cache_teacher_targets(w.student, plan.train_ids, plan.val_ids, train);
    w.quant = quantize_model(w.student, plan.quant, plan.quant_options);
    return w;
}

void check_streamed_equals_whole(const std::string& dir, const StreamedPreparationPlan& plan,
                                 const std::string& label, const ModelOptions& options = {}) {
    const WholeModelPath whole = stream_test_whole_path(dir, plan, options);
    const StreamedPreparation streamed = prepare_streamed(dir, options, plan);
    const char* what = label.c_str();
    QVERIFY2(streamed.targets.has_value(), what);
    QVERIFY2(streamed.targets->train.storage() == whole.targets.train.storage(), what);
    QVERIFY2(torch::equal(streamed.targets->train.all(), whole.targets.train.all()), what);
    QVERIFY2(torch::equal(streamed.targets->val.all(), whole.targets.val.all()), what);
    QCOMPARE(streamed.fp_ppl.size(), size_t{1});
    QVERIFY2(streamed.fp_ppl[0].mean_nll == whole.fp_ppl.mean_nll, what);
    QVERIFY2(std::isfinite(whole.fp_ppl.mean_nll), what);

    const LlamaModel& s = *streamed.student;
    for (const auto& name : whole.student.linear_names()) {
        const Linear& a = whole.student.linear(name);
        const Linear& b = s.linear(name);
        QVERIFY2((a.packed != nullptr) == (b.packed != nullptr), (label + " " + name).c_str());
        QVERIFY2(a.weight_bytes() == b.weight_bytes(), (label + " " + name).c_str());
        QVERIFY2(torch::equal(a.dense_weight(), b.dense_weight()), (label + " " + name).c_str());
    }
    QCOMPARE(streamed.quant.linears.size(), whole.quant.linears.size());
    for (size_t i = 0; i < whole.quant.linears.size(); ++i) {
        const auto& a = whole.quant.linears[i];
        const auto& b = streamed.quant.linears[i];
        QVERIFY2(a.name == b.name, what);
        QVERIFY2(a.rel_error == b.rel_error, (label + " " + a.name).c_str());
        QVERIFY2(a.has_output_error == b.has_output_error, (label + " " + a.name).c_str());
        QVERIFY2(a.output_rel_error == b.output_rel_error, (label + " " + a.name).c_str());
    }
    QCOMPARE(streamed.quant.calib_windows, whole.quant.calib_windows);
    // The students are the same model: the same quantized perplexity, bit for bit.
    const auto& windows = plan.fp_ppl_windows.front();
    QVERIFY2(evaluate_perplexity(s, windows).mean_nll == evaluate_perplexity(whole.student, windows).mean_nll,
             what);
    QVERIFY2(streamed.largest_layer_bytes > 0, what);
}

StreamedPreparationPlan stream_test_plan(int64_t vocab, int64_t seqlen, const QuantSpec& spec) {
    StreamedPreparationPlan plan;
    plan.train_ids = test::random_windows(5, seqlen, vocab, 11);
    plan.val_ids = test::random_windows(2, seqlen, vocab, 12);
    plan.target_batch = 2; // 5 windows: the last batch is partial, as cache_teacher_targets makes it
    plan.fp_ppl_windows = {test::random_windows(3, seqlen, vocab, 13)};
    plan.quant = spec;
    plan.quant.storage = QuantStorage::Packed;
    plan.quant_options.calib_ids = plan.train_ids.slice(0, 0, 4); // the output-error windows
    return plan;
}

} // namespace

class TestPackedLayerStream : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void shapePresetsHaveThePublishedSizes() {
        // Parameter counts of meta-llama/Llama-2-7b-hf and Meta-Llama-3-8B.
        const std::vector<std::pair<std::string, int64_t>> expected = {{"llama2-7b", 6738415616},
                                                                       {"llama3-8b", 8030261248}};
        for (const auto& [name, count] : expected) {
            int64_t n = 0;
            for (const auto& [tensor, shape] : llama_shape_config(parse_llama_shape(name)).hf_tensor_shapes())
                n += stream_test_numel(shape);
            QCOMPARE(n, count);
        }
        const LlamaShape s = parse_llama_shape("d64-l3-h4-kv2-f128-v96");
        QCOMPARE(s.hidden, int64_t{64});
        QCOMPARE(s.kv_heads, int64_t{2});
        QCOMPARE(s.vocab, int64_t{96});
        test::expect_error([] { parse_llama_shape("llama2-70b"); },
                           {"\"llama2-70b\"", "llama2-7b", "d<hidden>"});
        test::expect_error([] { parse_llama_shape("d64-l0-h4-kv2-f128-v96"); }, {"at least 1"});
        test::expect_error([] { parse_llama_shape("d64-l2-h4-kv3-f128-v96"); }, {"d64-l2-h4-kv3-f128-v96"});
    }

    void randomCheckpointRoundTrip() {
        const std::string root = test::make_temp_dir("stream-random");
        const std::string dir = root + "/model";
        const std::string tokenizer = root + "/tokenizer.model";
        test::write_file(tokenizer, "not a real tokenizer, only copied");
        RandomCheckpointOptions options;
        options.seed = 3;
        options.max_shard_bytes = 10000;
        options.tokenizer_file = tokenizer;
        const LlamaConfig config = llama_shape_config(parse_llama_shape("d32-l2-h4-kv2-f64-v80"));
        const RandomCheckpointInfo info = write_random_checkpoint(config, dir, options);
        QVERIFY(info.shards > 2);
        int64_t parameters = 0;
        for (const auto& [name, shape] : config.hf_tensor_shapes())
            parameters += stream_test_numel(shape);
        QCOMPARE(info.parameters, parameters);
        QCOMPARE(info.total_bytes, parameters * 2);
        for (int64_t s = 0; s < info.shards; ++s)
            QVERIFY(fs::exists(dir + "/" + shard_file_name(s, info.shards)));
        QCOMPARE(shard_file_name(0, 3), std::string("model-00001-of-00003.safetensors"));
        QVERIFY(fs::exists(dir + "/model.safetensors.index.json"));
        QCOMPARE(test::read_file(dir + "/tokenizer.model"), test::read_file(tokenizer));

        // The normal loader reads it; every tensor is the generator's, whatever its shard.
        const HfCheckpoint checkpoint(dir);
        QCOMPARE(checkpoint.config().torch_dtype, std::string("bfloat16"));
        QCOMPARE(checkpoint.config().num_key_value_heads, int64_t{2});
        const LlamaModel model = load_model(dir);
        for (const auto& [name, tensor] : model.hf_state()) {
            const auto expected =
                random_checkpoint_tensor(name, tensor.sizes().vec(), options.seed).to(torch::kFloat32);
            QVERIFY2(torch::equal(tensor, expected), name.c_str());
            QVERIFY2(checkpoint.tensor_dtype(name) == "BF16", name.c_str());
        }
        const auto norm = model.layers()[0].input_layernorm;
        QVERIFY(std::abs(norm.mean().item<double>() - 1.0) < 0.1);
        QVERIFY(std::abs(model.layers()[0].q_proj.weight.std().item<double>() - 0.02) < 0.003);
        // Another seed gives other values.
        QVERIFY(!torch::equal(random_checkpoint_tensor("model.norm.weight", {32}, 3),
                              random_checkpoint_tensor("model.norm.weight", {32}, 4)));

        // Nothing is replaced: a second write to the folder fails and leaves it as it was.
        test::expect_error([&] { write_random_checkpoint(config, dir, options); }, {dir});
        QVERIFY(torch::equal(load_model(dir).embed_tokens(), model.embed_tokens()));
    }

    void layerStepsChainToForward() {
        const LlamaModel model = load_llama2c(test::shared_data("stories260K/stories260K.bin"));
        const auto ids = test::random_windows(2, 40, model.config().vocab_size, 4);
        torch::NoGradGuard no_grad;
        torch::Tensor x = model.embed(ids);
        for (int64_t i = 0; i < model.config().num_hidden_layers; ++i)
            x = model.forward_layer(i, x);
        QVERIFY(torch::equal(model.forward_head(x, true, false).logits, model.logits(ids)));
        ForwardOptions hidden_only;
        hidden_only.want_logits = false;
        hidden_only.want_hidden = true;
        QVERIFY(
            torch::equal(model.forward_head(x, false, true).hidden, model.forward(ids, hidden_only).hidden));
    }

    void streamedEqualsWholeModelOnRandomGqa() {
        const std::string dir = stream_test_gqa_dir();
        QVERIFY(HfCheckpoint(dir).tensor_names().size() > 1);
        QuantSpec rtn;
        check_streamed_equals_whole(dir, stream_test_plan(96, 24, rtn), "rtn w2 g64, hidden targets");
        // Logit targets through the mapped-file storage, a weight-only method without calibration.
        QuantSpec icq;
        icq.method = "icq-nf";
        icq.bits = 2;
        StreamedPreparationPlan plan = stream_test_plan(96, 24, icq);
        plan.target_type = TargetType::Logit;
        plan.target_policy.memory_budget_bytes = 1; // every target set goes to the mapped temp file
        plan.quant_options.calib_ids = torch::Tensor();
        check_streamed_equals_whole(dir, plan, "icq-nf, logit targets (mapped file)");
        // A calibrated method: each linear sees the inputs of the model as quantized so far.
        QuantSpec gptq;
        gptq.method = "gptq";
        gptq.bits = 3;
        gptq.group_size = 32;
        check_streamed_equals_whole(dir, stream_test_plan(96, 24, gptq), "gptq w3 g32");
    }

    void bf16StudentReadsItsEmbeddingInPlace() {
        // bf16 compute on a bf16 checkpoint: the streamed student equals the whole-model bf16 path
        // bit for bit, and its (untied) embedding is the file's table read in place, not a copy.
        const std::string dir = stream_test_gqa_dir();
        ModelOptions bf16;
        bf16.compute_dtype = torch::kBFloat16;
        QuantSpec rtn;
        const StreamedPreparationPlan plan = stream_test_plan(96, 24, rtn);
        check_streamed_equals_whole(dir, plan, "rtn w2 g64, bf16", bf16);
        const StreamedPreparation streamed = prepare_streamed(dir, bf16, plan);
        const torch::Tensor& embedding = streamed.student->embed_tokens();
        QVERIFY(is_file_mapped(embedding));
        QVERIFY(torch::equal(embedding, HfCheckpoint(dir).tensor("model.embed_tokens.weight")));
        QVERIFY(!is_file_mapped(streamed.student->lm_head_weight()));
        // fp32 compute converts the table, so the student holds its own copy.
        QVERIFY(!is_file_mapped(prepare_streamed(dir, {}, plan).student->embed_tokens()));
    }

    void streamedEqualsWholeModelOnStories260K() {
        // stories260K (tied head, GQA) as an fp32 HF folder.
        const std::string dir = test::make_temp_dir("stream-stories") + "/model";
        save_hf_model(load_llama2c(test::shared_data("stories260K/stories260K.bin")), dir, "float32");
        QuantSpec nf;
        nf.method = "nf";
        nf.bits = 3;
        check_streamed_equals_whole(dir, stream_test_plan(512, 64, nf), "stories260K nf3");
    }

    void compensatedStatsStreamLayerByLayer() {
        // The compensated-stats stage reads an HF folder one layer at a time and the llama2c file
        // whole: the same rows bit for bit, and rel_error is ||W - (Q + s B A)|| / ||W||.
        const std::string bin = test::shared_data("stories260K/stories260K.bin");
        const std::string dir = test::make_temp_dir("stream-stats") + "/model";
        save_hf_model(load_llama2c(bin), dir, "float32");
        LlamaModel student = load_llama2c(bin);
        QuantSpec rtn;
        rtn.storage = QuantStorage::Packed;
        quantize_model(student, rtn);
        const LoraSet adapters = test::attach_drawn_lora(student);
        const auto calib = test::random_windows(3, 32, 512, 4);
        const auto whole = run::compensated_layer_stats(bin, {}, student, adapters, calib);
        const auto streamed = run::compensated_layer_stats(dir, {}, student, adapters, calib);
        QCOMPARE(streamed.size(), whole.size());
        QCOMPARE(whole.size(), student.linear_names().size() * 4); // rel, sqnr, max abs, output error
        for (size_t i = 0; i < whole.size(); ++i) {
            const auto &a = whole[i], &b = streamed[i];
            const std::string what = a.module + " " + a.metric;
            QVERIFY2(a.stage == "compensated" && a.layer == b.layer && a.module == b.module &&
                         a.metric == b.metric,
                     what.c_str());
            QVERIFY2(a.value == b.value && std::isfinite(a.value), what.c_str());
        }
        const LlamaModel fp = load_llama2c(bin);
        const std::string name = "layers.2.mlp.up_proj";
        const auto w = fp.linear(name).dense_weight().to(torch::kFloat64);
        const auto effective = student.linear(name).dense_weight().to(torch::kFloat64) +
                               adapters.adapter(name).delta_weight().to(torch::kFloat64);
        const double rel = ((w - effective).norm() / w.norm()).item<double>();
        for (const auto& row : streamed)
            if (row.layer == 2 && row.module == "mlp.up_proj" && row.metric == "rel_error")
                QVERIFY(std::abs(row.value - rel) <= 1e-6 * rel);
        // Without calibration windows there is no output error.
        QCOMPARE(run::compensated_layer_stats(dir, {}, student, adapters, torch::Tensor()).size(),
                 student.linear_names().size() * 3);
    }

    void runPreparationStreamsPackedStudents() {
        // A run with quant.storage "packed" on an HF folder never loads the FP model whole, and
        // prepares what the dense whole-model path prepares (packed == dense bit for bit).
        const std::string dir = test::make_temp_dir("stream-run") + "/model";
        save_hf_model(load_llama2c(test::shared_data("stories260K/stories260K.bin")), dir, "float32");
        nlohmann::json doc = test::stories260k_tiny_experiment();
        doc["rilq"]["base_model"] = dir;
        doc["rilq"]["lora_r"] = 4;
        doc["quant"]["storage"] = "packed";
        const run::RunConfig packed = test::parse_with_shared_data(doc).runs[0];
        doc["quant"]["storage"] = "dense";
        const run::RunConfig dense = test::parse_with_shared_data(doc).runs[0];
        std::vector<run::RunStage> stages;
        const auto s =
            run::prepare(packed, nullptr, [&](run::RunStage stage) { stages.push_back(stage); }, {});
        const auto w = run::prepare(dense, nullptr, [](run::RunStage) {}, {});
        QVERIFY(std::find(stages.begin(), stages.end(), run::RunStage::Load) == stages.end());
        QVERIFY(std::find(stages.begin(), stages.end(), run::RunStage::Quantize) != stages.end());
        QCOMPARE(s->fp_evals.size(), w->fp_evals.size());
        QVERIFY(!s->fp_evals.empty());
        for (size_t i = 0; i < w->fp_evals.size(); ++i) {
            QCOMPARE(s->fp_evals[i].ppl, w->fp_evals[i].ppl);
            QCOMPARE(s->fp_evals[i].n_windows, w->fp_evals[i].n_windows);
            QCOMPARE(s->quantized_evals[i].ppl, w->quantized_evals[i].ppl);
        }
        QVERIFY(torch::equal(s->targets->train.all(), w->targets->train.all()));
        QVERIFY(torch::equal(s->targets->val.all(), w->targets->val.all()));
        QCOMPARE(s->targets_key, run::targets_key(packed));
        QCOMPARE(s->quantized_stats.size(), w->quantized_stats.size());
        for (const auto& name : w->student->linear_names()) {
            QVERIFY2(s->student->linear(name).packed != nullptr, name.c_str());
            QVERIFY2(torch::equal(s->student->linear(name).dense_weight(), w->student->linear(name).weight),
                     name.c_str());
        }
    }

    void memoryBenchRunsEndToEnd() {
        MemoryBenchOptions o;
        o.shape = parse_llama_shape("d64-l2-h4-kv2-f128-v128");
        o.model_dir = test::make_temp_dir("stream-bench") + "/model";
        o.seqlen = 32;
        o.target_windows = 2;
        o.ppl_windows = 2;
        o.rank = 4;
        o.micro_steps = 2;
        const MemoryBenchFigures f = run_memory_bench(o);
        QVERIFY(f.made_model);
        QCOMPARE(f.runs.size(), size_t{2}); // rtn and icq-nf
        for (const MemoryBenchRun& run : f.runs) {
            QCOMPARE(run.micro_step_seconds.size(), size_t{2});
            QVERIFY(std::isfinite(run.fp_ppl) && run.fp_ppl > 1.0);
            QVERIFY(std::isfinite(run.quantized_ppl) && run.quantized_ppl > 1.0);
            QVERIFY(run.parts.front().bytes > 0); // the packed linears
            int64_t sum = 0;
            for (const auto& p : run.parts)
                sum += p.bytes;
            QVERIFY(sum <= f.peak_rss_bytes);
            // r4 on the seven projections of 2 layers: r * (in + out) each.
            const int64_t per_layer =
                4 * ((64 + 64) + 2 * (64 + 32) + (64 + 64) + 2 * (64 + 128) + (128 + 64));
            QCOMPARE(run.lora_parameters, 2 * per_layer);
        }
        QCOMPARE(f.runs[0].fp_ppl, f.runs[1].fp_ppl);
        QVERIFY(f.peak_rss_bytes >= current_rss_bytes());
        // A second run reuses the model; a folder of another shape is refused, not replaced.
        QVERIFY(!run_memory_bench(o).made_model);
        o.shape = parse_llama_shape("d32-l2-h4-kv2-f64-v80");
        test::expect_error([&] { run_memory_bench(o); }, {o.model_dir, "another shape"});
    }

    void badInput() {
        const std::string dir = stream_test_gqa_dir();
        LlamaModel skeleton =
            LlamaModel::without_layers(load_model(dir).config(), load_model(dir).hf_state(), {}, "skeleton");
        const auto x = torch::zeros({1, 4, 64});
        test::expect_error([&] { skeleton.forward_layer(0, x); }, {"layer 0 is not loaded"});
        test::expect_error([&] { skeleton.forward_layer(3, x); }, {"layer 3 out of range"});
        test::expect_error([&] { skeleton.set_layer(0, {}); }, {"model.layers.0.", "missing"});
        QuantSpec spec;
        StreamedPreparationPlan plan = stream_test_plan(96, 24, spec);
        plan.val_ids = torch::Tensor();
        test::expect_error([&] { prepare_streamed(dir, {}, plan); }, {"validation windows"});
        test::expect_error(
            [&] {
                prepare_streamed(test::shared_data("stories260K/stories260K.bin"), {},
                                 stream_test_plan(96, 24, spec));
            },
            {"stories260K.bin"});
        TeacherTargetWriter writer(2, 3, 4, torch::kFloat32, TargetType::Hidden, {});
        writer.append(torch::zeros({1, 3, 4}));
        test::expect_error([&] { writer.append(torch::zeros({2, 3, 4})); }, {"do not continue"});
        test::expect_error([&] { writer.finish(); }, {"1 of 2 windows"});
    }
};

RILQ_TEST_APPLESS_MAIN(TestPackedLayerStream)
#include "test_packed_layer_stream.moc"
