// The programs the fault suites run as real processes (signals, exit codes, a GUI that must not
// hang): the ones built beside the tests, or, with RILQ_FAULT_CLI / RILQ_FAULT_GUI, another
// build (an older one, to see a fault come back).
#pragma once
#include <QString>

namespace rilq::fault {

QString rilq_binary();
QString workbench_binary(); // "" when the GUI is not built

} // namespace rilq::fault
