#include "core/cluster/slurm_resources.h"

#include "core/util/error.h"

namespace rilq::cluster {

const std::vector<SlurmField>& slurm_fields() {
    static const std::vector<SlurmField> fields = {
        {"partition", "P", "Slurm partition (default: the cluster's).", &SlurmResources::partition, nullptr},
        {"gres", "GRES", "Generic resources per task, e.g. gpu:1.", &SlurmResources::gres, nullptr},
        {"cpus", "N", "CPUs per task (also the task's compute threads).", nullptr, &SlurmResources::cpus},
        {"mem", "M", "Memory per task, e.g. 16G.", &SlurmResources::mem, nullptr},
        {"time", "T", "Time limit per task, e.g. 2:00:00.", &SlurmResources::time, nullptr},
        {"max-parallel", "N", "At most N tasks at once (0: no limit).", nullptr,
         &SlurmResources::max_parallel},
    };
    return fields;
}

void set_slurm_field(SlurmResources& resources, const SlurmField& field, const std::string& value) {
    if (field.text) {
        resources.*field.text = value;
        return;
    }
    size_t used = 0;
    int number = -1;
    try {
        number = value.empty() ? 0 : std::stoi(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if ((!value.empty() && used != value.size()) || number < 0)
        throw Error(std::string("--") + field.key + ": expected an integer >= 0, found \"" + value + "\"");
    resources.*field.number = number;
}

std::string slurm_field_text(const SlurmResources& resources, const SlurmField& field) {
    if (field.text) return resources.*field.text;
    const int n = resources.*field.number;
    return n > 0 ? std::to_string(n) : std::string();
}

std::vector<std::string> sbatch_options(const SlurmResources& r) {
    std::vector<std::string> out;
    if (!r.partition.empty()) out.push_back("--partition=" + r.partition);
    if (!r.gres.empty()) out.push_back("--gres=" + r.gres);
    if (r.cpus > 0) out.push_back("--cpus-per-task=" + std::to_string(r.cpus));
    if (!r.mem.empty()) out.push_back("--mem=" + r.mem);
    if (!r.time.empty()) out.push_back("--time=" + r.time);
    for (const auto& a : r.sbatch_args)
        out.push_back(a);
    return out;
}

} // namespace rilq::cluster
