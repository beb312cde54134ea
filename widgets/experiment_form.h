// ExperimentForm: the experiment JSON as a form built from core's schema (core/run/config_schema.h):
// one row per field, in the schema's groups, with the field's label, default, range, choices and
// doc; generic editors by kind (field_editor.h), custom ones where a generic editor would be poor
// (the learning rate, the rank list, paths, dataset names, the quantizer's variant and bits, which
// come from the quantizer registry). A new schema field appears here without a change to the form.
//
// The form does not hold a config of its own: it edits an nlohmann::json document in place, so
// keys it has no widget for (datasets) survive a load / save round trip untouched, and what is
// saved is exactly what `rilq run` would read. Every edit revalidates the document with core's
// validate_experiment(); a field whose JSON path has an issue turns red, with the message as its
// tooltip, and the list of all issues sits under the form. Changing the quantization method resets
// the variant to the method's default (and bits it does not accept to its first) and shows only the
// knobs that method reads.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <functional>
#include <memory>

class QLabel;
class QFormLayout;
class QListWidget;
class QComboBox;
class QLineEdit;
class QScrollArea;

namespace rilq::config {
struct FieldInfo;
}

namespace rilq::widgets {

// What the form shows about the picked FP model. The app fills it from core's summarize_model
// (the form itself never loads a model).
struct ModelInfo {
    bool ok = false;
    QString error;   // when !ok: names the file and what is wrong
    QString format;  // "hf" | "llama2c"
    QString summary; // "dim 64 · 5 layers · 8 heads (4 kv) · vocab 512 · ctx 512"
    qint64 parameter_count = 0;
};
using ModelInspector = std::function<ModelInfo(const QString& absolute_path)>;

struct FieldIssue {
    QString path;    // "$.rilq.lora_r[2]"
    QString message; // "expected a non-negative integer, found -4"
};

class ExperimentForm : public QWidget {
    Q_OBJECT
  public:
    // Ranks offered in the LoRA rank list (a checked set is a sweep; 0 = the uncompensated row).
    static const QVector<int>& rankChoices();

    explicit ExperimentForm(QWidget* parent = nullptr);
    ~ExperimentForm() override;

    // Replaces the document and refreshes every field (no documentChanged for this).
    void setDocument(const nlohmann::json& document);
    const nlohmann::json& document() const;
    QString documentText() const; // pretty JSON, 2 spaces, in the file's key order, as saveFile writes it

    // False + message naming the file on a read, JSON syntax or write error.
    bool loadFile(const QString& path, QString* error = nullptr);
    bool saveFile(const QString& path, QString* error = nullptr);
    QString filePath() const { return file_path_; } // "" until loaded / saved
    // Folder relative data_root resolves against (the file's folder once loaded).
    QString baseDir() const;

    void setModelInspector(ModelInspector inspector);
    QString modelSummaryText() const;
    // `path` made absolute against the document's data_root ("" stays "").
    QString resolvePath(const QString& path) const;

    // ---- validation ----
    QVector<FieldIssue> issues() const { return issues_; }
    bool isValid() const { return issues_.isEmpty(); }
    QStringList fieldKeys() const; // "name", "rilq.approx_lr", "quant.bits", ...
    QWidget* fieldWidget(const QString& key) const;
    QString fieldError(const QString& key) const; // "" when the field is fine

    // The rank list's checked ranks (ascending); setting them writes rilq.lora_r.
    QVector<int> loraRanks() const;

  public Q_SLOTS:
    void setLoraRanks(const QVector<int>& ranks);
    void revalidate();

  Q_SIGNALS:
    void documentChanged(); // the user (or a setter) edited a field
    void validityChanged(bool valid);
    void runRequested();
    void errorOccurred(const QString& message);

  protected:
    // Keeps the mouse wheel for scrolling the form (see build()).
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    // One row: the field's widget (what turns red), its label, and how to show a document value.
    struct Binding {
        QString key; // "rilq.lora_r"
        const config::FieldInfo* field = nullptr;
        QWidget* widget = nullptr;
        QLabel* label = nullptr;
        std::function<void(const nlohmann::json*)> load; // nullptr = absent: the field's default
        bool scalar = true;                              // disabled while the document sweeps it
    };
    void build();
    // The editor of one field: a custom one for the keys that need it, else the generic one.
    QWidget* editor_for(const QString& key, const config::FieldInfo& field,
                        std::function<void(const nlohmann::json*)>& load, bool& scalar);
    QWidget* path_editor(const QString& key, bool folder, std::function<void(const nlohmann::json*)>& load);
    void write(const QString& key, const nlohmann::json& value);
    void erase(const QString& key);
    void load_fields();
    void on_method_changed(const QString& method);
    void refresh_quant_choices();
    void refresh_dataset_choices();
    void refresh_model_info();
    void mark_issues();
    QString binding_for_path(const QString& path) const;

    std::unique_ptr<nlohmann::json> document_;
    // The loaded file's key order (json sorts keys): saving writes the document in it.
    std::unique_ptr<nlohmann::ordered_json> file_order_;
    std::vector<std::unique_ptr<Binding>> bindings_;
    QMap<QString, QString> field_errors_; // key -> message
    QVector<FieldIssue> issues_;
    QString file_path_;
    ModelInspector inspector_;
    bool loading_ = false; // showing values: the editors' change signals must not write them back
    bool was_valid_ = true;
    // The editors the form refreshes itself: dataset names and the method's choices follow the
    // document; the labels show the model, the issues and the file.
    QListWidget *ranks_ = nullptr, *eval_datasets_ = nullptr;
    QComboBox *calib_dataset_ = nullptr, *variant_ = nullptr, *bits_ = nullptr;
    QLabel *model_info_ = nullptr, *issues_label_ = nullptr, *file_label_ = nullptr;
    QScrollArea* scroll_ = nullptr; // the rows
};

} // namespace rilq::widgets
