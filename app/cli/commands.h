// The `rilq` subcommands. Each lives in its own cmd_*.cpp and gets the arguments after
// its name. Exit codes: 0 ok, 1 runtime error (one clear line on stderr), 2 bad usage.
#pragma once
#include <QStringList>

namespace rilq::cli {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const QStringList& args);   // args[0] is "rilq <name>"
};

const Command* commands();   // terminated by {nullptr, nullptr, nullptr}

int cmd_info(const QStringList& args);
int cmd_tokenize(const QStringList& args);
int cmd_generate(const QStringList& args);
int cmd_eval(const QStringList& args);
int cmd_bench(const QStringList& args);
int cmd_pretrain(const QStringList& args);
int cmd_runs(const QStringList& args);     // rilq runs list|show|diff|delete
int cmd_export(const QStringList& args);   // rilq export --experiment E ...

// `rilq bench store`, called by cmd_bench's dispatcher (args[0] is "rilq bench store").
int run_bench_store(const QStringList& args);
// `rilq bench step` (app/cli/cmd_bench_step.cpp); the `bench` dispatcher calls it.
int run_bench_step(const QStringList& args);
int cmd_quantize(const QStringList& args);
int cmd_run(const QStringList& args);
int cmd_schema(const QStringList& args); // rilq schema --markdown
int cmd_finetune(const QStringList& args); // IR-QLoRA's instruction fine-tuning on Alpaca data
int cmd_qstats(const QStringList& args);
// `rilq bench quantize`, called by cmd_bench's dispatcher (args[0] is "rilq bench quantize").
int run_bench_quantize(const QStringList& args);
// `rilq bench tasks` (app/cli/cmd_bench_tasks.cpp): MMLU questions/s with and without prefix reuse.
int run_bench_tasks(const QStringList& args);
// `rilq bench packed` (app/cli/cmd_bench_packed.cpp): dense vs packed quantized student.
int run_bench_packed(const QStringList& args);
// `rilq bench memory` (app/cli/cmd_bench_memory.cpp): the layer-streamed pipeline at a real shape.
int run_bench_memory(const QStringList& args);
// `rilq make-random` (app/cli/cmd_make_random.cpp): a random real-shape Llama on disk.
int cmd_make_random(const QStringList& args);

} // namespace rilq::cli
