#include "app/gui/slurm_settings_dialog.h"

#include "app/gui/qt_text.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QVBoxLayout>

namespace rilq::gui {

SlurmSettingsDialog::SlurmSettingsDialog(const RunBackendChoice& choice, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Slurm settings"));
    auto* form = new QFormLayout;
    for (const cluster::SlurmField& f : cluster::slurm_fields()) {
        auto* edit = new QLineEdit(qt(cluster::slurm_field_text(choice.slurm, f)), this);
        edit->setObjectName(QStringLiteral("slurm_") + QString::fromLatin1(f.key));
        edit->setToolTip(QString::fromLatin1(f.help));
        edit->setPlaceholderText(tr("default"));
        fields_.insert(QString::fromLatin1(f.key), edit);
        form->addRow(QString::fromLatin1(f.key) + QLatin1Char(':'), edit);
    }
    QStringList args;
    for (const auto& a : choice.slurm.sbatch_args)
        args << qt(a);
    sbatch_args_ = new QPlainTextEdit(args.join(QLatin1Char('\n')), this);
    sbatch_args_->setPlaceholderText(tr("more sbatch options, one per line (--qos=high)"));
    sbatch_args_->setMaximumHeight(80);
    form->addRow(tr("sbatch options:"), sbatch_args_);
    shared_ = new QCheckBox(tr("Points that share preparation load it from one preparation job"), this);
    shared_->setChecked(choice.shared_preparation);
    form->addRow(QString(), shared_);
    error_ = new QLabel(this);
    error_->setStyleSheet(QStringLiteral("color: #c0392b"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        RunBackendChoice probe;
        QString error;
        if (read(probe, &error))
            accept();
        else
            error_->setText(error);
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(
        new QLabel(tr("Each sweep point runs as one task of a Slurm job array; the experiment, "
                      "its data and the output folder must be on a file system the nodes share."),
                   this));
    layout->addLayout(form);
    layout->addWidget(error_);
    layout->addWidget(buttons);
}

bool SlurmSettingsDialog::read(RunBackendChoice& choice, QString* error) const {
    cluster::SlurmResources resources;
    try {
        for (const cluster::SlurmField& f : cluster::slurm_fields())
            cluster::set_slurm_field(
                resources, f, fields_.value(QString::fromLatin1(f.key))->text().trimmed().toStdString());
    } catch (const std::exception& e) {
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
    for (const QString& line : sbatch_args_->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty()) resources.sbatch_args.push_back(line.trimmed().toStdString());
    choice.slurm = resources;
    choice.shared_preparation = shared_->isChecked();
    return true;
}

} // namespace rilq::gui
