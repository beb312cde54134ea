#include "core/report/store_pivot.h"

#include "core/quant/quant_registry.h"
#include "core/report/number_format.h"
#include "core/report/task_metric.h"
#include "core/run/config_document.h"
#include "core/store/run_store.h"
#include "core/util/did_you_mean.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace rilq::report {

using store::RunSummary;

namespace {

std::string leaf(const std::string& key) {
    const size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

// "lora_r" -> "rilq.lora_r": an exact key, else the one key whose last part matches (the rilq
// section's when several do).
std::string resolve_param(const std::string& name, const std::vector<RunSummary>& runs) {
    std::set<std::string> keys;
    for (const auto& r : runs) {
        for (const auto& kv : r.params)
            keys.insert(kv.first);
    }
    if (keys.count(name)) return name;
    std::vector<std::string> matches;
    for (const auto& k : keys) {
        if (leaf(k) == name) matches.push_back(k);
    }
    if (matches.size() == 1) return matches.front();
    // "lora_r" is RILQ's rank even where a fine-tuning section has its own (finetune.lora_r, which
    // is then spelled out): the rilq section is the one every run of the workbench has.
    if (std::find(matches.begin(), matches.end(), "rilq." + name) != matches.end()) return "rilq." + name;
    if (matches.size() > 1) {
        std::string list;
        for (const auto& m : matches)
            list += (list.empty() ? "" : ", ") + m;
        throw Error("param \"" + name + "\" is ambiguous: " + list);
    }
    // Suggest by last part too: "lora_rr" is a typo of "lora_r", far from "rilq.lora_r".
    std::string hint = closest_match(name, std::vector<std::string>(keys.begin(), keys.end()));
    if (hint.empty()) {
        std::vector<std::string> leaves;
        for (const auto& k : keys)
            leaves.push_back(leaf(k));
        const std::string close_leaf = closest_match(name, leaves);
        for (const auto& k : keys) {
            if (!close_leaf.empty() && leaf(k) == close_leaf) hint = k;
        }
    }
    throw Error("no param \"" + name + "\" in these runs" +
                (hint.empty() ? "" : ", did you mean \"" + hint + "\"?"));
}

std::string param_or(const RunSummary& run, const std::string& key, const std::string& fallback = "") {
    const auto it = run.params.find(key);
    return it == run.params.end() ? fallback : it->second;
}

// Distinct values in run order, joined with "/".
template <class F> std::string distinct(const std::vector<RunSummary>& runs, F value_of) {
    std::vector<std::string> seen;
    for (const auto& r : runs) {
        const std::string v = value_of(r);
        if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    }
    std::string out;
    for (const auto& v : seen)
        out += (out.empty() ? "" : "/") + v;
    return out;
}

std::string quantizer_text(const RunSummary& r) {
    const std::string method = param_or(r, "quant.method");
    if (method.empty()) return {};
    if (method == "none") return "fake-quantized model " + param_or(r, "rilq.q_model");
    const std::string name = quant_method_label(method);
    const std::string group = param_or(r, "quant.group_size");
    // The W<bits>A16G<group> notation of the RILQ README (weights only; activations stay 16-bit).
    return name + " W" + param_or(r, "quant.bits") + "A16" + (group == "0" ? "" : "G" + group) + " (" +
           param_or(r, "quant.variant") + ")";
}

std::string protocol_line(const std::vector<RunSummary>& runs,
                          const std::map<std::string, std::string>& seqlens, const std::string& tokenizers,
                          const ExportRequest& request, const std::string& task_protocol, bool stand_in,
                          bool spread, int runs_per_cell) {
    std::vector<std::string> parts;
    const std::string quantizer = distinct(runs, quantizer_text);
    if (!quantizer.empty()) parts.push_back(quantizer);
    if (!task_protocol.empty()) {
        parts.push_back(task_protocol);
    } else if (request.metric == "ppl") {
        std::string eval = "PPL (" + request.stage +
                           (stand_in ? "; quantized where nothing was compensated" : "") + ") at seqlen " +
                           distinct(runs, [&](const RunSummary& r) {
                               return seqlens.count(r.uuid) ? seqlens.at(r.uuid) : param_or(r, "eval.seqlen");
                           });
        if (!tokenizers.empty()) eval += ", tokenizer " + tokenizers;
        parts.push_back(eval);
    } else {
        parts.push_back(request.metric + " (" + request.metric_stat + ")");
    }
    parts.push_back(
        "calibration " +
        distinct(runs, [](const RunSummary& r) { return param_or(r, "rilq.calib_dataset"); }) + " " +
        distinct(runs, [](const RunSummary& r) { return param_or(r, "rilq.calib_num_samples"); }) + " x " +
        distinct(runs, [](const RunSummary& r) { return param_or(r, "rilq.calib_max_length"); }) + ", val " +
        distinct(runs, [](const RunSummary& r) { return param_or(r, "rilq.calib_val_ratio"); }));
    parts.push_back("lr " +
                    distinct(runs, [](const RunSummary& r) { return param_or(r, "rilq.approx_lr"); }));
    if (spread) parts.push_back("mean \xC2\xB1 std over up to " + std::to_string(runs_per_cell) + " runs");
    std::string out = "Protocol: ";
    for (size_t i = 0; i < parts.size(); ++i)
        out += (i ? "; " : "") + parts[i];
    return out;
}

// Params that may differ between runs averaged into one cell.
bool may_differ(const std::string& key, const std::string& row_key,
                const std::vector<std::string>& col_keys) {
    return key == row_key || std::find(col_keys.begin(), col_keys.end(), key) != col_keys.end() ||
           key == "seed" || !run::is_setting_param(key);
}

// "quant.method,rilq.lora_init" -> each name resolved; Error naming an empty one.
std::vector<std::string> resolve_column_params(const std::string& cols, const std::vector<RunSummary>& runs) {
    std::vector<std::string> keys;
    size_t start = 0;
    while (true) {
        const size_t comma = cols.find(',', start);
        const std::string name =
            cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (name.empty())
            throw Error("columns \"" + cols + "\": expected params separated by commas, found an empty one");
        keys.push_back(resolve_param(name, runs));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return keys;
}

// A run's column of param columns: its values of the column params joined by " / ".
std::string column_of(const RunSummary& run, const std::vector<std::string>& col_keys) {
    std::string out;
    for (const auto& key : col_keys)
        out += (out.empty() ? "" : " / ") + param_or(run, key, "?");
    return out;
}

bool all_numeric(const std::vector<std::string>& values) {
    return std::all_of(values.begin(), values.end(), [](const std::string& v) {
        char* end = nullptr;
        std::strtod(v.c_str(), &end);
        return !v.empty() && end == v.c_str() + v.size();
    });
}

} // namespace

std::pair<std::string, std::string> parse_where(const std::string& assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw Error("expected KEY=VALUE (e.g. quant.bits=2), found \"" + assignment + "\"");
    }
    return {assignment.substr(0, eq), assignment.substr(eq + 1)};
}

PivotTable pivot_from_store(store::RunStore& store, const ExportRequest& request) {
    if (request.experiment.empty()) {
        std::string known;
        for (const auto& e : store.experiments())
            known += (known.empty() ? "" : ", ") + e.name;
        throw Error("choose an experiment" +
                    (known.empty() ? std::string(" (the store has none)") : " (known: " + known + ")"));
    }
    store::RunFilter filter;
    filter.experiment = request.experiment;
    filter.with_params = true;
    std::vector<RunSummary> runs = store.list_runs(filter);
    if (runs.empty()) {
        std::vector<std::string> names;
        for (const auto& e : store.experiments())
            names.push_back(e.name);
        const std::string hint = closest_match(request.experiment, names);
        throw Error(store.path() + ": no runs in experiment \"" + request.experiment + "\"" +
                    (hint.empty() ? "" : ", did you mean \"" + hint + "\"?"));
    }
    if (!request.include_unfinished) {
        runs.erase(std::remove_if(runs.begin(), runs.end(),
                                  [](const RunSummary& r) { return r.status != store::RunStatus::Finished; }),
                   runs.end());
        if (runs.empty()) throw Error("no FINISHED runs in experiment \"" + request.experiment + "\"");
    }
    const std::vector<RunSummary> all_runs = runs;
    for (const auto& [name, value] : request.where) {
        const std::string key = resolve_param(name, all_runs);
        runs.erase(std::remove_if(runs.begin(), runs.end(),
                                  [&](const RunSummary& r) { return param_or(r, key) != value; }),
                   runs.end());
    }
    if (runs.empty()) throw Error("no runs left after the --where filters");
    // A point recorded twice counts once: its latest run (list order is creation order).
    {
        std::map<std::string, size_t> last_of_hash;
        for (size_t i = 0; i < runs.size(); ++i) {
            if (!runs[i].config_hash.empty()) last_of_hash[runs[i].config_hash] = i;
        }
        std::vector<RunSummary> kept;
        for (size_t i = 0; i < runs.size(); ++i) {
            if (runs[i].config_hash.empty() || last_of_hash[runs[i].config_hash] == i)
                kept.push_back(runs[i]);
        }
        runs.swap(kept);
    }

    const std::string row_key = resolve_param(request.rows, runs);
    const bool by_dataset = request.cols == "dataset";
    const std::vector<std::string> col_keys =
        by_dataset ? std::vector<std::string>{} : resolve_column_params(request.cols, runs);
    const bool ppl = request.metric == "ppl";
    std::optional<TaskMetricReader> tasks;
    if (const auto task_metric = parse_task_metric(request.metric))
        tasks.emplace(store, *task_metric, request.stage);
    if (!ppl && !tasks && request.metric_stat != "min" && request.metric_stat != "max" &&
        request.metric_stat != "last") {
        throw Error("metric statistic \"" + request.metric_stat + "\": expected min, max or last");
    }

    PivotOptions options;
    options.metric = request.metric;
    options.mark_best = request.mark_best;
    options.lower_is_better = !request.higher_is_better && !tasks;
    options.decimals = request.decimals;
    options.row_header = leaf(row_key) == "lora_r" ? "LoRA rank" : leaf(row_key);
    if (leaf(row_key) == "lora_r") options.row_labels["0"] = "0 (wo RILQ)"; // the README's baseline row

    std::vector<PivotObservation> observations;
    std::map<std::string, std::string> seqlens;
    std::vector<std::string> tokenizers;
    bool used_stand_in = false;
    const auto ppl_by_dataset = [&](const RunSummary& run) {
        std::map<std::string, std::map<std::string, store::EvalResult>> by_dataset_stage;
        for (const auto& r : store.eval_results(run.uuid))
            by_dataset_stage[r.dataset][r.stage] = r;
        std::map<std::string, double> chosen;
        for (const auto& [dataset, stages] : by_dataset_stage) {
            auto it = stages.find(request.stage);
            // A run that compensated nothing (rank 0) has only its quantized result.
            if (it == stages.end() && request.stage == "compensated") {
                it = stages.find("quantized");
                if (it != stages.end()) used_stand_in = true;
            }
            if (it == stages.end()) continue;
            const store::EvalResult& r = it->second;
            chosen[dataset] = r.ppl;
            seqlens[run.uuid] = std::to_string(r.seqlen);
            if (!r.tokenizer.empty() &&
                std::find(tokenizers.begin(), tokenizers.end(), r.tokenizer) == tokenizers.end())
                tokenizers.push_back(r.tokenizer);
        }
        return chosen;
    };
    const auto logged_value = [&](const RunSummary& run, double& value) {
        const auto it = run.metrics.find(request.metric);
        if (it == run.metrics.end()) return false;
        if (request.metric_stat == "last")
            value = it->second.latest;
        else if (!it->second.has_best)
            return false;
        else
            value = request.metric_stat == "min" ? it->second.min : it->second.max;
        return !std::isnan(value);
    };

    // PPL per dataset or accuracy per task of each run, and every column any run has.
    const bool measured = ppl || tasks;
    std::vector<std::map<std::string, double>> measured_values(runs.size());
    std::vector<std::string> measured_columns;
    for (size_t i = 0; measured && i < runs.size(); ++i) {
        measured_values[i] = tasks ? tasks->columns(runs[i].uuid) : ppl_by_dataset(runs[i]);
        for (const auto& kv : measured_values[i])
            if (std::find(measured_columns.begin(), measured_columns.end(), kv.first) ==
                measured_columns.end())
                measured_columns.push_back(kv.first);
    }

    std::vector<std::string> column_values;
    for (size_t i = 0; i < runs.size(); ++i) {
        const RunSummary& run = runs[i];
        const std::string row = param_or(run, row_key, "?");
        if (by_dataset && measured) {
            for (const auto& [column, value] : measured_values[i])
                observations.push_back({row, column, run.uuid, value});
            continue;
        }
        double value = 0.0;
        bool have = false;
        if (tasks) {
            const auto v = tasks->value(measured_values[i], request.dataset, measured_columns);
            have = v.has_value();
            if (have) value = *v;
        } else if (ppl) {
            const auto& results = measured_values[i];
            if (!request.dataset.empty()) {
                have = results.count(request.dataset) > 0;
                if (have) value = results.at(request.dataset);
            } else if (!results.empty()) {
                double sum = 0.0;
                for (const auto& kv : results)
                    sum += kv.second;
                value = sum / static_cast<double>(results.size());
                have = true;
            }
        } else {
            have = logged_value(run, value);
        }
        if (!have) continue;
        const std::string column = by_dataset ? request.metric : column_of(run, col_keys);
        if (std::find(column_values.begin(), column_values.end(), column) == column_values.end())
            column_values.push_back(column);
        observations.push_back({row, column, run.uuid, value});
    }
    if (observations.empty()) {
        throw NoValuesError(
            "no " +
            (ppl     ? "perplexity results (stage " + request.stage + ")"
             : tasks ? "task scores for metric \"" + request.metric + "\" (stage " + request.stage + ")"
                     : "values of metric \"" + request.metric + "\"") +
            " in the selected runs of \"" + request.experiment + "\"");
    }

    // Runs averaged into one cell must share every setting but the seed.
    std::map<std::string, std::vector<const RunSummary*>> groups;
    for (const auto& run : runs) {
        groups[param_or(run, row_key) + "\x1f" + (by_dataset ? "" : column_of(run, col_keys))].push_back(
            &run);
    }
    int runs_per_cell = 1;
    for (const auto& [cell, members] : groups) {
        runs_per_cell = std::max(runs_per_cell, static_cast<int>(members.size()));
        for (size_t i = 1; i < members.size(); ++i) {
            std::set<std::string> keys;
            for (const auto& kv : members[0]->params)
                keys.insert(kv.first);
            for (const auto& kv : members[i]->params)
                keys.insert(kv.first);
            for (const auto& key : keys) {
                if (may_differ(key, row_key, col_keys)) continue;
                const std::string a = param_or(*members[0], key, "(unset)"),
                                  b = param_or(*members[i], key, "(unset)");
                if (a == b) continue;
                throw Error("runs in the row " + leaf(row_key) + "=" + param_or(*members[0], row_key) +
                            " differ in " + key + " (" + a + " vs " + b + "): filter with --where " + key +
                            "=VALUE or put it in --rows/--cols");
            }
        }
    }

    if (by_dataset && tasks) {
        options.columns = tasks->column_order();
        options.column_labels = tasks->column_labels();
        options.average_label = tasks->metric().average_label;
        options.average_column = !options.average_label.empty();
        options.average_from_column = tasks->metric().average_column;
    } else if (by_dataset && ppl) {
        // Column order and labels from the runs' configs.
        for (const auto& run : runs) {
            const auto list = nlohmann::json::parse(param_or(run, "eval.datasets", "[]"), nullptr, false);
            if (list.is_array()) {
                for (const auto& d : list) {
                    if (d.is_string()) options.columns.push_back(d.get<std::string>());
                }
            }
            for (const auto& [key, value] : run.params) {
                const std::string prefix = "datasets.", suffix = ".label";
                if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size() + suffix.size() &&
                    key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
                    options.column_labels.emplace(
                        key.substr(prefix.size(), key.size() - prefix.size() - suffix.size()), value);
                }
            }
        }
    } else {
        options.average_column = false;
        if (all_numeric(column_values)) {
            std::sort(column_values.begin(), column_values.end(),
                      [](const std::string& a, const std::string& b) { return std::stod(a) < std::stod(b); });
        }
        options.columns = column_values;
        if (col_keys.size() == 1) {
            for (const auto& v : column_values)
                options.column_labels[v] = leaf(col_keys.front()) + "=" + v;
        }
    }

    std::string tokenizer_list;
    for (const auto& t : tokenizers)
        tokenizer_list += (tokenizer_list.empty() ? "" : "/") + t;
    PivotTable table = build_pivot(observations, options);
    table.footer = protocol_line(runs, seqlens, tokenizer_list, request, tasks ? tasks->protocol() : "",
                                 used_stand_in, table.has_spread(), runs_per_cell);
    if (col_keys.size() > 1) {
        std::string names;
        for (const auto& key : col_keys)
            names += (names.empty() ? "" : " / ") + leaf(key);
        table.footer += "; columns: " + names;
    }
    return table;
}

} // namespace rilq::report
