#include "app/gui/app_paths.h"

#include "core/store/store_location.h"

#include <sqlite3.h>
#include <torch/version.h> // TORCH_VERSION only: a few macros, not the torch API

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>

#include <exception>

namespace rilq::gui {

QString default_experiment_path() {
    const QStringList roots = {QStringLiteral(RILQ_SOURCE_DIR) + QStringLiteral("/experiments"),
                               QStringLiteral(RILQ_INSTALL_SHARE) + QStringLiteral("/experiments"),
                               QCoreApplication::applicationDirPath() +
                                   QStringLiteral("/../share/rilq-workbench/experiments")};
    for (const char* name : {"demo.json", "stories260k-rank-sweep.json"})
        for (const QString& root : roots) {
            const QString path = QDir(root).filePath(QString::fromLatin1(name));
            if (QFileInfo::exists(path)) return QDir::cleanPath(path);
        }
    return {};
}

QString startup_experiment_path(const QString& given, const QString& remembered) {
    if (!given.isEmpty()) return given;
    if (!remembered.isEmpty() && QFileInfo(remembered).isFile()) return remembered;
    return default_experiment_path();
}

QString default_data_folder() {
    try {
        return QFileInfo(QString::fromStdString(store::default_store_path())).absolutePath();
    } catch (const std::exception&) { // neither HOME nor XDG_DATA_HOME: stay beside the program
        return QDir::currentPath();
    }
}

QString version_text() {
    return QStringLiteral("Qt %1 · LibTorch %2 · SQLite %3")
        .arg(QString::fromLatin1(qVersion()), QStringLiteral(TORCH_VERSION),
             QString::fromLatin1(sqlite3_libversion()));
}

} // namespace rilq::gui
