// Typed settings (Tiled's Preference<T>): one key, one default, one type, read and written
// through QSettings with the application's organisation / name.
#pragma once
#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>
#include <QVariant>

namespace rilq::gui {

template <class T> class Preference {
  public:
    Preference(const char* key, T fallback)
        : key_(QString::fromLatin1(key)), fallback_(std::move(fallback)) {}
    T get() const { return QSettings().value(key_, QVariant::fromValue(fallback_)).template value<T>(); }
    void set(const T& value) const { QSettings().setValue(key_, QVariant::fromValue(value)); }

  private:
    QString key_;
    T fallback_;
};

namespace prefs {
inline const Preference<QByteArray> window_geometry("window/geometry", {});
inline const Preference<QByteArray> window_state("window/state", {});
inline const Preference<QString> last_experiment("paths/last_experiment", {});
inline const Preference<QString> last_view("window/last_view", QStringLiteral("setup")); // viewNames()
inline const Preference<QStringList> recent_experiments("paths/recent_experiments", {}); // newest first
inline const Preference<QString> last_folder("paths/last_folder", {});
inline const Preference<QString> data_folder("paths/data_folder", {}); // "" = default_data_folder()
inline const Preference<QString> store_path("paths/store", {});        // "" = data folder's runs.sqlite
// The Runs table's column chooser: column title -> shown, for the columns the user chose.
inline const Preference<QVariantMap> runs_columns("runs/columns", {});
inline const Preference<QString> theme("view/theme", QStringLiteral("system")); // system | light | dark
} // namespace prefs

} // namespace rilq::gui
