#include "core/store/process_identity.h"

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace rilq::store {

std::string current_host() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "unknown-host";
    return name;
}

int64_t current_pid() {
    return static_cast<int64_t>(getpid());
}

bool process_alive(int64_t pid) {
    if (pid <= 0) return false;
    // Signal 0 checks existence and permission without sending anything; EPERM means it
    // exists but belongs to someone else.
    if (kill(static_cast<pid_t>(pid), 0) == 0) return true;
    return errno == EPERM;
}

} // namespace rilq::store
