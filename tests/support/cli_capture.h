// Runs one `rilq` subcommand in-process with std::cout / std::cerr captured (the CLI tests).
#pragma once
#include <QStringList>

#include <iostream>
#include <sstream>
#include <string>

namespace rilq::test {

struct CliRun {
    int code = -1;
    std::string out, err;
};

// `command` is a cmd_* function of app/cli/commands.h; `name` its argv[0] ("rilq eval").
inline CliRun run_cli(int (*command)(const QStringList&), const QString& name, const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    CliRun r;
    r.code = command(QStringList{name} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

} // namespace rilq::test
