// rilq bench quantize [--rows R --cols C --threads T --repeats N --calib-windows W --calib-seqlen T
//                      --set KEY=VALUE --cases list]
// (called by `rilq bench` for its "quantize" case).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"

#include "core/bench/quant_bench.h"
#include "core/quant/quant_registry.h"

#include <iostream>

namespace rilq::cli {

int run_bench_quantize(const QStringList& args) {
    QString cases_help = QStringLiteral("Comma-separated, from:");
    for (const auto& name : quant_method_names())
        cases_help += QStringLiteral(" ") + QString::fromStdString(name);
    cases_help += QStringLiteral(" metrics (default all).");
    QCommandLineParser p;
    p.addOptions({
        {"rows", "Matrix rows (default 4096).", "R", "4096"},
        {"cols", "Matrix columns (default 11008, a Llama-2-7B MLP).", "C", "11008"},
        {"threads", "Threads (default 2, the goal's setting).", "T", "2"},
        {"repeats", "Best of N runs (default 1).", "N", "1"},
        {"calib-windows", "Calibration windows of the methods that read inputs, GPTQ (default 128).", "W",
         "128"},
        {"calib-seqlen", "Tokens per calibration window (default 2048).", "T", "2048"},
        {"set", "A quant.* setting for every case that reads it: icq_tau_n=50 (repeatable).", "KEY=VALUE"},
        {"cases", cases_help, "list"},
    });
    int exit_code = kExitOk;
    if (!parse_args(p, args,
                    "Times the quantizers on one random 4096 x 11008 fp32 matrix (goals: RTN < 0.5 s, ICQ-NF "
                    "with 201 candidates < 10 s on 2 cores); GPTQ with its Hessian of 128 x 2048 calibration "
                    "tokens, timed apart.",
                    0, 0, exit_code))
        return exit_code;
    QuantBenchOptions o;
    bool ok_rows = false, ok_cols = false, ok_threads = false, ok_rep = false, ok_windows = false,
         ok_seqlen = false;
    o.rows = p.value("rows").toLongLong(&ok_rows);
    o.cols = p.value("cols").toLongLong(&ok_cols);
    o.threads = p.value("threads").toInt(&ok_threads);
    o.repeats = p.value("repeats").toInt(&ok_rep);
    o.calib_windows = p.value("calib-windows").toLongLong(&ok_windows);
    o.calib_seqlen = p.value("calib-seqlen").toLongLong(&ok_seqlen);
    if (!(ok_rows && ok_cols && ok_threads && ok_rep && ok_windows && ok_seqlen) || o.rows <= 0 ||
        o.cols <= 0 || o.threads <= 0 || o.calib_windows <= 0 || o.calib_seqlen <= 0) {
        std::cerr << "rilq bench quantize: --rows, --cols, --threads, --repeats, --calib-windows and "
                     "--calib-seqlen take positive integers\n";
        return kExitUsage;
    }
    for (const auto& s : p.values("set")) {
        const int eq = s.indexOf(QLatin1Char('='));
        if (eq <= 0) {
            std::cerr << "rilq bench quantize: --set takes KEY=VALUE, found \"" << to_std(s) << "\"\n";
            return kExitUsage;
        }
        o.settings.emplace_back(to_std(s.left(eq)), to_std(s.mid(eq + 1)));
    }
    for (const auto& c : p.value("cases").split(QLatin1Char(','), Qt::SkipEmptyParts))
        o.cases.push_back(to_std(c.trimmed()));
    return run_guarded([&] {
        init_runtime(o.threads);
        run_quant_bench(o, std::cout);
        return kExitOk;
    });
}

} // namespace rilq::cli
