// Where the workbench finds things: the default experiment, the default data folder, and the
// version line of the About box.
#pragma once
#include <QString>

namespace rilq::gui {

// experiments/demo.json when it exists (source tree, then the install's share folder), else
// experiments/stories260k-rank-sweep.json; "" when neither is found.
QString default_experiment_path();
// What the window opens at start: the experiment named on the command line, else the one open
// when the workbench last closed (if it still exists), else default_experiment_path().
QString startup_experiment_path(const QString& given, const QString& remembered);
// The folder of the default run store (~/.local/share/rilq-workbench unless $RILQ_DB says else).
QString default_data_folder();
// "Qt 6.4.2 · LibTorch 1.13.1 · SQLite 3.40.1" (rich text for the About box).
QString version_text();

} // namespace rilq::gui
