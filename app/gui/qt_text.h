// std::string (UTF-8, as core speaks) to QString, spelled short because the bridges between core
// records and Qt views do it on almost every line.
#pragma once
#include <QString>

#include <string>

namespace rilq::gui {

inline QString qt(const std::string& s) {
    return QString::fromStdString(s);
}

} // namespace rilq::gui
