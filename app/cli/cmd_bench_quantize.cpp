// rilq bench quantize [--rows R --cols C --threads T --repeats N --icq-n N --cases list]
// (called by `rilq bench` for its "quantize" case).
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"

#include "core/bench/quant_bench.h"

#include <iostream>

namespace rilq::cli {

int run_bench_quantize(const QStringList& args) {
    QCommandLineParser p;
    p.addOptions({
        {"rows", "Matrix rows (default 4096).", "R", "4096"},
        {"cols", "Matrix columns (default 11008, a Llama-2-7B MLP).", "C", "11008"},
        {"threads", "Threads (default 2, the goal's setting).", "T", "2"},
        {"repeats", "Best of N runs (default 1).", "N", "1"},
        {"icq-n", "ICQ-NF candidates 2n+1 (default n = 100).", "n", "100"},
        {"gptq-windows", "gptq: calibration windows for the Hessian (default 128).", "N", "128"},
        {"gptq-seqlen", "gptq: tokens per calibration window (default 2048).", "T", "2048"},
        {"cases", "Comma-separated: rtn, nf, icq-nf, icq-int, gptq, metrics (default all).", "list",
         "rtn,nf,icq-nf,icq-int,gptq,metrics"},
    });
    int exit_code = kExitOk;
    if (!parse_args(p, args,
                    "Times the quantizers on one random 4096 x 11008 fp32 matrix (goals: RTN < 0.5 s, ICQ-NF "
                    "with 201 candidates < 10 s on 2 cores); GPTQ with the Hessian of 128 x 2048 random "
                    "calibration tokens.",
                    0, 0, exit_code))
        return exit_code;
    QuantBenchOptions o;
    bool ok_rows = false, ok_cols = false, ok_threads = false, ok_rep = false, ok_n = false, ok_gw = false,
         ok_gs = false;
    o.rows = p.value("rows").toLongLong(&ok_rows);
    o.cols = p.value("cols").toLongLong(&ok_cols);
    o.threads = p.value("threads").toInt(&ok_threads);
    o.repeats = p.value("repeats").toInt(&ok_rep);
    o.icq_n = p.value("icq-n").toInt(&ok_n);
    o.gptq_windows = p.value("gptq-windows").toLongLong(&ok_gw);
    o.gptq_seqlen = p.value("gptq-seqlen").toLongLong(&ok_gs);
    if (!(ok_rows && ok_cols && ok_threads && ok_rep && ok_n && ok_gw && ok_gs) || o.rows <= 0 || o.cols <= 0 ||
        o.threads <= 0 || o.gptq_windows <= 0 || o.gptq_seqlen <= 0) {
        std::cerr << "rilq bench quantize: --rows, --cols, --threads, --repeats, --icq-n, --gptq-windows and "
                     "--gptq-seqlen take positive integers\n";
        return kExitUsage;
    }
    o.methods.clear();
    for (const auto& c : p.value("cases").split(QLatin1Char(','), Qt::SkipEmptyParts))
        o.methods.push_back(to_std(c.trimmed()));
    return run_guarded([&] {
        init_runtime(o.threads);
        run_quant_bench(o, std::cout);
        return kExitOk;
    });
}

} // namespace rilq::cli
