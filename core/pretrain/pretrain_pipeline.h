// From text files to a model folder: train a SentencePiece BPE tokenizer on the training
// text (or use a given one), tokenize, pretrain, and save an HF folder (config.json,
// model.safetensors, tokenizer.model) that every other command loads.
#pragma once
#include <functional>
#include <string>

#include "core/pretrain/pretrainer.h"
#include "core/util/progress.h"

namespace rilq {

struct PretrainJob {
    std::string train_text;        // file
    std::string val_text;          // file
    std::string out_dir;           // HF folder to write (atomically)
    std::string tokenizer_model;   // existing tokenizer.model to use; empty = train one
    int64_t vocab_size = 1024;     // when training the tokenizer
    std::string work_dir;          // tokenizer + checkpoint folder (resume point); empty = <out_dir>.work
    PretrainConfig config;
};

struct PretrainJobResult {
    PretrainResult training;
    int64_t train_tokens = 0, val_tokens = 0;
    int64_t parameters = 0;
};

PretrainJobResult run_pretrain_job(const PretrainJob& job, const std::function<void(const PretrainEvent&)>& on_event,
                                   const ProgressSink& progress = {});

} // namespace rilq
