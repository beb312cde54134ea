#include "app/gui/run_backend_choice.h"

#include "app/gui/app_settings.h"
#include "app/gui/qt_text.h"

#include <QStringList>
#include <QVariantMap>

namespace rilq::gui {

namespace {
const Preference<QString> backend_pref("run/backend", QStringLiteral("local"));
const Preference<QVariantMap> slurm_pref("run/slurm", {}); // field key -> text, sbatch_args, shared_prep
} // namespace

RunBackendChoice load_backend_choice() {
    RunBackendChoice choice;
    try {
        choice.backend = cluster::parse_run_backend(backend_pref.get().toStdString());
    } catch (const std::exception&) {
        choice.backend = cluster::RunBackend::Local; // a setting from another version
    }
    const QVariantMap saved = slurm_pref.get();
    for (const cluster::SlurmField& f : cluster::slurm_fields()) {
        try {
            cluster::set_slurm_field(choice.slurm, f,
                                     saved.value(QString::fromLatin1(f.key)).toString().toStdString());
        } catch (const std::exception&) {
            // an unreadable number keeps the default
        }
    }
    for (const QString& a : saved.value(QStringLiteral("sbatch_args")).toStringList())
        choice.slurm.sbatch_args.push_back(a.toStdString());
    choice.shared_preparation = saved.value(QStringLiteral("shared_prep")).toBool();
    return choice;
}

void save_backend_choice(const RunBackendChoice& choice) {
    backend_pref.set(qt(cluster::to_string(choice.backend)));
    QVariantMap saved;
    for (const cluster::SlurmField& f : cluster::slurm_fields())
        saved.insert(QString::fromLatin1(f.key), qt(cluster::slurm_field_text(choice.slurm, f)));
    QStringList args;
    for (const auto& a : choice.slurm.sbatch_args)
        args << qt(a);
    saved.insert(QStringLiteral("sbatch_args"), args);
    saved.insert(QStringLiteral("shared_prep"), choice.shared_preparation);
    slurm_pref.set(saved);
}

QString describe(const RunBackendChoice& choice) {
    if (choice.backend == cluster::RunBackend::Local) return QStringLiteral("local");
    QStringList parts;
    for (const cluster::SlurmField& f : cluster::slurm_fields()) {
        const std::string text = cluster::slurm_field_text(choice.slurm, f);
        if (!text.empty()) parts << QStringLiteral("%1 %2").arg(QString::fromLatin1(f.key), qt(text));
    }
    for (const auto& a : choice.slurm.sbatch_args)
        parts << qt(a);
    if (choice.shared_preparation) parts << QStringLiteral("shared preparation");
    return parts.isEmpty() ? QStringLiteral("Slurm")
                           : QStringLiteral("Slurm (%1)").arg(parts.join(QStringLiteral(", ")));
}

} // namespace rilq::gui
