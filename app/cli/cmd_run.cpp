// rilq run EXPERIMENT.json [--set key=value ...] [--db FILE] [--resume RUN] [--dry-run]: every
// point of the sweep in order through core's Runner, a progress line per run, then the pivot
// table; --dry-run validates and prints what each point would compute, and runs nothing.
// --backend slurm and the task modes (--point, --job, --prepare): cmd_run_cluster.h.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/cmd_run_cluster.h"
#include "app/cli/commands.h"
#include "core/report/experiment_table.h"
#include "core/run/experiment_config.h"
#include "core/run/runner.h"
#include "core/run/sample_comparison.h"
#include "core/run/sweep_plan.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

namespace rilq::cli {

namespace {

std::string fmt(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

// Turns runner events into the terminal's progress line and one summary line per run.
class RunPrinter {
  public:
    explicit RunPrinter(bool progress) : line_(progress) {}

    void operator()(const run::RunnerEvent& e) {
        const std::string prefix =
            "[" + std::to_string(e.run_index + 1) + "/" + std::to_string(e.run_count) + "] " + e.run_name;
        switch (e.kind) {
        case run::RunnerEvent::Kind::RunStarted:
            line_.finish();
            std::cerr << prefix << ": " << e.message << " (run " << e.run_uuid.substr(0, 8) << ")\n";
            break;
        case run::RunnerEvent::Kind::Progress:
            line_.update(prefix + " " + e.progress.stage, e.progress.done, e.progress.total, e.progress.unit,
                         e.progress.eta_s);
            break;
        case run::RunnerEvent::Kind::Train: {
            const TrainEvent& t = e.train;
            // The fine-tuning stage's curves (local or streamed from a Slurm task) say so.
            const std::string stage = e.stage == run::RunStage::Finetune ? "fine-tune" : "train";
            if (t.kind == TrainEventKind::Validation) {
                line_.finish();
                std::cerr << prefix << ": " << (e.stage == run::RunStage::Finetune ? "fine-tune " : "")
                          << "update " << t.update_step << " v_loss " << fmt("%.5f", t.v_loss)
                          << (t.is_best ? " (best)" : "")
                          << (t.es_counter > 0 ? " es " + std::to_string(t.es_counter) : "") << "\n";
            } else if (t.kind == TrainEventKind::Update) {
                line_.update(prefix + " " + stage + " loss " + fmt("%.4f", t.t_loss) + " lr " +
                                 fmt("%.1e", t.lr),
                             t.micro_step, t.total_micro_steps, "steps", t.eta_s);
            } else if (t.kind == TrainEventKind::Finished || t.kind == TrainEventKind::EarlyStop) {
                line_.finish();
                std::cerr << prefix << ": " << to_string(t.kind) << " at update " << t.update_step
                          << (t.message.empty() ? "" : " (" + t.message + ")") << "\n";
            }
            break;
        }
        case run::RunnerEvent::Kind::Eval:
            line_.finish();
            std::cerr << prefix << ": PPL " << e.eval.stage << " " << e.eval.dataset << " "
                      << fmt("%.3f", e.eval.ppl) << "\n";
            break;
        case run::RunnerEvent::Kind::Task:
            line_.finish();
            std::cerr << prefix << ": " << e.task.task << " " << e.task.stage << " acc "
                      << fmt("%.4f", e.task.acc)
                      << (std::isnan(e.task.acc_norm) ? "" : " acc_norm " + fmt("%.4f", e.task.acc_norm))
                      << " (n " << e.task.n << ")\n";
            break;
        case run::RunnerEvent::Kind::RunFinished:
            line_.finish();
            std::cerr << prefix << ": " << store::to_string(e.status)
                      << (e.message.empty() ? "" : " - " + e.message) << "\n";
            break;
        case run::RunnerEvent::Kind::Stage:
        case run::RunnerEvent::Kind::Log:
            break;
        }
    }

  private:
    ProgressLine line_;
};

} // namespace

int cmd_run(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("Experiment JSON file."));
    parser.addOption({QStringLiteral("set"),
                      QStringLiteral("Override a field: rilq.lora_r=[0,16], quant.bits=3 (repeatable)."),
                      QStringLiteral("KEY=VALUE")});
    parser.addOption({QStringLiteral("data-root"), QStringLiteral("Replace the experiment's data_root."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("resume"),
                      QStringLiteral("Continue a KILLED, FAILED or INTERRUPTED run from its checkpoint."),
                      QStringLiteral("RUN")});
    parser.addOption(
        {QStringLiteral("no-outputs"), QStringLiteral("Record in the store only; write no output_dir.")});
    parser.addOption({QStringLiteral("save-merged"), QStringLiteral("Also save base + adapters merged.")});
    parser.addOption(
        {QStringLiteral("samples"),
         QStringLiteral("After the table, greedy continuations of PROMPT by the FP, quantized and "
                        "best compensated models."),
         QStringLiteral("PROMPT")});
    parser.addOption({QStringLiteral("dry-run"),
                      QStringLiteral("Validate, print every point and what it will compute (data, stages, "
                                     "output folder), run nothing. Exit 0 when valid, 1 otherwise.")});
    parser.addOption({QStringLiteral("quiet"), QStringLiteral("No progress line.")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Compute threads (default: all cores)."),
                      QStringLiteral("N")});
    add_db_option(parser);
    add_cluster_options(parser);
    int code = kExitOk;
    // A resume, or a Slurm task that resumes (its job manifest names the run), has no EXPERIMENT.
    const bool resuming = args.contains(QStringLiteral("--resume")) || args.contains(QStringLiteral("--job"));
    if (!parse_args(parser, args,
                    QStringLiteral("Run an experiment: every sweep point, recorded in the run store."),
                    resuming ? 0 : 1, 1, code))
        return code;
    const auto parse_experiment = [&] {
        return run::parse_experiment_file(to_std(parser.positionalArguments()[0]),
                                          experiment_parse_options(parser));
    };
    if (parser.isSet(QStringLiteral("dry-run"))) {
        if (resuming) {
            std::cerr << "rilq run: --dry-run takes an experiment file, not --resume\n";
            return kExitUsage;
        }
        return run_guarded([&] {
            std::cout << run::describe_plan(parse_experiment());
            return kExitOk;
        });
    }
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        RunPrinter printer(!parser.isSet(QStringLiteral("quiet")));
        run::RunnerOptions options;
        options.store_path = store_path(parser);
        options.cancel = interrupt_cancel_token();
        options.write_outputs = !parser.isSet(QStringLiteral("no-outputs"));
        options.save_merged = parser.isSet(QStringLiteral("save-merged"));
        options.on_event = [&](const run::RunnerEvent& e) { printer(e); };
        if (is_point_task(parser)) return run_point_task(parser, options);
        const bool on_slurm = slurm_requested(parser);
        run::Runner runner(options);

        if (parser.isSet(QStringLiteral("resume"))) {
            if (on_slurm) {
                int failed = 0;
                for (const auto& o : run_on_slurm(parser, nullptr, options))
                    failed += o.status == store::RunStatus::Finished ? 0 : 1;
                return failed == 0 ? kExitOk : exit_code_after_stop(kExitError);
            }
            const run::RunOutcome outcome = runner.resume(to_std(parser.value(QStringLiteral("resume"))));
            return outcome.status == store::RunStatus::Finished ? kExitOk : exit_code_after_stop(kExitError);
        }
        const run::ExperimentConfig experiment = parse_experiment();
        std::cerr << "experiment " << experiment.name << ": " << experiment.runs.size() << " run(s), store "
                  << options.store_path << "\n";
        const std::vector<run::RunOutcome> outcomes =
            on_slurm ? run_on_slurm(parser, &experiment, options) : runner.run_experiment(experiment);

        store::StoreOptions read_only;
        read_only.mode = store::Database::Mode::ReadOnly;
        store::RunStore store(options.store_path, read_only);
        std::cout << report::experiment_markdown(store, experiment);
        // After a stop signal the process should end, not start generating.
        if (parser.isSet(QStringLiteral("samples")) && !experiment.runs.empty() &&
            !options.cancel->cancelled()) {
            const run::RunConfig& first = experiment.runs.front();
            std::cout << "\n"
                      << run::format_samples(
                             run::compare_samples(first.resolve(first.model.base_model), outcomes,
                                                  to_std(parser.value(QStringLiteral("samples")))));
        }
        int failed = 0;
        for (const auto& o : outcomes)
            failed += o.status == store::RunStatus::Finished ? 0 : 1;
        if (failed > 0) std::cerr << failed << " of " << outcomes.size() << " run(s) did not finish\n";
        return failed == 0 ? kExitOk : exit_code_after_stop(kExitError);
    });
}

} // namespace rilq::cli
