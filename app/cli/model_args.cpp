#include "app/cli/model_args.h"

#include "core/io/model_loader.h"
#include "core/lora/peft_adapter.h"

#include "app/cli/cli_support.h"
#include "core/util/error.h"

#include <filesystem>
#include <vector>

namespace rilq::cli {

void add_model_options(QCommandLineParser& parser) {
    parser.addOption({QStringLiteral("tokenizer"), QStringLiteral("Tokenizer file (default: found with the model)."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("dtype"), QStringLiteral("Compute dtype: float32 (default), bfloat16, float16."),
                      QStringLiteral("DTYPE"), QStringLiteral("float32")});
    parser.addOption({QStringLiteral("device"), QStringLiteral("cpu (default) or cuda[:N]."), QStringLiteral("DEVICE"),
                      QStringLiteral("cpu")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Compute threads (default: RILQ_THREADS or all cores)."),
                      QStringLiteral("N"), QStringLiteral("0")});
}

ModelOptions model_options_from(const QCommandLineParser& parser) {
    ModelOptions o;
    const std::string dtype = to_std(parser.value(QStringLiteral("dtype")));
    if (dtype == "float32" || dtype == "fp32") o.compute_dtype = at::kFloat;
    else if (dtype == "bfloat16" || dtype == "bf16") o.compute_dtype = at::kBFloat16;
    else if (dtype == "float16" || dtype == "fp16") o.compute_dtype = at::kHalf;
    else throw Error("--dtype: expected float32, bfloat16 or float16, found \"" + dtype + "\"");
    o.device = to_std(parser.value(QStringLiteral("device")));
    return o;
}

int threads_from(const QCommandLineParser& parser) {
    bool ok = false;
    const int n = parser.value(QStringLiteral("threads")).toInt(&ok);
    if (!ok || n < 0) throw Error("--threads: expected a non-negative integer, found \"" +
                                  to_std(parser.value(QStringLiteral("threads"))) + "\"");
    return n;
}

std::unique_ptr<Tokenizer> tokenizer_for(const QCommandLineParser& parser, const std::string& model_path) {
    if (parser.isSet(QStringLiteral("tokenizer"))) return load_tokenizer(to_std(parser.value(QStringLiteral("tokenizer"))));
    return find_tokenizer(model_path);
}

void add_adapter_option(QCommandLineParser& parser) {
    parser.addOption({QStringLiteral("adapter"),
                      QStringLiteral("PEFT LoRA adapter folder to put on the model (a run's <out>/adapter)."),
                      QStringLiteral("DIR")});
}

LlamaModel load_model_for(const QCommandLineParser& parser, const std::string& model_path) {
    LlamaModel model = load_model(model_path, model_options_from(parser));
    check_finite_weights(model, model_path); // NaN weights would print "ppl nan" and exit 0
    if (parser.isSet(QStringLiteral("adapter")))
        load_peft_adapter(parser.value(QStringLiteral("adapter")).toStdString(), model);
    return model;
}

void copy_tokenizer_files(const QCommandLineParser& parser, const std::string& model_path,
                          const std::string& out_dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    try {
        files.emplace_back(tokenizer_for(parser, model_path)->path());
    } catch (const Error&) {
        return;
    }
    if (fs::is_directory(model_path))
        for (const char* side :
             {"tokenizer_config.json", "special_tokens_map.json", "generation_config.json"})
            if (fs::exists(fs::path(model_path) / side)) files.push_back(fs::path(model_path) / side);
    for (const auto& f : files) {
        const fs::path target = fs::path(out_dir) / f.filename();
        if (fs::exists(target) && fs::equivalent(f, target)) continue;
        fs::copy_file(f, target, fs::copy_options::overwrite_existing);
    }
}

} // namespace rilq::cli
