// Where `rilq run` and the GUI run an experiment's points: here, one after the other (the
// Runner), or as a Slurm job array (slurm_submit.h, slurm_follow.h). The one list of backends.
#pragma once
#include <string>
#include <vector>

namespace rilq::cluster {

enum class RunBackend { Local, Slurm };

const std::vector<std::string>& run_backend_names(); // "local", "slurm" (in enum order)
std::string to_string(RunBackend backend);
RunBackend parse_run_backend(const std::string& name); // Error listing the names

} // namespace rilq::cluster
