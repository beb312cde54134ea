#include "tests/fault/fault_binaries.h"

#include <QtGlobal>

namespace rilq::fault {

QString rilq_binary() {
    const QString other = qEnvironmentVariable("RILQ_FAULT_CLI");
    return other.isEmpty() ? QStringLiteral(RILQ_CLI_BINARY) : other;
}

QString workbench_binary() {
    const QString other = qEnvironmentVariable("RILQ_FAULT_GUI");
#ifdef RILQ_GUI_BINARY
    return other.isEmpty() ? QStringLiteral(RILQ_GUI_BINARY) : other;
#else
    return other;
#endif
}

} // namespace rilq::fault
