// rilq-workbench [EXPERIMENT.json] [--db FILE] [--screenshot DIR] [--run-demo] [--run]
// rilq-workbench --headless [EXPERIMENT.json] [--db FILE]: the same experiment in the terminal
// (exactly `rilq run EXPERIMENT --samples PROMPT`), printing the table and generated samples.
// Wiring only: options, runtime set-up, the window.
#include "app/cli/commands.h"
#include "app/gui/app_icon.h"
#include "app/gui/app_paths.h"
#include "app/gui/app_settings.h"
#include "app/gui/main_window.h"
#include "core/util/runtime.h"
#include "core/util/stop_signals.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QTimer>

#include <cstdio>
#include <cstring>

namespace {

// The prompt the demo's samples continue (fortunes are quips and sayings).
const char* const kSamplePrompt = "Love is";

bool wants_headless(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--headless") == 0) return true;
    return false;
}

// No display needed: a QCoreApplication and the CLI's `run` command on the same experiment.
int run_headless(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("rilq-workbench"));
    QStringList args = {QStringLiteral("rilq-workbench run")};
    QString experiment;
    for (int i = 1; i < argc; ++i) {
        const QString a = QString::fromLocal8Bit(argv[i]);
        if (a == QLatin1String("--headless")) continue;
        if (a == QLatin1String("--db") && i + 1 < argc) {
            args << a << QString::fromLocal8Bit(argv[++i]);
        } else if (!a.startsWith(QLatin1Char('-'))) {
            experiment = a;
        } else {
            std::fprintf(stderr, "rilq-workbench: --headless takes [EXPERIMENT.json] [--db FILE], not %s\n",
                         argv[i]);
            return 2;
        }
    }
    if (experiment.isEmpty()) experiment = rilq::gui::default_experiment_path();
    if (experiment.isEmpty()) {
        std::fprintf(stderr, "rilq-workbench: no experiment given and experiments/demo.json not found\n");
        return 2;
    }
    args << experiment << QStringLiteral("--samples") << QString::fromLatin1(kSamplePrompt);
    return rilq::cli::cmd_run(args);
}

} // namespace

int main(int argc, char** argv) {
    rilq::use_passive_openmp_wait(argv);
    if (wants_headless(argc, argv)) return run_headless(argc, argv);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("rilq"));
    QApplication::setApplicationName(QStringLiteral("rilq-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(RILQ_VERSION));
    QApplication::setWindowIcon(rilq::gui::app_icon());
    QApplication::setDesktopFileName(QStringLiteral("rilq-workbench"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("RILQ Workbench: 2-bit quantization + LoRA compensation"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("Experiment JSON to open."),
                                 QStringLiteral("[EXPERIMENT.json]"));
    const QCommandLineOption db(QStringLiteral("db"),
                                QStringLiteral("Run store (default: $RILQ_DB or the data folder)."),
                                QStringLiteral("FILE"));
    const QCommandLineOption shots(QStringLiteral("screenshot"),
                                   QStringLiteral("Save every view as DIR/<view>.png, then exit."),
                                   QStringLiteral("DIR"));
    const QCommandLineOption run_demo(QStringLiteral("run-demo"),
                                      QStringLiteral("Open the built-in demo experiment and start it."));
    const QCommandLineOption headless(
        QStringLiteral("headless"),
        QStringLiteral("Run the experiment (default: the demo) in the terminal and "
                       "print its table; no window."));
    const QCommandLineOption run_now(
        QStringLiteral("run"),
        QStringLiteral(
            "Start the experiment at once; with --screenshot, the pictures are taken when it ends."));
    parser.addOption(db);
    parser.addOption(shots);
    parser.addOption(run_now);
    parser.addOption(run_demo);
    parser.addOption(headless);
    parser.process(app);

    rilq::configure_threads(0); // before the first tensor op: RILQ_THREADS or all cores

    const bool screenshot = parser.isSet(shots);
    using Interaction = rilq::gui::MainWindow::Interaction;
    rilq::gui::MainWindow window(parser.value(db),
                                 screenshot ? Interaction::WithoutDialogs : Interaction::Dialogs);
    // Screenshots show the given experiment or the demo, never whatever was open last.
    const QString given = parser.positionalArguments().value(0);
    const QString experiment =
        screenshot ? (given.isEmpty() ? rilq::gui::default_experiment_path() : given)
                   : rilq::gui::startup_experiment_path(given, rilq::gui::prefs::last_experiment.get());
    if (!experiment.isEmpty()) window.openExperiment(experiment);
    window.openLatestRun();
    window.showView(screenshot ? QStringLiteral("setup") : rilq::gui::prefs::last_view.get());
    window.resize(1400, 900);
    window.show();
    if (parser.isSet(run_demo) && !screenshot)
        QTimer::singleShot(0, &window, [&window] { window.runDemo(); });
    if (parser.isSet(run_now))
        QTimer::singleShot(0, &window, [&window] {
            if (!window.startRuns()) QApplication::exit(1);
        });
    // SIGTERM, SIGINT, SIGHUP: quit; the window's destructor cancels a running experiment, which
    // ends KILLED with its best adapters saved (core/util/stop_signals.h).
    rilq::install_stop_signals();
    QTimer stop_poll;
    QObject::connect(&stop_poll, &QTimer::timeout, &app, [] {
        if (rilq::stop_signal() != 0) QApplication::quit();
    });
    stop_poll.start(200);
    if (screenshot) {
        const auto take = [&window, dir = parser.value(shots)] {
            QString error;
            const bool ok = window.saveScreenshots(dir, &error);
            if (!ok)
                std::fprintf(stderr, "rilq-workbench: %s\n", qPrintable(error));
            else
                std::fprintf(stderr, "rilq-workbench: screenshots in %s\n",
                             qPrintable(QDir(dir).absolutePath()));
            // An error met on the way (a corrupt store, say) was printed above: exit 1 for it too.
            QApplication::exit(ok && window.errorCount() == 0 ? 0 : 1);
        };
        // After a --run, the pictures show the finished sweep (every view follows it).
        if (parser.isSet(run_now))
            QObject::connect(&window, &rilq::gui::MainWindow::runsFinished, &window, take);
        else
            QTimer::singleShot(300, &window, take);
    }
    return QApplication::exec();
}
