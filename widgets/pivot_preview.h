// PivotPreview: the export table (rows = the swept setting, columns = datasets + Avg) as it will
// be exported, with its protocol footer, and the two actions people want: copy as Markdown, save
// as .md / .csv / .tex / .json. The text itself comes from an exporter the app connects to
// core's report writers, so the GUI's export is the CLI's export character for character.
#pragma once
#include <QMetaType>
#include <QPoint>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <functional>

class QLabel;
class QPushButton;
class QTableWidget;

namespace rilq::widgets {

struct PivotTable {
    QString title;              // "Perplexity · RTN W2A16G64"
    QStringList header;         // "rank", "wikitext2", "c4", "Avg"
    QVector<QStringList> rows;  // cells as printed: "0 (wo RILQ)", "433.65", ... ("10.2 ± 0.1")
    QVector<QPoint> best_cells; // (column, row) of cells marked best: drawn bold
    QString footer;             // protocol line: quantizer, bits, group, seqlen, calibration
};

enum class PivotFormat { Markdown, Csv, Latex, Json };
QString pivot_format_suffix(PivotFormat format); // "md", "csv", "tex", "json"
// From a file name's suffix (.md/.markdown, .csv, .tex/.latex, .json; case-insensitive).
bool pivot_format_for_path(const QString& path, PivotFormat* format);

// Renders the current table in a format; may throw std::exception (shown, never a crash).
using PivotExporter = std::function<QString(PivotFormat)>;
// Asks where to save; returns "" when the user cancels. Default: QFileDialog.
using SavePathChooser = std::function<QString(const QString& suggested_name, const QString& filter)>;

class PivotPreview : public QWidget {
    Q_OBJECT
  public:
    explicit PivotPreview(QWidget* parent = nullptr);

    void setTable(const rilq::widgets::PivotTable& table);
    const PivotTable& pivotTable() const { return table_; }
    // Until an exporter is set the buttons are disabled.
    void setExporter(PivotExporter exporter);
    void setSavePathChooser(SavePathChooser chooser);
    void setSuggestedFileName(const QString& base_name); // without suffix; default "rilq-table"

    // Writes exporter(format from suffix) to `path` atomically. False + message on failure.
    bool saveTo(const QString& path, QString* error = nullptr);
    QTableWidget* tableWidget() const { return view_; }
    QString footerText() const;
    QString statusText() const; // last action's outcome, as shown under the table

  public Q_SLOTS:
    bool copyMarkdown(); // to the clipboard
    void saveAs();       // asks for a path, then saveTo

  Q_SIGNALS:
    void copied(const QString& markdown);
    void saved(const QString& path, rilq::widgets::PivotFormat format);
    void errorOccurred(const QString& message);

  private:
    bool render(PivotFormat format, QString* text, QString* error) const;
    void report(const QString& message, bool is_error);

    PivotTable table_;
    PivotExporter exporter_;
    SavePathChooser chooser_;
    QString suggested_name_ = QStringLiteral("rilq-table");
    QLabel* title_ = nullptr;
    QTableWidget* view_ = nullptr;
    QLabel* footer_ = nullptr;
    QLabel* status_ = nullptr;
    QPushButton* copy_button_ = nullptr;
    QPushButton* save_button_ = nullptr;
};

} // namespace rilq::widgets

Q_DECLARE_METATYPE(rilq::widgets::PivotTable)
Q_DECLARE_METATYPE(rilq::widgets::PivotFormat)
