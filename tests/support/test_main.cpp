// main() of every test-area executable (see test_main.h). Built twice: without widgets for the
// core areas, and with RILQ_TEST_WITH_WIDGETS (a QApplication) for the widget areas.
#include "tests/support/test_main.h"

#include <QtTest/QtTest>
#ifdef RILQ_TEST_WITH_WIDGETS
#include <QApplication>
#endif

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace rilq::test {

namespace {

struct Registered {
    AppKind app = AppKind::None;
    TestFactory make;
};

// Ordered by name, so "run everything" has a stable order.
std::map<std::string, Registered>& registry() {
    static std::map<std::string, Registered> classes;
    return classes;
}

} // namespace

bool register_test_class(const char* name, AppKind app, TestFactory make) {
    registry()[name] = Registered{app, std::move(make)};
    return true;
}

} // namespace rilq::test

int main(int argc, char** argv) {
    using rilq::test::AppKind;
    auto& classes = rilq::test::registry();

    // argv[1] naming a class selects it; anything else (nothing, or a Qt Test option) runs all.
    std::vector<std::string> selected;
    std::vector<char*> qtest_args = {argv[0]};
    int first_arg = 1;
    if (argc > 1 && argv[1][0] != '-' && std::strchr(argv[1], ':') == nullptr) {
        if (classes.count(argv[1]) == 0) {
            std::fprintf(stderr, "%s: no test class %s; this executable has:", argv[0], argv[1]);
            for (const auto& entry : classes)
                std::fprintf(stderr, " %s", entry.first.c_str());
            std::fprintf(stderr, "\n");
            return 2;
        }
        selected.push_back(argv[1]);
        first_arg = 2;
    } else {
        for (const auto& entry : classes)
            selected.push_back(entry.first);
    }
    for (int i = first_arg; i < argc; ++i)
        qtest_args.push_back(argv[i]);
    int qtest_argc = static_cast<int>(qtest_args.size());

    AppKind app_kind = AppKind::None;
    for (const auto& name : selected)
        app_kind = std::max(app_kind, classes[name].app);

    // The application object lives for the whole run, as QTEST_*MAIN's does.
    std::unique_ptr<QCoreApplication> app;
#ifdef RILQ_TEST_WITH_WIDGETS
    if (app_kind == AppKind::Gui) {
        app = std::make_unique<QApplication>(argc, argv);
        QApplication::setAttribute(Qt::AA_Use96Dpi, true);
    }
#endif
    if (!app && app_kind != AppKind::None) app = std::make_unique<QCoreApplication>(argc, argv);

    int failures = 0;
    for (const auto& name : selected) {
        // Each class its own application name, hence its own (test-mode) QSettings file: CTest runs
        // classes in parallel, and one class's remembered choices (a Slurm backend, columns) must
        // never leak into another's window.
        if (app) QCoreApplication::setApplicationName(QString::fromStdString(name));
        std::unique_ptr<QObject> test = classes[name].make();
        failures += QTest::qExec(test.get(), qtest_argc, qtest_args.data());
    }
    return failures > 127 ? 127 : failures;
}
