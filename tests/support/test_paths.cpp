// Where the tests find their data. Its own unit: the two folders are compiled in as absolute
// paths of this checkout, and keeping them out of every other test unit lets ccache share those
// units between checkouts (and keeps them out of the shared precompiled header).
#include "tests/support/test_support.h"

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace rilq::test {

std::string shared_data(const std::string& relative) {
    const char* env = std::getenv("RILQ_SHARED_DATA");
    fs::path root = env && *env ? fs::path(env) : fs::path(RILQ_SHARED_DATA_DIR);
    return (root / relative).string();
}

std::string test_data(const std::string& relative) {
    return (fs::path(RILQ_TEST_DATA_DIR) / relative).string();
}

} // namespace rilq::test
