// Stopping cleanly on a signal. SIGINT (Ctrl-C), SIGTERM (kill, systemd, and cluster schedulers:
// Slurm sends SIGTERM, then SIGKILL after its KillWait) and SIGHUP (the terminal went away) all
// ask long work to stop at its next cancellation check: a run then ends KILLED with its best
// adapters saved and its store record closed, exactly as a cancel from the GUI. A second of
// any of them ends the process at once, the way the signal normally does.
#pragma once
#include <string>

#include "core/util/progress.h"

namespace rilq {

// Installs the handlers (once per process; later calls return the same token).
const CancelToken& install_stop_signals();

// The signal that asked to stop (SIGINT, SIGTERM, SIGHUP), 0 while none has.
int stop_signal();
// "SIGTERM", ...; "" for 0.
std::string signal_name(int signal);

} // namespace rilq
