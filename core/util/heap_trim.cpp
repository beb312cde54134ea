#include "core/util/heap_trim.h"

#include <malloc.h> // malloc_trim (glibc)

namespace rilq {

void release_free_heap() {
    ::malloc_trim(0);
}

PeriodicHeapRelease::PeriodicHeapRelease(std::chrono::seconds interval)
    : interval_(interval), last_(std::chrono::steady_clock::now()) {}

void PeriodicHeapRelease::operator()() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < interval_) return;
    release_free_heap();
    last_ = now;
}

} // namespace rilq
