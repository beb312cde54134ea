// `rilq bench tasks` (core/bench/tasks_bench.h): MMLU questions/s with and without prefix reuse.
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/bench/tasks_bench.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace rilq::cli {

int run_bench_tasks(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption(
        {QStringLiteral("data-root"),
         QStringLiteral("Folder laid out as shared/data: mmlu/, llama2-tokenizer/tokenizer.model, "
                        "stories260K/stories260K.bin (default: RILQ_DATA_ROOT)."),
         QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("limit"), QStringLiteral("Questions per subject (default 25)."),
                      QStringLiteral("N"), QStringLiteral("25")});
    parser.addOption(
        {QStringLiteral("subjects"),
         QStringLiteral("Subjects, comma-separated (default abstract_algebra, high_school_european_history, "
                        "marketing, professional_law)."),
         QStringLiteral("a,b")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("MMLU 5-shot questions/s with and without prefix reuse, on a random dim-512 Llama "
                           "(Llama-2 tokenizer, context 2048) and on stories260K."),
            0, 0, code))
        return code;
    return run_guarded([&] {
        init_runtime(parser.value(QStringLiteral("threads")).toInt());
        std::string root = to_std(parser.value(QStringLiteral("data-root")));
        if (root.empty() && std::getenv("RILQ_DATA_ROOT")) root = std::getenv("RILQ_DATA_ROOT");
        if (root.empty()) throw Error("bench tasks: give --data-root DIR (or set RILQ_DATA_ROOT)");
        namespace fs = std::filesystem;
        TasksBenchOptions o;
        o.mmlu_dir = (fs::path(root) / "mmlu").string();
        o.llama2_tokenizer = (fs::path(root) / "llama2-tokenizer" / "tokenizer.model").string();
        const fs::path stories = fs::path(root) / "stories260K" / "stories260K.bin";
        if (fs::exists(stories)) o.stories_model = stories.string();
        bool ok = false;
        o.limit = parser.value(QStringLiteral("limit")).toLongLong(&ok);
        if (!ok || o.limit < 1) throw Error("--limit: expected a positive integer");
        if (parser.isSet(QStringLiteral("subjects"))) {
            o.subjects.clear();
            for (const QString& s :
                 parser.value(QStringLiteral("subjects")).split(QLatin1Char(','), Qt::SkipEmptyParts))
                o.subjects.push_back(to_std(s.trimmed()));
        }
        ProgressLine bar;
        ProgressSink sink;
        sink.cancel = interrupt_cancel_token();
        sink.on_progress = [&](const ProgressInfo& p) {
            bar.update(p.stage, p.done, p.total, p.unit, p.eta_s);
        };
        const auto rows = run_tasks_bench(o, sink);
        bar.finish();
        for (const TasksBenchRow& r : rows)
            std::printf(
                "mmlu     %-15s %lld questions (mean %.0f prompt tokens): whole prompts %.2f questions/s, "
                "prefix reuse %.2f questions/s = %.1fx  (max |prob diff| %.1e)\n",
                r.model.c_str(), static_cast<long long>(r.questions), r.mean_prompt_tokens,
                r.plain_questions_per_s, r.reuse_questions_per_s, r.speedup, r.max_prob_diff);
        return kExitOk;
    });
}

} // namespace rilq::cli
