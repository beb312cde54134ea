// Who is running a run: enough to tell, later, whether that process is still alive.
#pragma once
#include <cstdint>
#include <string>

namespace rilq::store {

std::string current_host();
int64_t current_pid();

// True when a process with this id exists on this machine (a zombie counts as alive until
// its parent reaps it). Pid reuse is possible; the caller combines this with the heartbeat.
bool process_alive(int64_t pid);

} // namespace rilq::store
