#include "core/store/process_identity.h"

#include "core/util/short_hash.h"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
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

int64_t process_start_ticks(int64_t pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return 0;
    // Field 2 (comm) is in parentheses and may contain spaces and ')': count from the last ')'.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(line.substr(close + 1));
    std::string field;
    // After comm: field 3 (state) ... field 22 (starttime), i.e. the 20th token.
    for (int i = 3; i <= 22; ++i)
        if (!(fields >> field)) return 0;
    try {
        return static_cast<int64_t>(std::stoll(field));
    } catch (const std::exception&) {
        return 0;
    }
}

std::string host_tag_of(const std::string& host) {
    return short_hash_hex(host);
}

ProcessIdentity ProcessIdentity::current() {
    static const ProcessIdentity self = [] {
        ProcessIdentity p;
        p.host_tag = host_tag_of(current_host());
        p.pid = current_pid();
        p.start_ticks = process_start_ticks(p.pid);
        return p;
    }();
    // A forked child keeps the static: refresh the pid-dependent part when it changed.
    if (self.pid != current_pid()) {
        ProcessIdentity child = self;
        child.pid = current_pid();
        child.start_ticks = process_start_ticks(child.pid);
        return child;
    }
    return self;
}

bool ProcessIdentity::alive() const {
    if (host_tag != host_tag_of(current_host())) return true;
    if (!process_alive(pid)) return false;
    if (start_ticks == 0) return true;
    const int64_t now = process_start_ticks(pid);
    return now == 0 || now == start_ticks;
}

} // namespace rilq::store
