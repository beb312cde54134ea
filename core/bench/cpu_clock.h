// CPU time of the whole process (all threads), for the benchmarks' "CPU per step" figures: the
// ratio to wall time shows how many cores a stage really kept busy.
#pragma once
#include <time.h>

namespace rilq {

inline double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

} // namespace rilq
