// The Slurm fields of the run toolbar's backend choice: one line edit per field of
// core/cluster/slurm_resources.h (the same table `rilq run --backend slurm` takes its options
// from), extra sbatch options one per line, and shared preparation.
#pragma once
#include "app/gui/run_backend_choice.h"

#include <QDialog>
#include <QMap>

class QCheckBox;
class QLineEdit;
class QPlainTextEdit;
class QLabel;

namespace rilq::gui {

class SlurmSettingsDialog : public QDialog {
    Q_OBJECT
  public:
    explicit SlurmSettingsDialog(const RunBackendChoice& choice, QWidget* parent = nullptr);

    // The choice with the dialog's fields; false (and the reason) when a field does not parse.
    bool read(RunBackendChoice& choice, QString* error) const;
    QLineEdit* field(const QString& key) const { return fields_.value(key); } // tests
    QPlainTextEdit* sbatchArgs() const { return sbatch_args_; }
    QCheckBox* sharedPreparation() const { return shared_; }

  private:
    QMap<QString, QLineEdit*> fields_;
    QPlainTextEdit* sbatch_args_ = nullptr;
    QCheckBox* shared_ = nullptr;
    QLabel* error_ = nullptr;
};

} // namespace rilq::gui
