// Where the GUI runs an experiment: locally (the worker thread's Runner) or as a Slurm job array
// with the resources of core/cluster/slurm_resources.h. Remembered in the settings (one key each
// for the backend and the Slurm fields), so the choice survives restarts.
#pragma once
#include "core/cluster/run_backend.h"
#include "core/cluster/slurm_resources.h"

#include <QString>

namespace rilq::gui {

struct RunBackendChoice {
    cluster::RunBackend backend = cluster::RunBackend::Local;
    cluster::SlurmResources slurm;
    bool shared_preparation = false;
};

RunBackendChoice load_backend_choice();
void save_backend_choice(const RunBackendChoice& choice);

// "Local", or "Slurm (partition gpu, gres gpu:1, ...)": the toolbar's tooltip and the log.
QString describe(const RunBackendChoice& choice);

} // namespace rilq::gui
