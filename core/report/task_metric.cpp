#include "core/report/task_metric.h"

#include "core/eval/tasks/mmlu_categories.h"
#include "core/eval/tasks/task.h"
#include "core/store/run_stages.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

namespace rilq::report {

namespace {

const char* const kSuiteAverageLabel = "CSQA avg."; // RILQ's figure: common-sense QA average
const char* const kMmluOverall = "all";             // mmlu's micro accuracy, the table's Avg.
const char* const kNormSuffix = ".acc_norm";

// "social sciences" -> "Social Sciences", as IR-QLoRA's table heads its columns.
std::string title_case(std::string text) {
    bool start = true;
    for (char& c : text) {
        if (start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        start = c == ' ';
    }
    return text;
}

void append_once(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::string join_with(const std::vector<std::string>& items, const std::string& separator) {
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : separator) + item;
    return out;
}

bool is_suite_task(const TaskInfo& info) {
    return info.family == TaskFamily::MultipleChoice;
}

bool is_suite_task(const std::string& name) {
    for (const TaskInfo& info : task_infos())
        if (info.name == name) return is_suite_task(info);
    return false;
}

} // namespace

std::optional<TaskMetric> parse_task_metric(const std::string& metric) {
    TaskMetric m;
    m.name = metric;
    if (metric == "acc" || metric == "acc_norm") {
        m.suite = true;
        m.norm = metric == "acc_norm";
        m.average_label = kSuiteAverageLabel;
        m.label = m.norm ? std::string(kSuiteAverageLabel) + " (acc_norm)" : kSuiteAverageLabel;
        return m;
    }
    std::string task = metric;
    const size_t suffix =
        metric.size() > std::strlen(kNormSuffix) ? metric.size() - std::strlen(kNormSuffix) : 0;
    if (suffix > 0 && metric.compare(suffix, std::string::npos, kNormSuffix) == 0) {
        task = metric.substr(0, suffix);
        m.norm = true;
    }
    const auto& infos = task_infos();
    const auto info =
        std::find_if(infos.begin(), infos.end(), [&](const TaskInfo& i) { return i.name == task; });
    if (info == infos.end()) return std::nullopt;
    if (m.norm && !info->has_acc_norm)
        throw Error("metric \"" + metric + "\": task " + task + " has no acc_norm (use \"" + task + "\")");
    m.task = task;
    m.label = info->label + (m.norm ? " acc_norm" : "");
    if (info->family == TaskFamily::Mmlu) {
        m.average_label = "Avg.";
        m.average_column = kMmluOverall;
    }
    return m;
}

const std::vector<MetricChoice>& export_metric_choices() {
    static const std::vector<MetricChoice> choices = [] {
        std::vector<MetricChoice> out = {
            {"ppl", "perplexity of every eval dataset, and their average"},
            {"acc", "accuracy of every zero-shot task, and their average (CSQA avg.)"},
            {"acc_norm", "acc_norm of every zero-shot task (acc where a task has none), and their average"}};
        for (const TaskInfo& info : task_infos()) {
            if (info.family == TaskFamily::Mmlu) {
                out.push_back(
                    {info.name, info.label + ": its four categories and the accuracy over all questions"});
                continue;
            }
            out.push_back({info.name, info.label + " accuracy"});
            if (info.has_acc_norm) out.push_back({info.name + kNormSuffix, info.label + " acc_norm"});
        }
        return out;
    }();
    return choices;
}

std::vector<std::string> rank_plot_task_metrics() {
    std::vector<std::string> metrics = {"acc"};
    for (const TaskInfo& info : task_infos())
        if (info.family == TaskFamily::Mmlu) metrics.push_back(info.name);
    return metrics;
}

TaskMetricReader::TaskMetricReader(store::RunStore& store, TaskMetric metric, std::string stage)
    : store_(store), metric_(std::move(metric)), stage_(std::move(stage)) {
    store::check_run_stage(stage_, "export");
}

std::map<std::string, double> TaskMetricReader::columns(const std::string& run_uuid) {
    std::map<std::string, std::map<std::string, store::TaskScore>> by_task_stage;
    for (auto& score : store_.task_scores(run_uuid))
        by_task_stage[score.task][score.stage] = std::move(score);
    std::map<std::string, double> out;
    for (const auto& [task, stages] : by_task_stage) {
        if (metric_.suite ? !is_suite_task(task) : task != metric_.task) continue;
        auto it = stages.find(stage_);
        // A run that compensated nothing (rank 0) has only its quantized scores.
        if (it == stages.end() && stage_ == "compensated") {
            it = stages.find("quantized");
            if (it != stages.end()) used_stand_in_ = true;
        }
        if (it == stages.end()) continue;
        const store::TaskScore& s = it->second;
        const double fraction = metric_.norm && !std::isnan(s.acc_norm) ? s.acc_norm : s.acc;
        if (!metric_.average_column.empty()) { // mmlu: the categories and the overall accuracy
            for (const store::TaskGroupScore& g : s.groups)
                if (g.kind == "category") out[g.name] = 100.0 * g.acc;
            out[metric_.average_column] = 100.0 * fraction;
        } else {
            out[task] = 100.0 * fraction;
        }
        append_once(seen_[task], std::to_string(s.shots) + "-shot n=" + std::to_string(s.n));
        append_once(bos_rules_, s.bos);
    }
    return out;
}

std::optional<double> TaskMetricReader::value(const std::map<std::string, double>& run_columns,
                                              const std::string& column,
                                              const std::vector<std::string>& all_columns) const {
    if (!column.empty()) {
        const auto it = run_columns.find(column);
        if (it == run_columns.end()) return std::nullopt;
        return it->second;
    }
    if (!metric_.average_column.empty()) return value(run_columns, metric_.average_column, all_columns);
    if (!metric_.suite) return value(run_columns, metric_.task, all_columns);
    // The suite average, as the table's average column takes it: only runs with every column.
    double sum = 0.0;
    for (const auto& c : all_columns) {
        const auto it = run_columns.find(c);
        if (it == run_columns.end()) return std::nullopt;
        sum += it->second;
    }
    if (all_columns.empty()) return std::nullopt;
    return sum / static_cast<double>(all_columns.size());
}

std::vector<std::string> TaskMetricReader::column_order() const {
    std::vector<std::string> order;
    if (!metric_.average_column.empty()) {
        for (const auto& [category, subcategories] : mmlu_categories())
            order.push_back(category);
        order.push_back(metric_.average_column);
        return order;
    }
    for (const TaskInfo& info : task_infos())
        if (metric_.suite ? is_suite_task(info) : info.name == metric_.task) order.push_back(info.name);
    return order;
}

std::map<std::string, std::string> TaskMetricReader::column_labels() const {
    std::map<std::string, std::string> labels;
    if (!metric_.average_column.empty()) {
        for (const auto& [category, subcategories] : mmlu_categories())
            labels[category] = title_case(category);
        labels[metric_.average_column] = metric_.average_label;
        return labels;
    }
    for (const TaskInfo& info : task_infos())
        labels[info.name] = info.label + (metric_.norm && !metric_.suite ? " acc_norm" : "");
    return labels;
}

std::string TaskMetricReader::protocol() const {
    std::string text = std::string(metric_.norm ? "acc_norm" : "accuracy") + " % (" + stage_ +
                       (used_stand_in_ ? "; quantized where nothing was compensated" : "") + ")" +
                       (metric_.suite && metric_.norm ? ", acc where a task has no acc_norm" : "") + ": ";
    std::vector<std::string> tasks;
    for (const TaskInfo& info : task_infos()) {
        const auto it = seen_.find(info.name);
        if (it != seen_.end()) tasks.push_back(info.label + " " + join_with(it->second, "/"));
    }
    text += join_with(tasks, ", ");
    std::vector<std::string> bos;
    for (const auto& rule : bos_rules_)
        if (!rule.empty()) bos.push_back(rule);
    if (!bos.empty()) text += "; BOS " + join_with(bos, "/");
    return text;
}

} // namespace rilq::report
