// PivotPreview: shows the pivot table (the RILQ README's rank table), copies the exporter's
// Markdown to the clipboard, saves each format by suffix atomically, reports exporter failures.
#include "tests/support/test_support.h"
#include "tests/widgets/widget_test_support.h"
#include "widgets/pivot_preview.h"

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <stdexcept>

using namespace rilq::widgets;

namespace {
PivotTable readme_table() {
    PivotTable t;
    t.title = "Perplexity · LLaMA-2-7B · RTN W2A16G64";
    t.header = {"rank", "Wiki2", "C4", "Avg"};
    t.rows = {{"0 (wo RILQ)", "433.65", "474.32", "453.99"},
              {"16", "10.23", "12.00", "11.12"},
              {"32", "10.01", "11.84", "10.93"},
              {"64", "10.05", "11.79", "10.92"},
              {"128", "10.12", "11.87", "11.00"}};
    t.best_cells = {{1, 2}, {2, 3}, {3, 3}};
    t.footer = "RTN 2-bit, group 64 · seqlen 2048 · calibration C4 320 x 512";
    return t;
}

// Stand-in for core/report: a different, recognisable text per format.
QString fake_export(PivotFormat f) {
    return QString("table as %1\n| rank | Wiki2 |\n").arg(pivot_format_suffix(f));
}

QByteArray file_bytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestPivotPreview : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void formats_by_suffix() {
        PivotFormat f{};
        QVERIFY(pivot_format_for_path("/x/t.MD", &f) && f == PivotFormat::Markdown);
        QVERIFY(pivot_format_for_path("t.csv", &f) && f == PivotFormat::Csv);
        QVERIFY(pivot_format_for_path("t.tex", &f) && f == PivotFormat::Latex);
        QVERIFY(pivot_format_for_path("t.latex", &f) && f == PivotFormat::Latex);
        QVERIFY(pivot_format_for_path("t.json", &f) && f == PivotFormat::Json);
        QVERIFY(!pivot_format_for_path("t.xlsx", &f));
        QVERIFY(!pivot_format_for_path("table", &f));
    }

    void shows_the_table() {
        PivotPreview preview;
        preview.setTable(readme_table());
        QTableWidget* view = preview.tableWidget();
        QCOMPARE(view->rowCount(), 5);
        QCOMPARE(view->columnCount(), 4);
        QCOMPARE(view->horizontalHeaderItem(3)->text(), QString("Avg"));
        QCOMPARE(view->item(0, 0)->text(), QString("0 (wo RILQ)"));
        QCOMPARE(view->item(3, 2)->text(), QString("11.79"));
        QVERIFY(view->item(2, 1)->font().bold()); // best Wiki2: rank 32
        QVERIFY(!view->item(1, 1)->font().bold());
        QCOMPARE(preview.footerText(), readme_table().footer);
        // No exporter yet: actions are disabled, a direct call reports instead of crashing.
        for (QPushButton* b : preview.findChildren<QPushButton*>())
            QVERIFY(!b->isEnabled());
        QSignalSpy errors(&preview, &PivotPreview::errorOccurred);
        QVERIFY(!preview.copyMarkdown());
        QCOMPARE(errors.count(), 1);
        preview.setExporter(fake_export);
        QVERIFY(preview.copyMarkdown());
        QVERIFY(rilq::test::show_offscreen(&preview, QSize(620, 330)));
        QVERIFY(rilq::test::save_screenshot(&preview, "pivot_preview"));
    }

    void copy_markdown_puts_the_exporter_text_on_the_clipboard() {
        PivotPreview preview;
        preview.setTable(readme_table());
        QList<PivotFormat> asked;
        preview.setExporter([&](PivotFormat f) {
            asked.push_back(f);
            return fake_export(f);
        });
        QSignalSpy copied(&preview, &PivotPreview::copied);
        QPushButton* copy = nullptr;
        for (QPushButton* b : preview.findChildren<QPushButton*>())
            if (b->text() == "Copy Markdown") copy = b;
        QVERIFY(copy && copy->isEnabled());
        copy->click();
        QCOMPARE(asked, QList<PivotFormat>({PivotFormat::Markdown}));
        QCOMPARE(QApplication::clipboard()->text(), fake_export(PivotFormat::Markdown));
        QCOMPARE(copied.count(), 1);
        QVERIFY(preview.statusText().contains("5 row"));
    }

    void save_each_format_by_suffix() {
        PivotPreview preview;
        preview.setTable(readme_table());
        preview.setExporter(fake_export);
        QSignalSpy saved(&preview, &PivotPreview::saved);
        const QString dir = QString::fromStdString(rilq::test::make_temp_dir("pivot"));
        for (const QString name : {"t.md", "t.csv", "t.tex", "t.json"}) {
            QString error;
            QVERIFY2(preview.saveTo(dir + "/" + name, &error), qPrintable(error));
            PivotFormat f{};
            QVERIFY(pivot_format_for_path(name, &f));
            QCOMPARE(file_bytes(dir + "/" + name), fake_export(f).toUtf8());
        }
        QCOMPARE(saved.count(), 4);
        QCOMPARE(saved.last().at(1).value<PivotFormat>(), PivotFormat::Json);
        QString error;
        QVERIFY(!preview.saveTo(dir + "/t.xlsx", &error));
        QVERIFY2(error.contains("t.xlsx"), qPrintable(error));
        QVERIFY(!preview.saveTo("/nonexistent-folder/t.md", &error));
        QVERIFY2(error.contains("/nonexistent-folder/t.md"), qPrintable(error));
    }

    void save_as_uses_the_chooser() {
        PivotPreview preview;
        preview.setTable(readme_table());
        preview.setExporter(fake_export);
        preview.setSuggestedFileName("rank-sweep");
        const QString dir = QString::fromStdString(rilq::test::make_temp_dir("pivot_as"));
        QString offered;
        QString answer = dir + "/chosen.tex";
        preview.setSavePathChooser([&](const QString& suggested, const QString& filter) {
            offered = suggested;
            Q_UNUSED(filter);
            return answer;
        });
        preview.saveAs();
        QCOMPARE(offered, QString("rank-sweep.md"));
        QCOMPARE(file_bytes(answer), fake_export(PivotFormat::Latex).toUtf8());
        // Cancel: nothing written, nothing signalled.
        QSignalSpy saved(&preview, &PivotPreview::saved);
        answer.clear();
        preview.saveAs();
        QCOMPARE(saved.count(), 0);
    }

    void exporter_failure_is_reported_and_nothing_is_written() {
        PivotPreview preview;
        preview.setTable(readme_table());
        preview.setExporter(
            [](PivotFormat) -> QString { throw std::runtime_error("metric 'ppl' missing for run 3"); });
        QSignalSpy errors(&preview, &PivotPreview::errorOccurred);
        const QString dir = QString::fromStdString(rilq::test::make_temp_dir("pivot_fail"));
        QVERIFY(!preview.saveTo(dir + "/t.csv"));
        QVERIFY(!QFile::exists(dir + "/t.csv"));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(errors.at(0).at(0).toString().contains("metric 'ppl' missing for run 3"),
                 qPrintable(errors.at(0).at(0).toString()));
        QVERIFY(preview.statusText().contains("csv"));
    }
};

RILQ_TEST_MAIN(TestPivotPreview)
#include "test_pivot_preview.moc"
