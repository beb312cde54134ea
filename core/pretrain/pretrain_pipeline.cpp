#include "core/pretrain/pretrain_pipeline.h"

#include "core/io/hf_checkpoint.h"
#include "core/tokenize/spm_library.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace rilq {

namespace {
std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
} // namespace

PretrainJobResult run_pretrain_job(const PretrainJob& job, const std::function<void(const PretrainEvent&)>& on_event,
                                   const ProgressSink& progress) {
    if (job.out_dir.empty()) throw Error("pretrain: no output folder given");
    const fs::path work = job.work_dir.empty() ? fs::path(job.out_dir + ".work") : fs::path(job.work_dir);
    fs::create_directories(work);

    // Tokenizer: BPE with byte fallback; identity normalisation and kept whitespace so the text's
    // layout (indentation, line breaks) survives a round trip. Trained once; a resume reuses it.
    fs::path tokenizer_file = job.tokenizer_model;
    if (tokenizer_file.empty()) {
        tokenizer_file = work / "tokenizer.model";
        if (!fs::exists(tokenizer_file)) {
            progress.report({"pretrain: training the tokenizer", 0, 3, "stages", 0.0, -1.0});
            train_sentencepiece("--input=" + job.train_text + " --model_prefix=" + (work / "tokenizer").string() +
                                " --vocab_size=" + std::to_string(job.vocab_size) +
                                " --model_type=bpe --byte_fallback=true --character_coverage=1.0 --split_digits=true"
                                " --normalization_rule_name=identity --remove_extra_whitespaces=false"
                                " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --minloglevel=2 --num_threads=2");
        }
    }
    const auto tokenizer = load_tokenizer(tokenizer_file.string());
    progress.check_cancel();

    progress.report({"pretrain: tokenizing", 1, 3, "stages", 0.0, -1.0});
    const auto train_ids = tokenizer->encode(read_all(job.train_text), true);
    const auto val_ids = tokenizer->encode(read_all(job.val_text), true);
    progress.check_cancel();

    progress.report({"pretrain: training", 2, 3, "stages", 0.0, -1.0});
    const LlamaConfig config =
        pretrain_model_config(job.config, tokenizer->vocab_size(), tokenizer->bos_id(), tokenizer->eos_id());
    LlamaModel model = LlamaModel::random(config, job.config.seed);
    PretrainJobResult r;
    r.training = pretrain(model, train_ids, val_ids, job.config, (work / "checkpoint").string(), on_event, progress.cancel);
    r.train_tokens = static_cast<int64_t>(train_ids.size());
    r.val_tokens = static_cast<int64_t>(val_ids.size());
    r.parameters = model.parameter_count();

    // The tokenizer goes in first: save_hf_model carries over files already in the folder.
    fs::create_directories(job.out_dir);
    fs::copy_file(tokenizer_file, fs::path(job.out_dir) / "tokenizer.model", fs::copy_options::overwrite_existing);
    save_hf_model(model, job.out_dir, "float32");
    std::error_code ec;
    fs::remove_all(work / "checkpoint", ec);   // the model is complete: its resume point is spent
    return r;
}

} // namespace rilq
