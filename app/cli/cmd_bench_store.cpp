// rilq bench store: the run store's insert and curve-read speed (core/bench/store_bench.h).
// Called by the `rilq bench` dispatcher for `rilq bench store`.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/store_bench.h"
#include "core/util/error.h"

#include <iostream>

namespace rilq::cli {

int run_bench_store(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("db"), QStringLiteral("Benchmark in FILE (default: a temporary file)."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("runs"), QStringLiteral("Runs (default 10)."), QStringLiteral("N"),
                      QStringLiteral("10")});
    parser.addOption({QStringLiteral("metrics"), QStringLiteral("Metrics per step (default 10)."),
                      QStringLiteral("N"), QStringLiteral("10")});
    parser.addOption({QStringLiteral("steps"), QStringLiteral("Steps per run (default 1000)."),
                      QStringLiteral("N"), QStringLiteral("1000")});
    parser.addOption(
        {QStringLiteral("batched-only"), QStringLiteral("Skip the slower one-commit-per-step insert.")});
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("Measure run store inserts and curve reads."), 0, 0, code))
        return code;
    return run_guarded([&] {
        bench::StoreBenchOptions options;
        options.db_path = to_std(parser.value(QStringLiteral("db")));
        bool ok_runs = false, ok_metrics = false, ok_steps = false;
        options.runs = parser.value(QStringLiteral("runs")).toInt(&ok_runs);
        options.keys = parser.value(QStringLiteral("metrics")).toInt(&ok_metrics);
        options.steps = parser.value(QStringLiteral("steps")).toInt(&ok_steps);
        if (!ok_runs || !ok_metrics || !ok_steps || options.runs < 1 || options.keys < 1 ||
            options.steps < 1) {
            throw Error("--runs, --metrics and --steps take positive integers");
        }
        options.per_step_commits = !parser.isSet(QStringLiteral("batched-only"));
        std::cout << bench::format_store_bench(options, bench::run_store_bench(options));
        return kExitOk;
    });
}

} // namespace rilq::cli
