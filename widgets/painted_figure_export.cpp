#include "widgets/painted_figure_export.h"

#include "widgets/chart_style.h"

#include <QFileInfo>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QWidget>

namespace rilq::widgets {

namespace {
constexpr double kPngScale = 2.0; // as save_plot's PNG: crisp text in papers and slides

// Paints the widget onto an open painter, scaled from widget pixels to the device's units.
bool render_into(QWidget* figure, QPaintDevice* device, double scale) {
    QPainter painter;
    if (!painter.begin(device)) return false;
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(scale, scale);
    figure->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
    return painter.end();
}
} // namespace

bool save_painted_figure(QWidget* figure, const QString& path, QString* error) {
    ImageFormat format{};
    if (!image_format_for_path(path, &format, error)) return false;
    const QSize size = figure->size();
    bool ok = false;
    switch (format) {
    case ImageFormat::Png: {
        QImage image(size * kPngScale, QImage::Format_ARGB32_Premultiplied);
        image.fill(Qt::white);
        ok = render_into(figure, &image, kPngScale) && image.save(path, "PNG");
        break;
    }
    case ImageFormat::Pdf: {
        // One page exactly the figure's size, at 96 dpi so one widget pixel is one device pixel.
        QPdfWriter pdf(path);
        pdf.setResolution(96);
        pdf.setCreator(QStringLiteral("RILQ Workbench"));
        pdf.setTitle(QFileInfo(path).baseName());
        pdf.setPageLayout(QPageLayout(QPageSize(QSizeF(size) * 72.0 / 96.0, QPageSize::Point),
                                      QPageLayout::Portrait, QMarginsF()));
        ok = render_into(figure, &pdf, 1.0);
        break;
    }
    case ImageFormat::Svg: {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(), size));
        svg.setTitle(QFileInfo(path).baseName());
        svg.setDescription(QStringLiteral("RILQ Workbench"));
        ok = render_into(figure, &svg, 1.0);
        break;
    }
    }
    if (!ok && error)
        *error = QString("%1: could not write the figure (folder missing or not writable?)").arg(path);
    return ok;
}

} // namespace rilq::widgets
