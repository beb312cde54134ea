// rilq generate MODEL --prompt STR --max-new-tokens N [--temperature T --seed S]
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "app/cli/model_args.h"
#include "core/eval/generate.h"
#include "core/io/model_loader.h"
#include "core/util/error.h"

#include <iostream>

namespace rilq::cli {

int cmd_generate(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("HF model folder or llama2.c .bin file."));
    parser.addOption({QStringLiteral("prompt"), QStringLiteral("Prompt text (default: empty, i.e. BOS only)."),
                      QStringLiteral("STR"), QString()});
    parser.addOption({QStringLiteral("max-new-tokens"), QStringLiteral("Tokens to generate (default 64)."),
                      QStringLiteral("N"), QStringLiteral("64")});
    parser.addOption({QStringLiteral("temperature"), QStringLiteral("0 = greedy (default); > 0 samples."),
                      QStringLiteral("T"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("seed"), QStringLiteral("Sampling seed (default 0)."), QStringLiteral("S"),
                      QStringLiteral("0")});
    add_model_options(parser);
    add_adapter_option(parser);
    int code = 0;
    if (!parse_args(parser, args, QStringLiteral("Generate text from a prompt."), 1, 1, code)) return code;

    bool ok_n = false, ok_t = false, ok_s = false;
    GenerateOptions go;
    go.max_new_tokens = parser.value(QStringLiteral("max-new-tokens")).toLongLong(&ok_n);
    go.temperature = parser.value(QStringLiteral("temperature")).toDouble(&ok_t);
    go.seed = parser.value(QStringLiteral("seed")).toULongLong(&ok_s);
    if (!ok_n || go.max_new_tokens < 0 || !ok_t || go.temperature < 0 || !ok_s) {
        std::cerr << "rilq: --max-new-tokens, --temperature and --seed take non-negative numbers\n\n"
                  << to_std(parser.helpText());
        return kExitUsage;
    }
    return run_guarded([&] {
        init_runtime(threads_from(parser));
        const std::string path = to_std(parser.positionalArguments().at(0));
        const LlamaModel model = load_model_for(parser, path);
        const auto tokenizer = tokenizer_for(parser, path);
        const auto prompt_ids = tokenizer->encode(to_std(parser.value(QStringLiteral("prompt"))), true);
        const auto ids = generate(model, prompt_ids, go);
        // Decode the whole sequence at once: SentencePiece and BPE merge spaces across tokens.
        std::vector<int64_t> text_ids(ids.begin() + 1, ids.end());   // drop BOS
        if (!text_ids.empty() && text_ids.back() == tokenizer->eos_id()) text_ids.pop_back();
        std::cout << tokenizer->decode(text_ids) << std::endl;
        return kExitOk;
    });
}

} // namespace rilq::cli
