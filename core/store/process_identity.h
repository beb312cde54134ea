// Who is running a run (or holds a temp folder): enough to tell, later, whether that process
// is still alive. A pid alone can be reused by an unrelated process; the pid together with the
// process's start time (clock ticks since boot, /proc/PID/stat field 22) cannot, short of a
// reboot that happens to reuse both.
#pragma once
#include <cstdint>
#include <string>

namespace rilq::store {

std::string current_host();
int64_t current_pid();

// True when a process with this id exists on this machine (a zombie counts as alive until
// its parent reaps it). Pid reuse is possible; the caller combines this with the heartbeat.
bool process_alive(int64_t pid);

// The start time of process `pid` in clock ticks since boot; 0 when there is no such process
// or /proc cannot tell.
int64_t process_start_ticks(int64_t pid);

// One process on one machine, told apart from a later process that reuses its pid.
struct ProcessIdentity {
    std::string host_tag; // 8 hex digits derived from the host name (short enough for file names)
    int64_t pid = 0;
    int64_t start_ticks = 0; // 0 = unknown

    static ProcessIdentity current();
    // Alive on this machine: same host, the pid exists and (when both are known) started at
    // the same tick. For another host the answer is "alive": nothing here can tell.
    bool alive() const;
};

// "1a2b3c4d": a short, stable tag of a host name (FNV-1a, 32 bits).
std::string host_tag_of(const std::string& host);

} // namespace rilq::store
