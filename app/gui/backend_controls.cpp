#include "app/gui/backend_controls.h"

#include "app/gui/qt_text.h"
#include "app/gui/run_backend_choice.h"
#include "app/gui/slurm_settings_dialog.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QMenu>
#include <QToolBar>

namespace rilq::gui {

void add_backend_controls(QToolBar* toolbar, QMenu* menu) {
    auto* box = new QComboBox(toolbar);
    box->setObjectName(QStringLiteral("runBackend"));
    for (const auto& name : cluster::run_backend_names())
        box->addItem(qt(name));
    const RunBackendChoice saved = load_backend_choice();
    box->setCurrentIndex(static_cast<int>(saved.backend));
    box->setToolTip(QObject::tr("Where the points run: %1").arg(describe(saved)));
    QObject::connect(box, &QComboBox::currentIndexChanged, box, [box](int index) {
        RunBackendChoice choice = load_backend_choice();
        choice.backend = static_cast<cluster::RunBackend>(index);
        save_backend_choice(choice);
        box->setToolTip(QObject::tr("Where the points run: %1").arg(describe(choice)));
    });
    QAction* settings = menu->addAction(QObject::tr("&Slurm settings…"));
    settings->setObjectName(QStringLiteral("slurmSettings"));
    settings->setToolTip(
        QObject::tr("Partition, GRES, CPUs, memory, time limit and more sbatch options per task"));
    QObject::connect(settings, &QAction::triggered, box, [box] {
        RunBackendChoice choice = load_backend_choice();
        SlurmSettingsDialog dialog(choice, box->window());
        if (dialog.exec() != QDialog::Accepted || !dialog.read(choice, nullptr)) return;
        save_backend_choice(choice);
        box->setToolTip(QObject::tr("Where the points run: %1").arg(describe(choice)));
    });
    toolbar->addSeparator();
    toolbar->addWidget(new QLabel(QObject::tr(" Backend: "), toolbar));
    toolbar->addWidget(box);
    toolbar->addAction(settings);
}

} // namespace rilq::gui
