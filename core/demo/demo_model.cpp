#include "core/demo/demo_model.h"

#include "core/pretrain/pretrain_record.h"

#include "core/pretrain/pretrain_pipeline.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace rilq {

namespace {

constexpr int kManifestVersion = 1;
const char* const kModelFiles[] = {"config.json", "model.safetensors", "tokenizer.model"};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

nlohmann::json settings_json(const DemoModelOptions& o) {
    const PretrainConfig& p = o.pretrain;
    return {{"vocab_size", o.vocab_size},   {"hidden_size", p.hidden_size}, {"num_layers", p.num_layers},
            {"num_heads", p.num_heads},     {"num_kv_heads", p.num_kv_heads}, {"intermediate_size", p.intermediate_size},
            {"seqlen", p.seqlen},           {"batch_size", p.batch_size},   {"max_steps", p.max_steps},
            {"lr", p.lr},                   {"min_lr", p.min_lr},           {"warmup_steps", p.warmup_steps},
            {"weight_decay", p.weight_decay}, {"grad_clip", p.grad_clip},   {"seed", p.seed}};
}

} // namespace

PretrainConfig DemoModelOptions::demo_pretrain_config() {
    PretrainConfig p;
    p.hidden_size = 128;
    p.num_layers = 4;
    p.num_heads = 4;
    p.num_kv_heads = 2;        // grouped-query attention, as in Llama-3
    p.intermediate_size = 352;
    p.seqlen = 128;
    p.batch_size = 16;
    p.max_steps = 600;
    p.lr = 3e-3;
    p.min_lr = 3e-4;
    p.warmup_steps = 30;
    p.eval_every = 100;
    p.eval_windows = 32;
    p.seed = 1337;
    return p;
}

bool demo_model_is_valid(const std::string& model_dir, const DemoModelOptions& options) {
    const fs::path manifest_path = fs::path(model_dir) / "demo_manifest.json";
    if (!fs::exists(manifest_path)) return false;
    try {
        const auto m = nlohmann::json::parse(read_all(manifest_path.string()));
        if (m.value("format_version", 0) != kManifestVersion || m.at("settings") != settings_json(options)) return false;
        for (const char* f : kModelFiles) {
            const fs::path p = fs::path(model_dir) / f;
            if (!fs::exists(p) || sha256_file(p.string()) != m.at("sha256").at(f).get<std::string>()) return false;
        }
        return true;
    } catch (const std::exception&) {
        return false;   // unreadable manifest = rebuild
    }
}

DemoModel ensure_demo_model(const DemoModelOptions& options, const std::function<void(const PretrainEvent&)>& on_event,
                            const ProgressSink& progress) {
    const fs::path cache = options.cache_dir.empty() ? default_demo_cache_dir() : options.cache_dir;
    DemoModel demo;
    demo.model_dir = (cache / "model").string();
    const std::string corpus_dir = (cache / "corpus").string();
    const std::string source = options.fortunes_dir.empty() ? fortunes_dir() : options.fortunes_dir;

    const bool corpus_ok = fs::exists(fs::path(corpus_dir) / "train.txt") && fs::exists(fs::path(corpus_dir) / "test.txt") &&
                           fs::exists(fs::path(corpus_dir) / "valid.txt");
    if (corpus_ok && demo_model_is_valid(demo.model_dir, options)) {
        demo.corpus.train_path = (fs::path(corpus_dir) / "train.txt").string();
        demo.corpus.val_path = (fs::path(corpus_dir) / "valid.txt").string();
        demo.corpus.test_path = (fs::path(corpus_dir) / "test.txt").string();
        const auto m = nlohmann::json::parse(read_all((fs::path(demo.model_dir) / "demo_manifest.json").string()));
        demo.val_loss = m.value("val_loss", 0.0);
        demo.build_seconds = m.value("build_seconds", 0.0);
        return demo;
    }

    const auto start = std::chrono::steady_clock::now();
    progress.report({"demo: splitting the fortunes corpus", 0, 2, "stages", 0.0, -1.0});
    demo.corpus = split_fortunes(source, corpus_dir);
    progress.check_cancel();

    progress.report({"demo: pretraining", 1, 2, "stages", 0.0, -1.0});
    // A half-finished build resumes from its checkpoint; otherwise start clean (no stale tokenizer).
    if (!fs::exists(cache / "work" / "checkpoint" / "state.json")) fs::remove_all(cache / "work");
    PretrainJob job;
    job.train_text = demo.corpus.train_path;
    job.val_text = demo.corpus.val_path;
    job.out_dir = demo.model_dir;
    job.work_dir = (cache / "work").string();
    job.vocab_size = options.vocab_size;
    job.config = options.pretrain;
    const PretrainJobResult result = options.record_in != nullptr
                                         ? run_recorded_pretrain_job(*options.record_in, "demo-pretrain", job,
                                                                     on_event, progress)
                                         : run_pretrain_job(job, on_event, progress);
    demo.val_loss = result.training.final_val_loss;
    demo.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    nlohmann::json manifest = {{"format_version", kManifestVersion},
                               {"settings", settings_json(options)},
                               {"val_loss", demo.val_loss},
                               {"build_seconds", demo.build_seconds},
                               {"train_tokens", result.train_tokens},
                               {"parameters", result.parameters}};
    for (const char* f : kModelFiles) manifest["sha256"][f] = sha256_file((fs::path(demo.model_dir) / f).string());
    write_file_atomic((fs::path(demo.model_dir) / "demo_manifest.json").string(), manifest.dump(2));
    demo.built_now = true;
    return demo;
}

} // namespace rilq
