#include "core/util/heap_trim.h"

#include <malloc.h> // malloc_trim (glibc)

namespace rilq {

void release_free_heap() {
    ::malloc_trim(0);
}

} // namespace rilq
