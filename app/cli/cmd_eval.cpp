// rilq eval MODEL [--dataset NAME=PATH ...] [--seqlen N] [--max-windows K]
//                 [--task NAME=PATH ... --shots K --limit N --subjects a,b --bos --log-samples F] [--json]
//                 [--record EXPERIMENT [--stage S] [--db F]]
#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "app/cli/eval_tasks.h"
#include "app/cli/model_args.h"
#include "core/data/eval_windows.h"
#include "core/data/text_sources.h"
#include "core/eval/perplexity.h"
#include "core/io/model_loader.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

namespace rilq::cli {

namespace {

// "NAME=PATH", or a bare NAME resolved under --data-root / RILQ_DATA_ROOT.
DatasetSpec dataset_from_arg(const std::string& arg, const std::string& data_root) {
    if (arg.find('=') != std::string::npos) return parse_dataset_spec(arg);
    if (data_root.empty())
        throw Error("--dataset " + arg + ": give NAME=PATH, or set a data folder with --data-root or RILQ_DATA_ROOT");
    DatasetSpec spec;
    spec.kind = parse_dataset_kind(arg);
    spec.path = data_root;
    return spec;
}

nlohmann::json result_json(const PerplexityResult& r, const EvalProtocol& p) {
    return {{"dataset", p.dataset}, {"ppl", r.ppl},           {"mean_nll", r.mean_nll},
            {"n_windows", r.n_windows}, {"n_tokens", r.n_tokens}, {"seconds", r.seconds},
            {"tokens_per_s", r.tokens_per_s}, {"protocol", p}};
}

store::EvalResult perplexity_record(const PerplexityResult& r, const EvalProtocol& p) {
    store::EvalResult e;
    e.dataset = p.dataset;
    e.file_sha256 = p.file_sha256;
    e.tokenizer = p.tokenizer_kind + ":" + p.tokenizer_path;
    e.seqlen = static_cast<int>(r.seqlen);
    e.n_windows = r.n_windows;
    e.n_tokens = r.n_tokens;
    e.ppl = r.ppl;
    return e;
}

} // namespace

int cmd_eval(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("HF model folder or llama2.c .bin file."));
    parser.addOption({QStringLiteral("dataset"),
                      QStringLiteral("wikitext2=PATH, c4=PATH or text=PATH (repeatable); a bare name is looked up "
                                     "in the data folder."),
                      QStringLiteral("NAME=PATH")});
    parser.addOption({QStringLiteral("data-root"), QStringLiteral("Folder holding the standard dataset files "
                                                                  "(default: RILQ_DATA_ROOT)."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("seqlen"), QStringLiteral("Window length (default 2048, capped by the model's "
                                                               "context)."),
                      QStringLiteral("N"), QStringLiteral("2048")});
    parser.addOption({QStringLiteral("max-windows"), QStringLiteral("Evaluate at most K windows (default: all)."),
                      QStringLiteral("K"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("c4-windows"), QStringLiteral("Windows sampled from C4 (default 256, GPTQ)."),
                      QStringLiteral("N"), QStringLiteral("256")});
    parser.addOption({QStringLiteral("batch-size"), QStringLiteral("Windows per forward (default 1)."),
                      QStringLiteral("N"), QStringLiteral("1")});
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print results as JSON.")});
    add_task_options(parser);
    add_record_options(parser);
    add_model_options(parser);
    add_adapter_option(parser);
    int code = 0;
    if (!parse_args(
            parser, args,
            QStringLiteral("Perplexity on local datasets (GPTQ/OmniQuant protocol) and downstream accuracy "
                           "(MMLU as IR-QLoRA, zero-shot tasks as lm-evaluation-harness)."),
            1, 1, code))
        return code;
    if (!parser.isSet(QStringLiteral("dataset")) && !parser.isSet(QStringLiteral("task"))) {
        std::cerr << "rilq: eval needs at least one --dataset or --task\n\n" << to_std(parser.helpText());
        return kExitUsage;
    }
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
    EvalWindowOptions wo;
    wo.seqlen = parser.value(QStringLiteral("seqlen")).toLongLong(&ok1);
    wo.max_windows = parser.value(QStringLiteral("max-windows")).toLongLong(&ok2);
    wo.c4_windows = parser.value(QStringLiteral("c4-windows")).toLongLong(&ok3);
    const int64_t batch = parser.value(QStringLiteral("batch-size")).toLongLong(&ok4);
    if (!ok1 || !ok2 || !ok3 || !ok4 || wo.seqlen < 2 || wo.max_windows < 0 || wo.c4_windows < 1 || batch < 1) {
        std::cerr << "rilq: --seqlen, --max-windows, --c4-windows and --batch-size take positive integers\n\n"
                  << to_std(parser.helpText());
        return kExitUsage;
    }
    const bool as_json = parser.isSet(QStringLiteral("json"));
    return run_guarded([&] {
        init_runtime(threads_from(parser));
        const std::string path = to_std(parser.positionalArguments().at(0));
        std::string data_root = to_std(parser.value(QStringLiteral("data-root")));
        if (data_root.empty() && std::getenv("RILQ_DATA_ROOT")) data_root = std::getenv("RILQ_DATA_ROOT");
        std::vector<DatasetSpec> specs;
        for (const auto& d : parser.values(QStringLiteral("dataset"))) specs.push_back(dataset_from_arg(to_std(d), data_root));
        const auto tasks = load_tasks(task_specs_from(parser)); // task data checked before any model work
        const auto record = record_request_from(parser);

        const LlamaModel model = load_model_for(parser, path);
        const auto tokenizer = tokenizer_for(parser, path);
        if (wo.seqlen > model.config().max_position_embeddings) wo.seqlen = model.config().max_position_embeddings;

        nlohmann::json all = nlohmann::json::array();
        std::vector<store::EvalResult> perplexities; // for --record
        for (const auto& spec : specs) {
            ProgressLine bar;   // on stderr, so --json output stays clean
            ProgressSink sink;
            sink.cancel = interrupt_cancel_token();
            const std::string name = dataset_kind_name(spec.kind);
            sink.on_progress = [&](const ProgressInfo& p) { bar.update(name + " " + p.stage, p.done, p.total, p.unit, p.eta_s); };
            const EvalWindows ev = build_eval_windows(spec, *tokenizer, wo, sink);
            const PerplexityResult r = evaluate_perplexity(model, to_tensor(ev.windows), sink, batch);
            bar.finish();
            all.push_back(result_json(r, ev.protocol));
            perplexities.push_back(perplexity_record(r, ev.protocol));
            if (!as_json) {
                std::printf("%-10s ppl %.4f  (mean nll %.6f, %lld windows x %lld tokens, %.1f s, %.0f tokens/s)\n",
                            name.c_str(), r.ppl, r.mean_nll, static_cast<long long>(r.n_windows),
                            static_cast<long long>(r.seqlen), r.seconds, r.tokens_per_s);
                std::printf("           %s sha256 %.16s..., tokenizer %s\n", ev.protocol.file.c_str(),
                            ev.protocol.file_sha256.c_str(), ev.protocol.tokenizer_kind.c_str());
            }
        }
        std::vector<TaskResult> task_results;
        if (!tasks.empty()) task_results = run_task_evaluation(parser, tasks, model, *tokenizer, as_json);
        if (record) {
            const std::string db = store_path(parser);
            store::RunStore store(db);
            const std::string uuid = record_task_evaluation(store, *record, task_results, perplexities);
            std::cerr << "recorded as run " << uuid << " (experiment \"" << record->experiment << "\", stage "
                      << record->stage << ") in " << db << "\n";
        }
        if (as_json) {
            // Perplexity alone keeps its original shape; with tasks: {"perplexity": [...], "tasks": [...]}.
            if (tasks.empty())
                std::cout << (all.size() == 1 ? all[0] : all).dump(2) << std::endl;
            else
                std::cout
                    << nlohmann::json{{"perplexity", all}, {"tasks", nlohmann::json(task_results)}}.dump(2)
                    << std::endl;
        }
        return kExitOk;
    });
}

} // namespace rilq::cli
