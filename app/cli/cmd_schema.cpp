// rilq schema [--markdown]: the experiment JSON reference (every section's keys with default,
// valid values and meaning, and the quantization methods), generated from core's schema and
// quantizer registry; the README's "Experiment JSON reference" tables are this output.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"

#include "core/run/schema_markdown.h"

#include <iostream>

namespace rilq::cli {

int cmd_schema(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("markdown"),
                      QStringLiteral("Markdown tables (the default, and so far the only format).")});
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("Print the experiment JSON reference."), 0, 0, code))
        return code;
    return run_guarded([] {
        std::cout << run::experiment_schema_markdown();
        return kExitOk;
    });
}

} // namespace rilq::cli
