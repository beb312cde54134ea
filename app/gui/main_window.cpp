#include "app/gui/main_window.h"

#include "app/gui/app_paths.h"
#include "app/gui/app_settings.h"
#include "app/gui/backend_controls.h"
#include "app/gui/export_panel.h"
#include "app/gui/model_inspector.h"
#include "app/gui/run_worker.h"
#include "widgets/chart_style.h"
#include "widgets/compare_view.h"
#include "widgets/parallel_coords.h"
#include "widgets/experiment_form.h"
#include "widgets/layer_inspector.h"
#include "widgets/live_curves.h"
#include "widgets/log_panel.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/run_browser.h"
#include "widgets/run_overlay.h"
#include "widgets/run_queue_view.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPalette>
#include <QStatusBar>
#include <QStyle>
#include <QStyleFactory>
#include <QTabWidget>
#include <QThread>
#include <QToolBar>

#include <algorithm>
#include <cstdio>

namespace rilq::gui {

MainWindow::MainWindow(const QString& store_path, Interaction interaction, QWidget* parent)
    : QMainWindow(parent), interaction_(interaction) {
    update_title();
    data_folder_ = prefs::data_folder.get();
    if (data_folder_.isEmpty()) data_folder_ = default_data_folder();
    build_views();
    build_menus();
    connect_worker();
    // --db > $RILQ_DB > the remembered store > the data folder's runs.sqlite (core's rule, plus
    // the GUI's own setting in between).
    QString path = store_path;
    if (path.isEmpty()) path = qEnvironmentVariable("RILQ_DB");
    if (path.isEmpty()) path = prefs::store_path.get();
    if (path.isEmpty()) path = QDir(data_folder_).filePath(QStringLiteral("runs.sqlite"));
    setStorePath(path);
    restore_settings();
}

MainWindow::~MainWindow() {
    // A run still training must stop before its thread object goes away.
    worker_->requestCancel();
    worker_->setPaused(false);
    thread_->quit();
    thread_->wait();
}

void MainWindow::build_views() {
    tabs_ = new QTabWidget;
    tabs_->setDocumentMode(true);
    form_ = new widgets::ExperimentForm;
    form_->setModelInspector(&inspect_model);
    queue_ = new widgets::RunQueueView;
    live_ = new widgets::LiveCurves;
    layers_ = new widgets::LayerInspector;
    browser_ = new widgets::RunBrowser;
    compare_ = new widgets::CompareView;
    export_ = new ExportPanel;
    tabs_->addTab(form_, tr("Setup"));
    tabs_->addTab(queue_, tr("Queue"));
    tabs_->addTab(live_, tr("Live curves"));
    tabs_->addTab(layers_, tr("Layers"));
    tabs_->addTab(browser_, tr("Runs"));
    tabs_->addTab(compare_, tr("Compare"));
    tabs_->addTab(export_, tr("Export"));
    setCentralWidget(tabs_);

    log_ = new widgets::LogPanel;
    log_dock_ = new QDockWidget(tr("Log"), this);
    log_dock_->setObjectName(QStringLiteral("logDock"));
    log_dock_->setWidget(log_);
    addDockWidget(Qt::BottomDockWidgetArea, log_dock_);
    // A few lines tall by default: the views are what the window is for (the user's own size is
    // restored with the window state).
    resizeDocks({log_dock_}, {fontMetrics().lineSpacing() * 7}, Qt::Vertical);

    connect(form_, &widgets::ExperimentForm::runRequested, this, &MainWindow::startRuns);
    connect(form_, &widgets::ExperimentForm::documentChanged, this, [this] { setWindowModified(true); });
    connect(form_, &widgets::ExperimentForm::errorOccurred, this, [this](const QString& m) {
        log_->append(widgets::LogLevel::Warning, m, QStringLiteral("model"));
    });
    connect(queue_, &widgets::RunQueueView::cancelRunRequested, this, &MainWindow::cancelRuns);
    connect(queue_, &widgets::RunQueueView::cancelAllRequested, this, &MainWindow::cancelRuns);
    connect(browser_, &widgets::RunBrowser::openRequested, this, &MainWindow::openRun);
    connect(browser_, &widgets::RunBrowser::compareRequested, this, &MainWindow::compareRuns);
    connect(browser_, &widgets::RunBrowser::runSelectionChanged, this, &MainWindow::on_browser_selection);
    // Brushing parallel coordinates selects those runs in Runs; quietly, so Compare keeps drawing
    // every run (the brush would otherwise narrow the runs it brushes).
    connect(compare_, &widgets::CompareView::runsBrushed, this,
            [this](const QStringList& uuids, bool any_brush) {
                const QSignalBlocker quiet(browser_);
                browser_->selectRuns(any_brush ? uuids : QStringList());
            });
    connect(compare_->parallel(), &widgets::ParallelCoords::saveFailed, this,
            [this](const QString& message) { report_error(message, QStringLiteral("export")); });
    connect(browser_, &widgets::RunBrowser::columnChoicesChanged, this,
            [](const QMap<QString, bool>& choices) {
                QVariantMap stored;
                for (auto it = choices.begin(); it != choices.end(); ++it)
                    stored.insert(it.key(), it.value());
                prefs::runs_columns.set(stored);
            });
    connect(browser_, &widgets::RunBrowser::errorOccurred, this,
            [this](const QString& m) { report_error(m, "store"); });
    connect(browser_, &widgets::RunBrowser::runsDeleted, this, [this] { export_->update(); });
    connect(export_, &ExportPanel::errorOccurred, this, [this](const QString& m) {
        log_->append(widgets::LogLevel::Warning, m, QStringLiteral("export"));
    });
}

void MainWindow::build_menus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open experiment…"), QKeySequence::Open, this, [this] {
        if (!maybeSaveExperiment()) return;
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open experiment"), prefs::last_folder.get(), tr("Experiments (*.json)"));
        if (!path.isEmpty()) openExperiment(path);
    });
    recent_menu_ = file->addMenu(tr("&Recent experiments"));
    connect(recent_menu_, &QMenu::aboutToShow, this, &MainWindow::fill_recent_menu);
    file->addAction(tr("&Save experiment"), QKeySequence::Save, this, [this] {
        QString path = form_->filePath();
        if (path.isEmpty())
            path = QFileDialog::getSaveFileName(this, tr("Save experiment"), prefs::last_folder.get(),
                                                tr("Experiments (*.json)"));
        if (!path.isEmpty()) saveExperiment(path);
    });
    file->addAction(tr("Save experiment &as…"), QKeySequence::SaveAs, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment as"), form_->filePath(),
                                                          tr("Experiments (*.json)"));
        if (!path.isEmpty()) saveExperiment(path);
    });
    file->addSeparator();
    file->addAction(tr("Open run &store…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open run store"), store_.path(),
                                                          tr("Run stores (*.sqlite *.db);;All files (*)"));
        if (path.isEmpty()) return;
        prefs::store_path.set(path);
        setStorePath(path);
    });
    file->addAction(tr("&Data folder…"), this, &MainWindow::choose_data_folder);
    file->addAction(tr("Save &chart…"), this, &MainWindow::save_chart);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    auto* run = menuBar()->addMenu(tr("&Run"));
    start_action_ = run->addAction(tr("&Start runs"), this, &MainWindow::startRuns);
    start_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    cancel_action_ = run->addAction(tr("&Cancel"), this, &MainWindow::cancelRuns);
    cancel_action_->setEnabled(false);
    pause_action_ = run->addAction(tr("&Pause between runs"));
    pause_action_->setCheckable(true);
    run->addSeparator();
    QAction* demo_action = run->addAction(tr("Run &demo"), this, &MainWindow::runDemo);
    demo_action->setToolTip(tr("Open the built-in demo experiment (2-bit RTN on a small Llama pretrained on "
                               "fortunes, RILQ ranks 0-16) and start it; the first run builds its model."));
    auto* toolbar = addToolBar(tr("Run"));
    toolbar->setObjectName(QStringLiteral("runToolbar"));
    toolbar->addAction(demo_action);
    toolbar->addAction(start_action_);
    toolbar->addAction(cancel_action_);
    toolbar->addAction(pause_action_);
    add_backend_controls(toolbar, run);
    connect(pause_action_, &QAction::toggled, queue_, &widgets::RunQueueView::setPauseBetweenRuns);

    auto* view = menuBar()->addMenu(tr("&View"));
    auto* themes = new QActionGroup(this);
    for (const QString& theme : {QStringLiteral("system"), QStringLiteral("light"), QStringLiteral("dark")}) {
        QAction* a = view->addAction(tr("%1 theme").arg(theme));
        a->setCheckable(true);
        a->setChecked(prefs::theme.get() == theme);
        themes->addAction(a);
        connect(a, &QAction::triggered, this, [this, theme] {
            prefs::theme.set(theme);
            apply_theme(theme);
        });
    }
    view->addAction(tr("&Refresh runs"), QKeySequence::Refresh, this, &MainWindow::refreshStoreViews);
    view->addSeparator();
    QAction* log_toggle = log_dock_->toggleViewAction(); // checked while the dock is shown
    log_toggle->setText(tr("&Log"));
    log_toggle->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    view->addAction(log_toggle);

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(
            this, tr("About RILQ Workbench"),
            tr("<b>RILQ Workbench</b> %1<br>2-bit quantization with rank-insensitive LoRA "
               "compensation.<br><br>%2<br>Run store: %3")
                .arg(QCoreApplication::applicationVersion(), version_text(), store_.path().toHtmlEscaped()));
    });
}

void MainWindow::restore_settings() {
    QMap<QString, bool> columns;
    const QVariantMap stored = prefs::runs_columns.get();
    for (auto it = stored.begin(); it != stored.end(); ++it)
        columns.insert(it.key(), it.value().toBool());
    browser_->setColumnChoices(columns);
    restoreGeometry(prefs::window_geometry.get());
    restoreState(prefs::window_state.get());
    apply_theme(prefs::theme.get());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (running_ && interaction_ == Interaction::Dialogs &&
        QMessageBox::question(this, tr("Runs in progress"), tr("Cancel the running experiment and quit?")) !=
            QMessageBox::Yes) {
        event->ignore();
        return;
    }
    if (!maybeSaveExperiment()) {
        event->ignore();
        return;
    }
    prefs::window_geometry.set(saveGeometry());
    prefs::window_state.set(saveState());
    prefs::last_view.set(viewNames().value(tabs_->currentIndex()));
    QMainWindow::closeEvent(event);
}

// Fusion with a dark palette, or the platform look: enough for long evenings with curves.
void MainWindow::apply_theme(const QString& theme) {
    if (theme == QLatin1String("system")) return;
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p = QApplication::style()->standardPalette();
    if (theme == QLatin1String("dark")) {
        p.setColor(QPalette::Window, QColor(45, 45, 48));
        p.setColor(QPalette::WindowText, Qt::white);
        p.setColor(QPalette::Base, QColor(30, 30, 30));
        p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
        p.setColor(QPalette::Text, Qt::white);
        p.setColor(QPalette::Button, QColor(45, 45, 48));
        p.setColor(QPalette::ButtonText, Qt::white);
        p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    }
    QApplication::setPalette(p);
}

void MainWindow::report_error(const QString& message, const QString& source) {
    log_->append(widgets::LogLevel::Error, message, source);
    statusBar()->showMessage(message, 10000);
    if (interaction_ == Interaction::Dialogs) {
        QMessageBox::warning(this, tr("RILQ Workbench"), message);
        return;
    }
    ++error_count_;
    std::fprintf(stderr, "rilq-workbench: %s\n", qPrintable(message));
}

bool MainWindow::openExperiment(const QString& path) {
    QString error;
    if (!form_->loadFile(path, &error)) {
        report_error(error, QStringLiteral("experiment"));
        return false;
    }
    prefs::last_experiment.set(form_->filePath());
    prefs::recent_experiments.set(
        updated_recent_experiments(prefs::recent_experiments.get(), form_->filePath()));
    prefs::last_folder.set(QFileInfo(path).absolutePath());
    log_->append(widgets::LogLevel::Info, tr("opened %1").arg(path), QStringLiteral("experiment"));
    setWindowModified(false);
    update_title();
    return true;
}

void MainWindow::fill_recent_menu() {
    recent_menu_->clear();
    for (const QString& path : prefs::recent_experiments.get()) {
        if (!QFileInfo(path).isFile()) continue;
        recent_menu_->addAction(QDir::toNativeSeparators(path), this, [this, path] {
            if (maybeSaveExperiment()) openExperiment(path);
        });
    }
    if (recent_menu_->isEmpty()) recent_menu_->addAction(tr("(none yet)"))->setEnabled(false);
}

void MainWindow::update_title() {
    const QString file = form_ ? form_->filePath() : QString();
    // "[*]" is where Qt shows the modified marker.
    setWindowTitle(file.isEmpty() ? tr("RILQ Workbench[*]")
                                  : tr("%1[*] - RILQ Workbench").arg(QFileInfo(file).fileName()));
}

bool MainWindow::maybeSaveExperiment() {
    if (!isWindowModified() || interaction_ != Interaction::Dialogs) return true;
    const QString name =
        form_->filePath().isEmpty() ? tr("The experiment") : QFileInfo(form_->filePath()).fileName();
    const auto answer = QMessageBox::question(
        this, tr("Unsaved changes"), tr("%1 has unsaved changes. Save them?").arg(name),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Discard) return true;
    if (answer != QMessageBox::Save) return false;
    QString path = form_->filePath();
    if (path.isEmpty())
        path = QFileDialog::getSaveFileName(this, tr("Save experiment"), prefs::last_folder.get(),
                                            tr("Experiments (*.json)"));
    return !path.isEmpty() && saveExperiment(path);
}

bool MainWindow::saveExperiment(const QString& path) {
    QString error;
    if (!form_->saveFile(path, &error)) {
        report_error(error, QStringLiteral("experiment"));
        return false;
    }
    prefs::last_experiment.set(form_->filePath());
    statusBar()->showMessage(tr("saved %1").arg(path), 5000);
    setWindowModified(false);
    update_title();
    return true;
}

void MainWindow::setStorePath(const QString& path) {
    store_.setPath(path);
    export_->setStorePath(path);
    browser_->setSource(store_.browserSource());
    refreshStoreViews();
    statusBar()->showMessage(tr("run store: %1").arg(path));
}

void MainWindow::choose_data_folder() {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Data folder (run outputs and run store)"), data_folder_);
    if (dir.isEmpty()) return;
    data_folder_ = dir;
    prefs::data_folder.set(dir);
    if (prefs::store_path.get().isEmpty() && qEnvironmentVariable("RILQ_DB").isEmpty())
        setStorePath(QDir(dir).filePath(QStringLiteral("runs.sqlite")));
}

QCustomPlot* MainWindow::currentChart() const {
    // The view's main chart: the largest one on screen (Live curves' plot, the Layers heat map,
    // Compare's rank figure), saved by itself rather than the tab with its controls.
    QCustomPlot* best = nullptr;
    int best_area = 0;
    for (QCustomPlot* plot : tabs_->currentWidget()->findChildren<QCustomPlot*>()) {
        const int area = plot->width() * plot->height();
        if (plot->isVisible() && area > best_area) {
            best = plot;
            best_area = area;
        }
    }
    return best;
}

void MainWindow::save_chart() {
    QCustomPlot* chart = currentChart();
    if (!chart) {
        report_error(tr("The %1 tab shows no chart: save one from Live curves, Layers or Compare.")
                         .arg(tabs_->tabText(tabs_->currentIndex())),
                     QStringLiteral("export"));
        return;
    }
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save chart"), prefs::last_folder.get(),
                                     tr("PNG image, 2x (*.png);;PDF, vector (*.pdf);;SVG, vector (*.svg)"));
    if (path.isEmpty()) return;
    QString error;
    const bool ok = widgets::save_plot(chart, path, &error);
    if (!ok)
        report_error(error, QStringLiteral("export"));
    else
        statusBar()->showMessage(tr("saved %1").arg(path), 5000);
}

QStringList MainWindow::viewNames() const {
    return {QStringLiteral("setup"),  QStringLiteral("queue"), QStringLiteral("live"),
            QStringLiteral("layers"), QStringLiteral("runs"),  QStringLiteral("compare"),
            QStringLiteral("export")};
}

bool MainWindow::showView(const QString& name) {
    const int index = int(viewNames().indexOf(name));
    if (index < 0) return false;
    tabs_->setCurrentIndex(index);
    return true;
}

bool MainWindow::saveScreenshots(const QString& dir, QString* error) {
    if (!QDir().mkpath(dir)) {
        if (error) *error = tr("%1: cannot create the folder").arg(dir);
        return false;
    }
    for (const QString& name : viewNames()) {
        showView(name);
        QCoreApplication::processEvents();
        live_->replotNow();
        QCoreApplication::processEvents();
        QStringList shots = {name};
        const QStringList figure_shots = {QStringLiteral("compare"), QStringLiteral("compare-scatter"),
                                          QStringLiteral("compare-parallel")}; // Compare's figure tabs
        if (name == QLatin1String("compare")) shots = figure_shots;
        for (const QString& shot : shots) {
            // Each of Compare's figure tabs (rank figure, params vs metric, parallel) is a picture.
            compare_->figureTabs()->setCurrentIndex(std::max(0, int(figure_shots.indexOf(shot))));
            QCoreApplication::processEvents();
            const QString path = QDir(dir).filePath(shot + QStringLiteral(".png"));
            if (!grab().save(path, "PNG")) {
                if (error) *error = tr("%1: cannot write").arg(path);
                return false;
            }
        }
    }
    // The overlay with its scale groups on split charts (model- beside linear-scope losses).
    showView(QStringLiteral("compare"));
    compare_->figureTabs()->setCurrentIndex(0);
    const bool was_split = compare_->overlay()->splitCharts();
    compare_->overlay()->setSplitCharts(true);
    QCoreApplication::processEvents();
    const QString split_path = QDir(dir).filePath(QStringLiteral("compare-split.png"));
    const bool split_saved = grab().save(split_path, "PNG");
    compare_->overlay()->setSplitCharts(was_split);
    if (!split_saved) {
        if (error) *error = tr("%1: cannot write").arg(split_path);
        return false;
    }
    return true;
}

bool MainWindow::runDemo() {
    const QString path = default_experiment_path();
    if (!path.endsWith(QStringLiteral("demo.json"))) {
        report_error(tr("the demo experiment (experiments/demo.json) was not found"), "demo");
        return false;
    }
    if (!maybeSaveExperiment()) return false; // the demo replaces the open experiment
    openExperiment(path);
    return startRuns();
}

} // namespace rilq::gui
