// Several Qt Test classes in one executable: one executable per test area (tests/CMakeLists.txt)
// links and compiles far less than one per file. Each test file ends with RILQ_TEST_MAIN(Class)
// (or the _APPLESS / _GUILESS forms, as Qt's QTEST_*MAIN) instead of defining main().
//   <area-executable> Class [Qt Test arguments]   runs one class (what CTest does: one CTest test
//                                                 per class, named after its file, so
//                                                 `ctest -R test_quant_rtn` runs that suite)
//   <area-executable> [Qt Test arguments]         runs every class of the area
#pragma once
#include <QObject>

#include <functional>
#include <memory>

namespace rilq::test {

// The application object a class needs, as Qt's three QTEST_*MAIN macros create it.
enum class AppKind { None, Core, Gui };

using TestFactory = std::function<std::unique_ptr<QObject>()>;
bool register_test_class(const char* name, AppKind app, TestFactory make);

} // namespace rilq::test

#define RILQ_TEST_REGISTER(Class, Kind)                                                                      \
    static const bool rilq_test_registered_##Class =                                                         \
        rilq::test::register_test_class(#Class, Kind, [] { return std::unique_ptr<QObject>(new Class); });
#define RILQ_TEST_APPLESS_MAIN(Class) RILQ_TEST_REGISTER(Class, rilq::test::AppKind::None)
#define RILQ_TEST_GUILESS_MAIN(Class) RILQ_TEST_REGISTER(Class, rilq::test::AppKind::Core)
#define RILQ_TEST_MAIN(Class) RILQ_TEST_REGISTER(Class, rilq::test::AppKind::Gui)
