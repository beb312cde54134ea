// Options every model-using subcommand shares: --tokenizer, --dtype, --device, --threads.
#pragma once
#include <QCommandLineParser>
#include <memory>
#include <string>

#include "core/model/llama_model.h"
#include "core/tokenize/tokenizer.h"

namespace rilq::cli {

void add_model_options(QCommandLineParser& parser);
ModelOptions model_options_from(const QCommandLineParser& parser);   // Error on a bad --dtype/--device
int threads_from(const QCommandLineParser& parser);
// --tokenizer FILE if given, else the tokenizer found beside/inside the model path.
std::unique_ptr<Tokenizer> tokenizer_for(const QCommandLineParser& parser, const std::string& model_path);

// --adapter DIR (eval, generate): a PEFT LoRA adapter folder put on top of the model, e.g. a
// run's <output_dir>/adapter over its <output_dir>/quantized.
void add_adapter_option(QCommandLineParser& parser);
// The model with the model options, plus the adapter when --adapter is given.
LlamaModel load_model_for(const QCommandLineParser& parser, const std::string& model_path);

// A written model folder should be usable on its own: copies the model's tokenizer (and, from an
// HF folder, its tokenizer/generation side files) into out_dir. None found is not an error.
void copy_tokenizer_files(const QCommandLineParser& parser, const std::string& model_path,
                          const std::string& out_dir);

} // namespace rilq::cli
