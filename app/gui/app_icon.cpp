#include "app/gui/app_icon.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace rilq::gui {

namespace {

// Coordinates of the 128 x 128 SVG: a 2-bit staircase and the smooth curve through it.
QPixmap draw(int size) {
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 128.0, size / 128.0);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0x1f, 0x3b, 0x57));
    p.drawRoundedRect(QRectF(4, 4, 120, 120), 22, 22);

    QPainterPath stairs(QPointF(20, 100));
    for (const QPointF& pt : {QPointF(44, 100), QPointF(44, 76), QPointF(68, 76), QPointF(68, 52), QPointF(92, 52),
                              QPointF(92, 28), QPointF(108, 28)})
        stairs.lineTo(pt);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(0xf0, 0xa0, 0x30), 9, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    p.drawPath(stairs);

    QPainterPath curve(QPointF(20, 104));
    curve.cubicTo(QPointF(48, 98), QPointF(60, 72), QPointF(72, 58));
    curve.cubicTo(QPointF(84, 44), QPointF(96, 30), QPointF(108, 24));
    p.setPen(QPen(QColor(0x7f, 0xd4, 0xff), 6, Qt::SolidLine, Qt::RoundCap));
    p.drawPath(curve);
    return pixmap;
}

} // namespace

QIcon app_icon() {
    QIcon icon;
    for (const int size : {16, 32, 48, 64, 128, 256}) icon.addPixmap(draw(size));
    return icon;
}

} // namespace rilq::gui
