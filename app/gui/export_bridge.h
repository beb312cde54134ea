// The export view's data: core's pivot_from_store and the same table writers `rilq export`
// uses, so what the GUI copies or saves is the CLI's output character for character.
#pragma once
#include "widgets/pivot_preview.h"

#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>

namespace rilq::gui {

struct ExportChoice {
    QString experiment;
    QString rows = QStringLiteral("lora_r");
    QString cols = QStringLiteral("dataset");
    QString metric = QStringLiteral("ppl");
    QString stage = QStringLiteral("compensated");
    bool mark_best = false;
    int decimals = 2;
    bool include_unfinished = false; // false: FINISHED runs only (KILLED, FAILED, ... left out)
    QString where;                   // "key=value, key=value": keep runs whose param equals the value
};

// The metrics and stages the Export tab offers: core's lists (report::export_metric_choices,
// store::run_stages), as `rilq export --help` prints them. (name, one-line help) pairs.
QVector<QPair<QString, QString>> export_metric_choices();
QStringList export_stages();

// What `rilq run` prints for this experiment: rows = rilq.lora_r (or the one swept param), columns
// = another swept param when there is one (e.g. rilq.scope), else the datasets. Swept params are
// the settings whose values differ between the experiment's runs that the table counts (FINISHED
// ones unless include_unfinished): a cancelled run never makes its own column.
ExportChoice default_export_choice(const QString& store_path, const QString& experiment,
                                   bool include_unfinished = false);

// Both throw rilq::Error (missing experiment, mixed settings in one cell, unreadable store).
widgets::PivotTable export_preview(const QString& store_path, const ExportChoice& choice);
QString export_text(const QString& store_path, const ExportChoice& choice, widgets::PivotFormat format);

} // namespace rilq::gui
