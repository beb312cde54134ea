// qcustomplot.h still uses the `signals` and `foreach` keywords, which QT_NO_KEYWORDS
// (needed next to torch headers) removes: map them around the include only.
#pragma once
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef foreach
