// The run toolbar's backend choice: a combo box (the backends of core/cluster/run_backend.h) and
// "Slurm settings…" (SlurmSettingsDialog), both saved to the settings as soon as they change;
// startRuns() reads the saved choice.
#pragma once

class QMenu;
class QToolBar;

namespace rilq::gui {

void add_backend_controls(QToolBar* toolbar, QMenu* menu);

} // namespace rilq::gui
