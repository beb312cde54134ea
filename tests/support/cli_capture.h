// Runs one `rilq` subcommand in-process with std::cout and std::cerr captured, for the tests of
// the CLI (app/cli/commands.h): what a user would see on the terminal, and the exit code.
#pragma once
#include <QString>
#include <QStringList>

#include <iostream>
#include <sstream>
#include <string>

namespace rilq::test {

struct CliRun {
    int code = -1;
    std::string out, err;
};

// `name` is the subcommand ("run"), `args` what follows it on the command line.
inline CliRun run_cli(int (*command)(const QStringList&), const QString& name, const QStringList& args) {
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    CliRun r;
    r.code = command(QStringList{QStringLiteral("rilq ") + name} + args);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

} // namespace rilq::test
