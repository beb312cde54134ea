// rilq: the headless front end. Subcommands map to core calls; see commands.h.
#include "app/cli/commands.h"
#include "core/util/runtime.h"

#include <QCoreApplication>
#include <cstring>
#include <iostream>

namespace rilq::cli {

const Command* commands() {
    static const Command table[] = {
        {"info", "show a model's config, parameter count and linear layers", cmd_info},
        {"tokenize", "print the token ids of a text", cmd_tokenize},
        {"generate", "generate text from a prompt", cmd_generate},
        {"eval", "perplexity (GPTQ/OmniQuant protocol) and task accuracy (MMLU, ARC, PIQA, ...)", cmd_eval},
        {"pretrain", "train a small Llama (and its tokenizer) from scratch on text files", cmd_pretrain},
        {"bench", "measure speed: gemm, eval, ...", cmd_bench},
        {"runs", "list, show, diff, delete or import recorded runs", cmd_runs},
        {"export", "an experiment's table as Markdown, CSV, LaTeX or JSON", cmd_export},
        {"quantize", "fake-quantize a model with a registered method and save it", cmd_quantize},
        {"run", "run an experiment JSON: quantize, train LoRA with RILQ, evaluate, record", cmd_run},
        {"schema", "print the experiment JSON reference (Markdown)", cmd_schema},
        {"finetune", "instruction fine-tuning on Alpaca data (IR-QLoRA's recipe), PEFT adapter out",
         cmd_finetune},
        {"qstats", "per-linear quantization error, entropy and spectrum", cmd_qstats},
        {"make-random", "write a random Llama of a real shape (llama2-7b, llama3-8b, a size) as bf16 shards",
         cmd_make_random},
        {nullptr, nullptr, nullptr},
    };
    return table;
}

} // namespace rilq::cli

static void print_usage(std::ostream& out) {
    out << "usage: rilq <command> [options]\n\ncommands:\n";
    for (const auto* c = rilq::cli::commands(); c->name; ++c) {
        out << "  " << c->name << std::string(12 - std::strlen(c->name), ' ') << c->summary << "\n";
    }
    out << "\n'rilq <command> --help' describes each command.\n";
}

int main(int argc, char** argv) {
    rilq::use_passive_openmp_wait(argv);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("rilq"));
    QCoreApplication::setApplicationVersion(QStringLiteral(RILQ_VERSION));
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        print_usage(std::cerr);
        return 2;
    }
    const QString name = args.at(1);
    if (name == QLatin1String("--help") || name == QLatin1String("-h") || name == QLatin1String("help")) {
        print_usage(std::cout);
        return 0;
    }
    if (name == QLatin1String("--version")) {
        std::cout << "rilq " << RILQ_VERSION << "\n";
        return 0;
    }
    for (const auto* c = rilq::cli::commands(); c->name; ++c) {
        if (name == QLatin1String(c->name)) {
            QStringList sub = args.mid(2);
            sub.prepend(QStringLiteral("rilq ") + name);
            return c->run(sub);
        }
    }
    std::cerr << "rilq: unknown command '" << name.toStdString() << "'\n\n";
    print_usage(std::cerr);
    return 2;
}
