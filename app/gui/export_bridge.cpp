#include "app/gui/export_bridge.h"
#include "app/gui/qt_text.h"

#include "core/report/number_format.h"
#include "core/run/config_document.h"
#include "core/report/store_pivot.h"
#include "core/report/table_writers.h"
#include "core/report/task_metric.h"
#include "core/store/run_stages.h"
#include "core/store/run_store.h"

#include <algorithm>
#include <map>
#include <set>

namespace rilq::gui {

namespace {

report::PivotTable build(const QString& store_path, const ExportChoice& choice) {
    report::ExportRequest request; // the fields `rilq export` fills from its options
    request.experiment = choice.experiment.toStdString();
    request.rows = choice.rows.toStdString();
    request.cols = choice.cols.toStdString();
    request.metric = choice.metric.toStdString();
    request.stage = choice.stage.toStdString();
    request.mark_best = choice.mark_best;
    request.decimals = choice.decimals;
    request.include_unfinished = choice.include_unfinished;
    for (const QString& part : choice.where.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!part.trimmed().isEmpty())
            request.where.push_back(report::parse_where(part.trimmed().toStdString()));
    store::StoreOptions options;
    options.mode = store::Database::Mode::ReadOnly;
    store::RunStore store(store_path.toStdString(), options);
    return report::pivot_from_store(store, request);
}

report::TableFormat to_core(widgets::PivotFormat format) {
    switch (format) {
    case widgets::PivotFormat::Markdown:
        return report::TableFormat::Markdown;
    case widgets::PivotFormat::Csv:
        return report::TableFormat::Csv;
    case widgets::PivotFormat::Latex:
        return report::TableFormat::Latex;
    case widgets::PivotFormat::Json:
        return report::TableFormat::Json;
    }
    return report::TableFormat::Markdown;
}

} // namespace

QVector<QPair<QString, QString>> export_metric_choices() {
    QVector<QPair<QString, QString>> out;
    for (const auto& choice : report::export_metric_choices())
        out.push_back({qt(choice.name), qt(choice.help)});
    return out;
}

QStringList export_stages() {
    QStringList out;
    for (const auto& stage : store::run_stages())
        out << qt(stage);
    return out;
}

widgets::PivotTable export_preview(const QString& store_path, const ExportChoice& choice) {
    const report::PivotTable table = build(store_path, choice);
    widgets::PivotTable out;
    const auto task_metric = report::parse_task_metric(choice.metric.toStdString());
    if (choice.metric == QLatin1String("ppl"))
        out.title = QStringLiteral("Perplexity · %1 · %2").arg(choice.experiment, choice.stage);
    else if (task_metric)
        out.title = QStringLiteral("%1 accuracy (%) · %2 · %3")
                        .arg(qt(task_metric->label), choice.experiment, choice.stage);
    else
        out.title = QStringLiteral("%1 · %2").arg(choice.metric, choice.experiment);
    out.header << qt(table.row_header);
    for (const auto& label : table.column_labels)
        out.header << qt(label);
    for (size_t r = 0; r < table.cells.size(); ++r) {
        QStringList row;
        row << qt(table.row_labels[r]);
        for (size_t c = 0; c < table.cells[r].size(); ++c) {
            const auto& cell = table.cells[r][c];
            // Same cell text as the Markdown writer: fixed decimals, "mean ± std" over seeds.
            QString text = QStringLiteral("-");
            if (cell.present) {
                text = qt(report::format_fixed(cell.mean, table.decimals));
                if (cell.n > 1)
                    text += QStringLiteral(" ± ") + qt(report::format_fixed(cell.std, table.decimals));
            }
            if (cell.best) out.best_cells.push_back(QPoint(int(c) + 1, int(r)));
            row << text;
        }
        out.rows.push_back(row);
    }
    out.footer = qt(table.footer);
    return out;
}

QString export_text(const QString& store_path, const ExportChoice& choice, widgets::PivotFormat format) {
    return qt(report::write_table(build(store_path, choice), to_core(format)));
}

ExportChoice default_export_choice(const QString& store_path, const QString& experiment,
                                   bool include_unfinished) {
    ExportChoice choice;
    choice.experiment = experiment;
    choice.include_unfinished = include_unfinished;
    store::StoreOptions options;
    options.mode = store::Database::Mode::ReadOnly;
    store::RunStore store(store_path.toStdString(), options);
    store::RunFilter filter;
    filter.experiment = experiment.toStdString();
    filter.with_params = true;
    std::map<std::string, std::set<std::string>> values;
    for (const auto& run : store.list_runs(filter)) {
        if (!include_unfinished && run.status != store::RunStatus::Finished) continue;
        for (const auto& [key, value] : run.params)
            if (run::is_setting_param(key)) values[key].insert(value);
    }
    std::vector<std::string> swept;
    for (const auto& [key, set] : values)
        if (set.size() > 1 && key != "seed") swept.push_back(key);
    const auto rank = std::find(swept.begin(), swept.end(), "rilq.lora_r");
    if (rank != swept.end())
        swept.erase(rank);
    else if (!swept.empty())
        choice.rows = qt(swept.front()), swept.erase(swept.begin());
    if (!swept.empty()) choice.cols = qt(swept.front());
    return choice;
}

} // namespace rilq::gui
