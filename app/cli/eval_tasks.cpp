#include "app/cli/eval_tasks.h"

#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "core/eval/tasks/sample_log.h"
#include "core/store/run_stages.h"
#include "core/util/error.h"

#include <QStringList>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace rilq::cli {

namespace {

QString task_list_help() {
    QString text = QStringLiteral("Downstream task NAME=PATH (repeatable). Tasks:");
    for (const TaskInfo& info : task_infos())
        text += QStringLiteral("\n  %1: %2; PATH: %3")
                    .arg(QString::fromStdString(info.name), QString::fromStdString(info.summary),
                         QString::fromStdString(info.data_format));
    return text;
}

int64_t non_negative_option(const QCommandLineParser& parser, const char* name) {
    bool ok = false;
    const qlonglong v = parser.value(QString::fromLatin1(name)).toLongLong(&ok);
    if (!ok || v < 0)
        throw Error(std::string("--") + name + ": expected a non-negative integer, found \"" +
                    to_std(parser.value(QString::fromLatin1(name))) + "\"");
    return v;
}

std::string task_plus_minus(double value, double stderr_value) {
    char buf[64];
    if (std::isnan(stderr_value))
        std::snprintf(buf, sizeof buf, "%.4f", value);
    else
        std::snprintf(buf, sizeof buf, "%.4f +- %.4f", value, stderr_value);
    return buf;
}

// printf-style formatting into a string (the summary goes to std::cout, which tests capture).
template <typename... Args> std::string task_line(const char* format, Args... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, format, args...);
    return buf;
}

void print_task_result(const TaskResult& r) {
    const TaskProtocol& p = r.protocol;
    std::string line = "acc " + task_plus_minus(r.acc, r.acc_stderr);
    if (!std::isnan(r.acc_norm)) line += "  acc_norm " + task_plus_minus(r.acc_norm, r.acc_norm_stderr);
    std::cout << task_line("%-13s %s  (n %lld", p.task.c_str(), line.c_str(), static_cast<long long>(r.n));
    if (!p.subjects.empty())
        std::cout << task_line(", %lld shots, %lld with fewer, %lld truncated",
                               static_cast<long long>(p.shots), static_cast<long long>(p.n_fewer_shots),
                               static_cast<long long>(p.n_truncated));
    std::cout << task_line(", %.1f s, %.1f items/s)\n", r.seconds, r.items_per_s);
    for (const GroupScore& g : r.categories)
        std::cout << task_line("              %-16s %.4f  (n %lld)\n", g.name.c_str(), g.acc,
                               static_cast<long long>(g.n));
    std::cout << task_line("              data sha256 %.16s..., tokenizer %s, BOS %s, max_length %lld\n",
                           p.data_sha256.c_str(), p.tokenizer_kind.c_str(), p.bos_rule.c_str(),
                           static_cast<long long>(p.max_length))
              << std::flush;
}

} // namespace

void add_task_options(QCommandLineParser& parser) {
    parser.addOption({QStringLiteral("task"), task_list_help(), QStringLiteral("NAME=PATH")});
    parser.addOption({QStringLiteral("shots"),
                      QStringLiteral("MMLU shots (default 5; the other tasks are zero-shot)."),
                      QStringLiteral("K")});
    parser.addOption(
        {QStringLiteral("limit"),
         QStringLiteral("Evaluate the first N items of each task (MMLU: of each subject); 0 = all."),
         QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("subjects"),
                      QStringLiteral("MMLU subjects, comma-separated (default: all)."),
                      QStringLiteral("a,b")});
    parser.addOption(
        {QStringLiteral("bos"), QStringLiteral("Put BOS before every context (lm-eval >= 0.4.9.2 for "
                                               "Llama; default: none, as 0.4.0-0.4.9.1). MMLU always "
                                               "has BOS.")});
    parser.addOption({QStringLiteral("log-samples"),
                      QStringLiteral("Write one JSON line per scored item (prediction, probabilities or "
                                     "log-likelihoods) to FILE.jsonl."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("no-prefix-reuse"),
                      QStringLiteral("Run every prompt whole, one per forward (slower; same numbers).")});
}

std::vector<TaskSpec> task_specs_from(const QCommandLineParser& parser) {
    std::vector<TaskSpec> specs;
    for (const QString& arg : parser.values(QStringLiteral("task"))) {
        TaskSpec spec = parse_task_spec(to_std(arg));
        spec.limit = non_negative_option(parser, "limit");
        if (parser.isSet(QStringLiteral("shots")) && task_info(spec.name).family == TaskFamily::Mmlu)
            spec.shots = non_negative_option(parser, "shots");
        if (parser.isSet(QStringLiteral("subjects")) && task_info(spec.name).family == TaskFamily::Mmlu)
            for (const QString& s :
                 parser.value(QStringLiteral("subjects")).split(QLatin1Char(','), Qt::SkipEmptyParts))
                spec.subjects.push_back(to_std(s.trimmed()));
        if (parser.isSet(QStringLiteral("bos"))) spec.bos = true;
        specs.push_back(std::move(spec));
    }
    if (parser.isSet(QStringLiteral("log-samples"))) {
        // Checked now, not after an hour of evaluation.
        const fs::path log = to_std(parser.value(QStringLiteral("log-samples")));
        std::error_code ec;
        if (specs.empty()) throw Error("--log-samples needs at least one --task");
        if (!fs::is_directory(log.parent_path().empty() ? fs::path(".") : log.parent_path(), ec))
            throw Error("--log-samples " + log.string() + ": the folder " + log.parent_path().string() +
                        " does not exist");
    }
    return specs;
}

std::vector<std::unique_ptr<Task>> load_tasks(const std::vector<TaskSpec>& specs) {
    std::vector<std::unique_ptr<Task>> tasks;
    for (const TaskSpec& spec : specs)
        tasks.push_back(load_task(spec));
    return tasks;
}

std::vector<TaskResult> run_task_evaluation(const QCommandLineParser& parser,
                                            const std::vector<std::unique_ptr<Task>>& tasks,
                                            const LlamaModel& model, const Tokenizer& tokenizer,
                                            bool as_json) {
    TaskRunOptions options;
    options.prefix_reuse = !parser.isSet(QStringLiteral("no-prefix-reuse"));
    if (!options.prefix_reuse) options.batch_size = 1;
    std::vector<TaskResult> results;
    for (const auto& task : tasks) {
        ProgressLine bar; // stderr, so --json output stays clean
        ProgressSink sink;
        sink.cancel = interrupt_cancel_token();
        sink.on_progress = [&](const ProgressInfo& p) {
            bar.update(p.stage, p.done, p.total, p.unit, p.eta_s);
        };
        results.push_back(task->evaluate(model, tokenizer, options, sink));
        bar.finish();
        if (!as_json) print_task_result(results.back());
    }
    if (parser.isSet(QStringLiteral("log-samples")))
        write_sample_log(to_std(parser.value(QStringLiteral("log-samples"))), results);
    return results;
}

void add_record_options(QCommandLineParser& parser) {
    parser.addOption({QStringLiteral("record"),
                      QStringLiteral("Record the finished evaluation (task scores with their protocol, "
                                     "perplexities) as a run of EXPERIMENT in the run store."),
                      QStringLiteral("EXPERIMENT")});
    QString stages;
    for (const std::string& s : store::run_stages())
        stages += (stages.isEmpty() ? QString() : QStringLiteral(", ")) + QString::fromStdString(s);
    parser.addOption({QStringLiteral("stage"),
                      QStringLiteral("Stage the recorded results go under: %1 (default: compensated with "
                                     "--adapter, else fp).")
                          .arg(stages),
                      QStringLiteral("STAGE")});
    add_db_option(parser);
}

std::optional<TaskEvaluationRun> record_request_from(const QCommandLineParser& parser) {
    if (!parser.isSet(QStringLiteral("record"))) {
        if (parser.isSet(QStringLiteral("stage"))) throw Error("--stage applies to --record only");
        return std::nullopt;
    }
    TaskEvaluationRun run;
    run.experiment = to_std(parser.value(QStringLiteral("record")));
    if (run.experiment.empty()) throw Error("--record: give an experiment name");
    const bool adapter = parser.isSet(QStringLiteral("adapter"));
    run.stage = parser.isSet(QStringLiteral("stage")) ? to_std(parser.value(QStringLiteral("stage")))
                                                      : (adapter ? "compensated" : "fp");
    store::check_run_stage(run.stage, "--stage: the");
    const std::string model = to_std(parser.positionalArguments().value(0));
    run.name = fs::path(model).filename().string();
    if (run.name.empty()) run.name = fs::path(model).parent_path().filename().string(); // "dir/"
    run.params.emplace_back("model", fs::absolute(model).string());
    if (adapter) {
        const std::string dir = to_std(parser.value(QStringLiteral("adapter")));
        run.params.emplace_back("adapter", fs::absolute(dir).string());
        run.name += " + " + fs::path(dir).filename().string();
    }
    if (parser.isSet(QStringLiteral("tokenizer")))
        run.params.emplace_back("tokenizer", to_std(parser.value(QStringLiteral("tokenizer"))));
    // Repeatable options become one param each (a param key is unique per run).
    for (const char* option : {"task", "dataset"})
        if (parser.isSet(QString::fromLatin1(option)))
            run.params.emplace_back(option, to_std(parser.values(QString::fromLatin1(option)).join(' ')));
    for (const char* option : {"shots", "limit", "subjects", "seqlen", "max-windows"})
        if (parser.isSet(QString::fromLatin1(option)))
            run.params.emplace_back(option, to_std(parser.value(QString::fromLatin1(option))));
    if (parser.isSet(QStringLiteral("bos"))) run.params.emplace_back("bos", "true");
    return run;
}

} // namespace rilq::cli
