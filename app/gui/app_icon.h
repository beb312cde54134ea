// The window icon, drawn with QPainter: the same picture as resources/rilq-workbench.svg
// (which desktops use through the .desktop file) without needing Qt's SVG plugin.
#pragma once
#include <QIcon>

namespace rilq::gui {

QIcon app_icon();

} // namespace rilq::gui
