// Helpers shared by the widget tests: show a view offscreen at a fixed size, and save what it
// looks like to $RILQ_SCREENSHOT_DIR (when set) so people can look at the real rendering.
#pragma once
#include <QCoreApplication>
#include <QDir>
#include <QPixmap>
#include <QString>
#include <QWidget>
#include <QtTest/QtTest>

#include "widgets/qcustomplot_include.h"

namespace rilq::test {

// Shows `widget` (top-level) at `size` and waits until it is laid out and exposed.
inline bool show_offscreen(QWidget* widget, const QSize& size) {
    widget->resize(size);
    widget->show();
    if (!QTest::qWaitForWindowExposed(widget)) return false;
    QCoreApplication::processEvents();
    return true;
}

// Grabs `widget` to $RILQ_SCREENSHOT_DIR/<name>.png; returns false only when saving failed.
inline bool save_screenshot(QWidget* widget, const QString& name) {
    const QString dir = qEnvironmentVariable("RILQ_SCREENSHOT_DIR");
    if (dir.isEmpty()) return true;
    QDir().mkpath(dir);
    QCoreApplication::processEvents(); // let queued replots land before the grab
    return widget->grab().save(QDir(dir).filePath(name + ".png"), "PNG");
}

// A real mouse event delivered to `target` (what a user's move / click produces).
inline void send_mouse(QWidget* target, QEvent::Type type, const QPointF& pos,
                       Qt::MouseButton button = Qt::NoButton) {
    const Qt::MouseButtons buttons =
        type == QEvent::MouseButtonPress ? Qt::MouseButtons(button) : Qt::MouseButtons();
    QMouseEvent event(type, pos, target->mapToGlobal(pos), button, buttons, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &event);
}

// The x values (keys) and y values of a chart graph, in order.
inline QVector<double> keys_of(const QCPGraph* g) {
    QVector<double> v;
    for (const QCPGraphData& d : *g->data())
        v.push_back(d.key);
    return v;
}
inline QVector<double> values_of(const QCPGraph* g) {
    QVector<double> v;
    for (const QCPGraphData& d : *g->data())
        v.push_back(d.value);
    return v;
}

} // namespace rilq::test
