// rilq-workbench [EXPERIMENT.json] [--db FILE] [--screenshot DIR]
// Wiring only: options, runtime set-up, the window.
#include "app/gui/app_paths.h"
#include "app/gui/main_window.h"
#include "core/util/runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("rilq"));
    QApplication::setApplicationName(QStringLiteral("rilq-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(RILQ_VERSION));

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
    parser.addOption(db);
    parser.addOption(shots);
    parser.process(app);

    rilq::configure_threads(0); // before the first tensor op: RILQ_THREADS or all cores

    rilq::gui::MainWindow window(parser.value(db));
    const bool screenshot = parser.isSet(shots);
    window.setInteractive(!screenshot);
    const QString experiment = parser.positionalArguments().isEmpty() ? rilq::gui::default_experiment_path()
                                                                      : parser.positionalArguments().front();
    if (!experiment.isEmpty()) window.openExperiment(experiment);
    window.openLatestRun();
    window.showView(QStringLiteral("setup"));
    window.resize(1400, 900);
    window.show();
    if (screenshot) {
        QTimer::singleShot(300, &window, [&window, dir = parser.value(shots)] {
            QString error;
            const bool ok = window.saveScreenshots(dir, &error);
            if (!ok)
                std::fprintf(stderr, "rilq-workbench: %s\n", qPrintable(error));
            else
                std::fprintf(stderr, "rilq-workbench: screenshots in %s\n",
                             qPrintable(QDir(dir).absolutePath()));
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return QApplication::exec();
}
