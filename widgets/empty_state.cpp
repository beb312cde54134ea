#include "widgets/empty_state.h"

#include <QLabel>

namespace rilq::widgets {

EmptyState::EmptyState(QWidget* content, const QString& message, QWidget* parent) : QStackedWidget(parent) {
    message_ = new QLabel(message, this);
    message_->setAlignment(Qt::AlignCenter);
    message_->setWordWrap(true);
    message_->setObjectName(QStringLiteral("emptyStateMessage"));
    message_->setForegroundRole(QPalette::PlaceholderText);
    addWidget(message_);
    addWidget(content);
    setCurrentWidget(message_);
}

void EmptyState::setEmpty(bool empty) {
    setCurrentIndex(empty ? 0 : 1);
}

bool EmptyState::isEmpty() const {
    return currentWidget() == message_;
}

QString EmptyState::message() const {
    return message_->text();
}

} // namespace rilq::widgets
