// Saving a figure that paints itself with QPainter (parallel coordinates) rather than through
// QCustomPlot: the same three formats and file-name rule as save_plot (chart_style.h).
#pragma once
#include <QString>

class QWidget;

namespace rilq::widgets {

// Renders `figure` alone (its children included, never its parent's controls) at its current
// size: PNG at 2x device pixels, PDF and SVG as vectors (QPdfWriter / QSvgGenerator record the
// paint commands). Returns false with a message naming the file.
bool save_painted_figure(QWidget* figure, const QString& path, QString* error);

} // namespace rilq::widgets
