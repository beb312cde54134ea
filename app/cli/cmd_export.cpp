// rilq export: an experiment's pivot table (rows = a swept param, columns = eval datasets, the
// tasks of an accuracy metric or MMLU's categories) as Markdown, CSV, LaTeX or JSON, with its
// protocol line.
#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/report/store_pivot.h"
#include "core/report/table_writers.h"
#include "core/report/task_metric.h"
#include "core/store/run_stages.h"
#include "core/store/run_store.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <iostream>

namespace rilq::cli {

namespace {

// The --metric help: core's list of named metrics, one per line.
std::string metric_help() {
    std::string help = "What fills the cells (default ppl); logged metrics such as v_loss work too:";
    for (const auto& choice : report::export_metric_choices())
        help += "\n  " + choice.name + ": " + choice.help;
    return help;
}

std::string stage_help() {
    std::string help = "Stage of PPL and task scores:";
    for (const auto& stage : store::run_stages())
        help += " " + stage;
    return help + " (default compensated; runs that compensated nothing use quantized).";
}

} // namespace

int cmd_export(const QStringList& args) {
    QCommandLineParser parser;
    const auto option = [&](const char* name, const char* help, const char* value,
                            const char* fallback = nullptr) {
        QCommandLineOption o(QString::fromLatin1(name), QString::fromLatin1(help),
                             QString::fromLatin1(value));
        if (fallback) o.setDefaultValue(QString::fromLatin1(fallback));
        parser.addOption(o);
    };
    option("experiment", "The experiment to tabulate.", "E");
    option("rows", "Param whose values are the rows (default lora_r).", "PARAM", "lora_r");
    option("cols",
           "\"dataset\" (default), a param whose values are the columns, or several params separated by "
           "commas (one column per combination, e.g. quant.method,scope,lora_init).",
           "dataset|PARAM[,PARAM...]", "dataset");
    const std::string metric_text = metric_help(), stage_text = stage_help();
    option("metric", metric_text.c_str(), "NAME", "ppl");
    option("stage", stage_text.c_str(), "STAGE", "compensated");
    option("stat", "For logged metrics: min (default), max or last.", "STAT", "min");
    option("dataset",
           "With --cols PARAM: the dataset, task or MMLU category whose value fills the cells (default: "
           "their average).",
           "NAME");
    option("where", "Keep only runs whose param has this value (repeatable).", "KEY=VALUE");
    option("format", "md (default), csv, latex or json.", "FORMAT", "md");
    option("out", "Write to FILE instead of standard output.", "FILE");
    option("decimals", "Digits after the point in Markdown and LaTeX (default 2).", "N", "2");
    parser.addOption({QStringLiteral("mark-best"), QStringLiteral("Mark the best value of each column.")});
    parser.addOption({QStringLiteral("higher-is-better"),
                      QStringLiteral("Best means highest (implied by task accuracy metrics).")});
    parser.addOption(
        {QStringLiteral("include-unfinished"), QStringLiteral("Also use runs that did not finish.")});
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(parser, args,
                    QStringLiteral("Export an experiment's table (rows x datasets or tasks + Avg)."), 0, 0,
                    code))
        return code;
    const auto value = [&](const char* name) { return to_std(parser.value(QString::fromLatin1(name))); };
    if (!parser.isSet(QStringLiteral("experiment"))) {
        std::cerr << "rilq: --experiment E is required\n\n" << to_std(parser.helpText());
        return kExitUsage;
    }
    return run_guarded([&] {
        report::ExportRequest request;
        request.experiment = value("experiment");
        request.rows = value("rows");
        request.cols = value("cols");
        request.metric = value("metric");
        request.stage = value("stage");
        request.metric_stat = value("stat");
        request.dataset = value("dataset");
        for (const auto& w : parser.values(QStringLiteral("where")))
            request.where.push_back(report::parse_where(to_std(w)));
        request.mark_best = parser.isSet(QStringLiteral("mark-best"));
        request.higher_is_better = parser.isSet(QStringLiteral("higher-is-better"));
        request.include_unfinished = parser.isSet(QStringLiteral("include-unfinished"));
        bool ok = false;
        request.decimals = parser.value(QStringLiteral("decimals")).toInt(&ok);
        if (!ok || request.decimals < 0 || request.decimals > 10) throw Error("--decimals: expected 0 to 10");
        const auto format = report::parse_table_format(value("format"));

        store::StoreOptions options;
        options.mode = store::Database::Mode::ReadOnly;
        store::RunStore store(store_path(parser), options);
        const std::string text = report::write_table(report::pivot_from_store(store, request), format);
        if (parser.isSet(QStringLiteral("out"))) {
            write_file_atomic(value("out"), text);
            std::cerr << "wrote " << value("out") << "\n";
        } else {
            std::cout << text;
        }
        return kExitOk;
    });
}

} // namespace rilq::cli
