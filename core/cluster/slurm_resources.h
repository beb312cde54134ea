// What a sweep asks Slurm for, per array task. One table of fields (slurm_fields()) is the single
// source for `rilq run --backend slurm`'s options, the GUI's Slurm form and its saved settings.
#pragma once
#include <string>
#include <vector>

namespace rilq::cluster {

struct SlurmResources {
    std::string partition;                // --partition; "" = the cluster's default
    std::string gres;                     // --gres, e.g. "gpu:1"
    int cpus = 0;                         // --cpus-per-task (and the task's --threads); 0 = default
    std::string mem;                      // --mem, e.g. "16G"
    std::string time;                     // --time, e.g. "2:00:00" (Slurm's formats)
    int max_parallel = 0;                 // at most this many tasks at once (--array=...%N); 0 = no limit
    std::vector<std::string> sbatch_args; // passed through unchanged, one #SBATCH line each
};

// One field of SlurmResources, as the command line and the GUI show it.
struct SlurmField {
    const char* key;        // option name and settings key: "partition", "max-parallel", ...
    const char* value_name; // "P", "N", ...
    const char* help;
    std::string SlurmResources::*text = nullptr; // exactly one of these two is set
    int SlurmResources::*number = nullptr;
};

const std::vector<SlurmField>& slurm_fields();

// Sets a field from text (numbers must be integers >= 0); Error naming the field otherwise.
void set_slurm_field(SlurmResources& resources, const SlurmField& field, const std::string& value);
std::string slurm_field_text(const SlurmResources& resources, const SlurmField& field); // "" for 0

// The #SBATCH options the fields stand for (without --array): "--partition=gpu", ...
std::vector<std::string> sbatch_options(const SlurmResources& resources);

} // namespace rilq::cluster
