// ExperimentForm: the experiment JSON as a form. The form does not hold a config of its own: it
// edits an nlohmann::json document in place, so keys it has no widget for (datasets, extra
// workbench settings) survive a load / save round trip untouched, and what is saved is exactly
// what `rilq run` would read. Every edit revalidates the document with core's
// validate_experiment(); a field whose JSON path has an issue turns red, with the message as
// its tooltip, and the list of all issues sits under the form.
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
    QString documentText() const; // pretty JSON, 2 spaces, as saveFile writes it

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

  private:
    struct Binding;
    void build();
    // One row of a group: `widget` is what turns red; `load` shows a value (nullptr = absent).
    // `scalar` fields are disabled while the document sweeps them (a list only the JSON can edit).
    void add_field(QFormLayout* form, const QString& key, const QString& label, QWidget* widget,
                   std::function<void(const nlohmann::json*)> load, bool scalar = true);
    void write(const QString& key, const nlohmann::json& value);
    void load_fields();
    void refresh_variants();
    void refresh_dataset_choices();
    void refresh_model_info();
    void mark_issues();
    QString binding_for_path(const QString& path) const;

    std::unique_ptr<nlohmann::json> document_;
    std::vector<std::unique_ptr<Binding>> bindings_;
    QMap<QString, QString> field_errors_; // key -> message
    QVector<FieldIssue> issues_;
    QString file_path_;
    ModelInspector inspector_;
    bool loading_ = false;
    bool was_valid_ = true;
    QLabel* model_info_ = nullptr;
    QListWidget* ranks_ = nullptr;
    QListWidget* eval_datasets_ = nullptr;
    QComboBox* calib_dataset_ = nullptr;
    QComboBox* variant_ = nullptr;
    QLabel* issues_label_ = nullptr;
    QLabel* file_label_ = nullptr;
};

} // namespace rilq::widgets
