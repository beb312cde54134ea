// A view's content, or in its place a sentence saying why it is empty and what to do (no empty
// axes or fake heat maps pretending there is data).
#pragma once
#include <QStackedWidget>
#include <QString>

class QLabel;

namespace rilq::widgets {

class EmptyState : public QStackedWidget {
    Q_OBJECT
  public:
    // Takes ownership of `content`; starts empty.
    EmptyState(QWidget* content, const QString& message, QWidget* parent = nullptr);
    void setEmpty(bool empty);
    bool isEmpty() const;
    QString message() const;

  private:
    QLabel* message_ = nullptr;
};

} // namespace rilq::widgets
