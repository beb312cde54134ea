// rilq tokenize MODEL (--text STR | --file F) [--tokenizer FILE] [--no-bos]
// Prints the token ids of the text on one line, space-separated.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"

#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace rilq::cli {

namespace {

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("text file '" + path + "' cannot be opened");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

int cmd_tokenize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(
        QStringLiteral("MODEL"),
        QStringLiteral("model folder or llama2.c .bin; its tokenizer is found beside it "
                       "(may be omitted with --tokenizer)"));
    const QCommandLineOption text_opt(QStringLiteral("text"), QStringLiteral("text to tokenize"),
                                      QStringLiteral("STR"));
    const QCommandLineOption file_opt(QStringLiteral("file"),
                                      QStringLiteral("tokenize the bytes of this file"), QStringLiteral("F"));
    const QCommandLineOption tokenizer_opt(QStringLiteral("tokenizer"),
                                           QStringLiteral("tokenizer file to use instead of the model's"),
                                           QStringLiteral("FILE"));
    const QCommandLineOption no_bos_opt(QStringLiteral("no-bos"),
                                        QStringLiteral("do not prepend the BOS token"));
    parser.addOptions({text_opt, file_opt, tokenizer_opt, no_bos_opt});
    int exit_code = kExitOk;
    if (!parse_args(
            parser, args,
            QStringLiteral("Print the token ids of a text, space-separated on one line. Special-token text "
                           "such as <|eot_id|> in the input is tokenized as ordinary text."),
            0, 1, exit_code))
        return exit_code;

    const bool has_model = !parser.positionalArguments().isEmpty();
    if (parser.isSet(text_opt) == parser.isSet(file_opt)) {
        std::cerr << "rilq: give exactly one of --text and --file\n\n" << to_std(parser.helpText());
        return kExitUsage;
    }
    if (!has_model && !parser.isSet(tokenizer_opt)) {
        std::cerr << "rilq: give a MODEL or --tokenizer FILE\n\n" << to_std(parser.helpText());
        return kExitUsage;
    }

    return run_guarded([&] {
        const auto tokenizer = parser.isSet(tokenizer_opt)
                                   ? load_tokenizer(to_std(parser.value(tokenizer_opt)))
                                   : find_tokenizer(to_std(parser.positionalArguments().at(0)));
        const std::string text = parser.isSet(text_opt) ? to_std(parser.value(text_opt))
                                                        : read_text_file(to_std(parser.value(file_opt)));
        const auto ids = tokenizer->encode(text, !parser.isSet(no_bos_opt));
        std::string line;
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i) line += ' ';
            line += std::to_string(ids[i]);
        }
        std::cout << line << "\n";
        return kExitOk;
    });
}

} // namespace rilq::cli
