// rilq runs list|show|diff|delete: browse the run store from a terminal.
#include "app/cli/cli_store.h"
#include "app/cli/cli_support.h"
#include "app/cli/commands.h"
#include "core/report/number_format.h"
#include "core/store/run_store.h"
#include "core/store/shard_import.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iostream>

namespace rilq::cli {

namespace {

using store::RunStore;

void print_columns(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()), 0);
        for (size_t c = 0; c < row.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

std::string number(double v) {
    return std::isnan(v) ? "nan" : report::shortest_number(v);
}

int runs_list(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption(
        {QStringLiteral("experiment"), QStringLiteral("Only runs of this experiment."), QStringLiteral("E")});
    parser.addOption({QStringLiteral("status"),
                      QStringLiteral("Only runs with this status (RUNNING, FINISHED, ...)."),
                      QStringLiteral("S")});
    parser.addOption({QStringLiteral("name"), QStringLiteral("Only runs whose name contains TEXT."),
                      QStringLiteral("TEXT")});
    parser.addOption({QStringLiteral("limit"), QStringLiteral("At most N runs."), QStringLiteral("N")});
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("List the runs in the store."), 0, 0, code)) return code;
    return run_guarded([&] {
        store::RunFilter filter;
        filter.experiment = to_std(parser.value(QStringLiteral("experiment")));
        if (parser.isSet(QStringLiteral("status")))
            filter.status = store::run_status_from_string(to_std(parser.value(QStringLiteral("status"))));
        filter.name_contains = to_std(parser.value(QStringLiteral("name")));
        filter.limit = parser.value(QStringLiteral("limit")).toInt();
        // Reading writes nothing: no folder, no empty store where none was.
        const std::string path = store_path(parser);
        if (!std::filesystem::exists(path)) {
            std::cout << "no runs (no run store at " << path << ")\n";
            return kExitOk;
        }
        store::StoreOptions options;
        options.mode = store::Database::Mode::ReadOnly;
        RunStore store(path, options);
        const auto runs = store.list_runs(filter);
        if (runs.empty()) {
            std::cout << "no runs" << (filter.experiment.empty() ? "" : " in experiment " + filter.experiment)
                      << " (" << store.path() << ")\n";
            return kExitOk;
        }
        // The validation loss is what a sweep is judged by while it trains: show its best.
        bool any_v_loss = false;
        for (const auto& r : runs)
            any_v_loss = any_v_loss || r.metrics.count("v_loss");
        std::vector<std::vector<std::string>> rows = {
            {"ID", "EXPERIMENT", "RUN", "STATUS", "STARTED", "DURATION"}};
        if (any_v_loss) rows[0].push_back("BEST v_loss");
        bool any_orphaned = false;
        for (const auto& r : runs) {
            const bool orphaned = store.is_orphaned(r);
            any_orphaned = any_orphaned || orphaned;
            std::vector<std::string> row = {
                r.uuid.substr(0, 12),
                r.experiment,
                r.name,
                orphaned ? "INTERRUPTED*" : to_string(r.status),
                local_time(r.start_time_ms),
                duration_text(r.start_time_ms, r.end_time_ms ? r.end_time_ms : r.heartbeat_ms)};
            if (any_v_loss) {
                const auto it = r.metrics.find("v_loss");
                row.push_back(it != r.metrics.end() && it->second.has_best
                                  ? number(it->second.min) + " @" + std::to_string(it->second.min_step)
                                  : "-");
            }
            rows.push_back(row);
        }
        print_columns(rows);
        if (any_orphaned)
            std::cout << "* recorded as RUNNING, but its process is gone; the next run or `rilq runs delete` "
                         "records it INTERRUPTED\n";
        return kExitOk;
    });
}

// A run's stored document; a store edited by hand may hold anything: it is shown, never trusted.
nlohmann::json stored_document(const std::string& text) {
    if (text.empty()) return nullptr;
    try {
        return parse_json(text, "stored config");
    } catch (const JsonParseError&) {
        return clip_for_message(text);
    }
}

nlohmann::json detail_json(const store::RunDetail& d) {
    using nlohmann::json;
    const auto& s = d.summary;
    json metrics = json::object();
    for (const auto& [key, m] : s.metrics) {
        metrics[key] = {{"latest", std::isnan(m.latest) ? json(nullptr) : json(m.latest)},
                        {"latest_step", m.latest_step}};
        if (m.has_best) {
            metrics[key]["min"] = m.min;
            metrics[key]["min_step"] = m.min_step;
            metrics[key]["max"] = m.max;
            metrics[key]["max_step"] = m.max_step;
        }
    }
    json evals = json::array();
    for (const auto& e : d.eval_results) {
        evals.push_back({{"dataset", e.dataset},
                         {"stage", e.stage},
                         {"ppl", e.ppl},
                         {"seqlen", e.seqlen},
                         {"n_windows", e.n_windows},
                         {"n_tokens", e.n_tokens},
                         {"tokenizer", e.tokenizer},
                         {"file_sha256", e.file_sha256}});
    }
    json tasks = json::array();
    const auto nullable = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
    // A score logged without its protocol record (or an unreadable one) prints null, never an
    // invalid document.
    const auto protocol_of = [](const std::string& text) {
        json parsed = json::parse(text, nullptr, false);
        return parsed.is_discarded() ? json(nullptr) : parsed;
    };
    for (const auto& t : d.task_scores) {
        json groups = json::array();
        for (const auto& g : t.groups)
            groups.push_back({{"kind", g.kind}, {"name", g.name}, {"n", g.n}, {"acc", g.acc}});
        tasks.push_back({{"task", t.task},
                         {"stage", t.stage},
                         {"n", t.n},
                         {"acc", t.acc},
                         {"acc_stderr", nullable(t.acc_stderr)},
                         {"acc_norm", nullable(t.acc_norm)},
                         {"acc_norm_stderr", nullable(t.acc_norm_stderr)},
                         {"shots", t.shots},
                         {"data_sha256", t.data_sha256},
                         {"tokenizer", t.tokenizer},
                         {"bos", t.bos},
                         {"max_length", t.max_length},
                         {"protocol", protocol_of(t.protocol_json)},
                         {"groups", groups}});
    }
    json artifacts = json::array();
    for (const auto& a : d.artifacts) {
        artifacts.push_back(
            {{"kind", a.kind}, {"path", a.path}, {"sha256", a.sha256}, {"size_bytes", a.size_bytes}});
    }
    const auto optional = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
    return {{"id", s.uuid},
            {"experiment", s.experiment},
            {"name", s.name},
            {"status", to_string(s.status)},
            {"status_message", s.status_message},
            {"start_time_ms", optional(s.start_time_ms)},
            {"end_time_ms", optional(s.end_time_ms)},
            {"host", s.host},
            {"pid", s.pid},
            {"program_version", s.program_version},
            {"config_hash", s.config_hash},
            {"config", stored_document(d.config_json)},
            {"params", s.params},
            {"tags", d.tags},
            {"metrics", metrics},
            {"eval_results", evals},
            {"task_results", tasks},
            {"artifacts", artifacts}};
}

int runs_show(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("RUN"),
                                 QStringLiteral("Run id, id prefix, name or experiment/name."));
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print the whole record as JSON.")});
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("Show one run: settings, metrics, evaluations, files."), 1,
                    1, code))
        return code;
    return run_guarded([&] {
        store::StoreOptions options;
        options.mode = store::Database::Mode::ReadOnly;
        RunStore store(store_path(parser), options);
        const auto d = store.get_run(store.resolve_run(to_std(parser.positionalArguments().at(0))));
        if (parser.isSet(QStringLiteral("json"))) {
            std::cout << detail_json(d).dump(2) << "\n";
            return kExitOk;
        }
        const auto& s = d.summary;
        std::cout << "run         " << s.uuid << "\n"
                  << "experiment  " << s.experiment << "\n"
                  << "name        " << s.name << "\n"
                  << "status      " << to_string(s.status)
                  << (s.status_message.empty() ? "" : " (" + s.status_message + ")") << "\n"
                  << "started     " << local_time(s.start_time_ms) << ", ended " << local_time(s.end_time_ms)
                  << ", took " << duration_text(s.start_time_ms, s.end_time_ms) << "\n"
                  << "host        " << s.host << " (pid " << s.pid << "), rilq " << s.program_version << "\n"
                  << "config hash " << s.config_hash << "\n";
        std::cout << "\nparams\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& [key, value] : s.params)
            rows.push_back({"  " + key, value});
        print_columns(rows);
        if (!s.metrics.empty()) {
            std::cout << "\nmetrics\n";
            rows = {{"  KEY", "LAST", "STEP", "MIN", "@STEP", "MAX", "@STEP"}};
            for (const auto& [key, m] : s.metrics) {
                rows.push_back(
                    {"  " + key, number(m.latest), std::to_string(m.latest_step),
                     m.has_best ? number(m.min) : "-", m.has_best ? std::to_string(m.min_step) : "-",
                     m.has_best ? number(m.max) : "-", m.has_best ? std::to_string(m.max_step) : "-"});
            }
            print_columns(rows);
        }
        if (!d.eval_results.empty()) {
            std::cout << "\nperplexity\n";
            rows = {{"  DATASET", "STAGE", "PPL", "SEQLEN", "WINDOWS", "TOKENS", "TOKENIZER", "FILE SHA256"}};
            for (const auto& e : d.eval_results) {
                rows.push_back({"  " + e.dataset, e.stage, report::format_fixed(e.ppl, 2),
                                std::to_string(e.seqlen), std::to_string(e.n_windows),
                                std::to_string(e.n_tokens), e.tokenizer, e.file_sha256.substr(0, 16)});
            }
            print_columns(rows);
        }
        if (!d.task_scores.empty()) {
            std::cout << "\ntasks\n";
            rows = {{"  TASK", "STAGE", "ACC", "ACC_NORM", "N", "SHOTS", "BOS", "MAX LEN", "DATA SHA256"}};
            for (const auto& t : d.task_scores) {
                rows.push_back({"  " + t.task, t.stage, report::format_fixed(t.acc, 4),
                                std::isnan(t.acc_norm) ? "-" : report::format_fixed(t.acc_norm, 4),
                                std::to_string(t.n), std::to_string(t.shots), t.bos,
                                std::to_string(t.max_length), t.data_sha256.substr(0, 16)});
                for (const auto& g : t.groups)
                    if (g.kind == "category")
                        rows.push_back({"    " + g.name, "", report::format_fixed(g.acc, 4), "",
                                        std::to_string(g.n), "", "", "", ""});
            }
            print_columns(rows);
        }
        if (!d.artifacts.empty()) {
            std::cout << "\nfiles\n";
            rows.clear();
            for (const auto& a : d.artifacts)
                rows.push_back(
                    {"  " + a.kind, a.path, std::to_string(a.size_bytes) + " B", a.sha256.substr(0, 16)});
            print_columns(rows);
        }
        if (!d.tags.empty()) {
            std::cout << "\ntags\n";
            rows.clear();
            for (const auto& [key, value] : d.tags)
                rows.push_back({"  " + key, value});
            print_columns(rows);
        }
        return kExitOk;
    });
}

int runs_diff(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("RUN_A"), QStringLiteral("First run."));
    parser.addPositionalArgument(QStringLiteral("RUN_B"), QStringLiteral("Second run."));
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("Show only the params that differ between two runs."), 2, 2,
                    code))
        return code;
    return run_guarded([&] {
        store::StoreOptions options;
        options.mode = store::Database::Mode::ReadOnly;
        RunStore store(store_path(parser), options);
        const std::string a = store.resolve_run(to_std(parser.positionalArguments().at(0)));
        const std::string b = store.resolve_run(to_std(parser.positionalArguments().at(1)));
        const auto diff = store.diff_params(a, b);
        const auto sa = store.get_run(a).summary, sb = store.get_run(b).summary;
        std::cout << "a: " << sa.uuid.substr(0, 12) << "  " << sa.experiment << "/" << sa.name << "\n"
                  << "b: " << sb.uuid.substr(0, 12) << "  " << sb.experiment << "/" << sb.name << "\n";
        if (diff.empty()) {
            std::cout << "no params differ"
                      << (sa.config_hash == sb.config_hash ? " (same settings hash)" : "") << "\n";
            return kExitOk;
        }
        std::vector<std::vector<std::string>> rows = {{"PARAM", "A", "B"}};
        for (const auto& d : diff)
            rows.push_back({d.key, d.a.value_or("(unset)"), d.b.value_or("(unset)")});
        print_columns(rows);
        if (sa.config_hash == sb.config_hash)
            std::cout << "(same settings hash: only names or places differ)\n";
        return kExitOk;
    });
}

int runs_delete(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("Runs to delete."),
                                 QStringLiteral("RUN..."));
    parser.addOption({QStringLiteral("experiment"), QStringLiteral("Delete every run of this experiment."),
                      QStringLiteral("E")});
    parser.addOption(
        {{QStringLiteral("y"), QStringLiteral("yes")}, QStringLiteral("Do not ask for confirmation.")});
    parser.addOption({QStringLiteral("force"),
                      QStringLiteral("Also delete RUNNING runs whose process is still alive (it loses its "
                                     "results).")});
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(parser, args, QStringLiteral("Delete runs with everything they logged."), 0, -1, code))
        return code;
    return run_guarded([&] {
        RunStore store(store_path(parser));
        std::vector<store::RunSummary> doomed;
        for (const auto& ref : parser.positionalArguments())
            doomed.push_back(store.get_run(store.resolve_run(to_std(ref))).summary);
        if (parser.isSet(QStringLiteral("experiment"))) {
            store::RunFilter filter;
            filter.experiment = to_std(parser.value(QStringLiteral("experiment")));
            const auto runs = store.list_runs(filter);
            if (runs.empty()) throw Error("no runs in experiment \"" + filter.experiment + "\"");
            doomed.insert(doomed.end(), runs.begin(), runs.end());
        }
        if (doomed.empty()) {
            std::cerr << "rilq: name the runs to delete (RUN... or --experiment E)\n";
            return kExitUsage;
        }
        // Opening read-write recorded runs of dead processes as INTERRUPTED: RUNNING ones are live.
        const bool force = parser.isSet(QStringLiteral("force"));
        for (const auto& r : doomed) {
            if (r.status == store::RunStatus::Running && !force)
                throw Error("run " + r.uuid.substr(0, 12) + " (" + r.experiment + "/" + r.name +
                            ") is RUNNING in process " + std::to_string(r.pid) + " on " + r.host +
                            ": stop it first (Ctrl-C or SIGTERM ends it KILLED), or delete with --force; "
                            "nothing was deleted");
        }
        std::cout << "about to delete " << doomed.size() << " run(s) from " << store.path() << ":\n";
        for (const auto& r : doomed) {
            std::cout << "  " << r.uuid.substr(0, 12) << "  " << r.experiment << "/" << r.name << "  "
                      << to_string(r.status) << "\n";
        }
        if (!parser.isSet(QStringLiteral("yes"))) {
            std::cout << "delete them and everything they logged? [y/N] " << std::flush;
            std::string answer;
            if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
                std::cout << "nothing deleted\n";
                return kExitError;
            }
        }
        size_t deleted = 0;
        for (const auto& r : doomed) {
            store.delete_run(r.uuid, force);
            ++deleted;
        }
        std::cout << "deleted " << deleted << " run(s)\n";
        return kExitOk;
    });
}

// Shards come home: runs recorded elsewhere (a Slurm task's store, another machine) merged by
// uuid, all shards in one transaction (core/store/shard_import.h).
int runs_import(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("SHARD"), QStringLiteral("Run store files to merge."),
                                 QStringLiteral("SHARD..."));
    add_db_option(parser);
    int code = kExitOk;
    if (!parse_args(
            parser, args,
            QStringLiteral("Merge the runs of other run store files (shards) into the store, by run id. "
                           "Importing again updates what grew and changes nothing else."),
            1, -1, code))
        return code;
    return run_guarded([&] {
        std::vector<std::string> shards;
        for (const auto& p : parser.positionalArguments())
            shards.push_back(to_std(p));
        RunStore store(store_path(parser));
        const store::ImportReport r = store::import_shards(store, shards);
        std::cout << "imported " << shards.size() << " shard(s) into " << store.path() << ": " << r.added
                  << " run(s) added, " << r.updated << " updated, " << r.unchanged << " unchanged"
                  << (r.older ? ", " + std::to_string(r.older) + " older than the store's record (kept)" : "")
                  << "\n";
        return kExitOk;
    });
}

} // namespace

int cmd_runs(const QStringList& args) {
    const QString usage = QStringLiteral(
        "usage: rilq runs <list|show|diff|delete|import> [options]\n"
        "  list    [--experiment E] [--status S] [--name TEXT] [--limit N]\n"
        "  show    RUN [--json]\n"
        "  diff    RUN RUN          only the params that differ\n"
        "  delete  RUN... | --experiment E  [--yes] [--force]\n"
        "  import  SHARD...         merge runs recorded in other store files (Slurm shards)\n"
        "RUN is an id, an id prefix, a run name or experiment/name; every command takes --db FILE.\n");
    if (args.size() < 2 || args.at(1) == QLatin1String("--help") || args.at(1) == QLatin1String("-h")) {
        (args.size() < 2 ? std::cerr : std::cout) << to_std(usage);
        return args.size() < 2 ? kExitUsage : kExitOk;
    }
    const QString sub = args.at(1);
    QStringList rest = args.mid(2);
    rest.prepend(args.at(0) + QLatin1Char(' ') + sub);
    if (sub == QLatin1String("list")) return runs_list(rest);
    if (sub == QLatin1String("show")) return runs_show(rest);
    if (sub == QLatin1String("diff")) return runs_diff(rest);
    if (sub == QLatin1String("delete")) return runs_delete(rest);
    if (sub == QLatin1String("import")) return runs_import(rest);
    std::cerr << "rilq: unknown runs command '" << to_std(sub) << "'\n" << to_std(usage);
    return kExitUsage;
}

} // namespace rilq::cli
