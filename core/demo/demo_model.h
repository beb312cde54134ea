// The built-in demo's model: a ~1M-parameter Llama pretrained from scratch on Debian's
// fortunes text (SentencePiece BPE vocabulary of 1024), built on first use into the per-user
// cache and reused afterwards. A manifest records the settings and the sha256 of every file;
// a missing or corrupt file, or changed settings, rebuild it.
#pragma once
#include <functional>
#include <string>

#include "core/demo/demo_cache.h"
#include "core/demo/fortunes_corpus.h"
#include "core/pretrain/pretrainer.h"
#include "core/util/progress.h"

namespace rilq::store {
class RunStore;
}

namespace rilq {

struct DemoModelOptions {
    std::string cache_dir;                  // empty: default_demo_cache_dir()
    std::string fortunes_dir;               // empty: fortunes_dir()
    int64_t vocab_size = 1024;
    PretrainConfig pretrain = demo_pretrain_config();
    store::RunStore* record_in = nullptr;   // when set, a build is recorded there (experiment "demo-pretrain")

    static PretrainConfig demo_pretrain_config();
};

struct DemoModel {
    std::string model_dir;                  // HF folder: config.json, model.safetensors, tokenizer.model
    CorpusSplit corpus;                     // train / valid / test text files
    bool built_now = false;
    double build_seconds = 0.0;
    double val_loss = 0.0;                  // nats/token on the validation split at the end of pretraining
};

// Returns the cached model when its manifest checks out, else builds it (minutes), reporting
// tokenizer training, tokenization and each pretraining step through `on_event` / `progress`.
DemoModel ensure_demo_model(const DemoModelOptions& options, const std::function<void(const PretrainEvent&)>& on_event = {},
                            const ProgressSink& progress = {});

// True when `model_dir` holds a demo model whose manifest matches `options` and its files.
bool demo_model_is_valid(const std::string& model_dir, const DemoModelOptions& options);

} // namespace rilq
