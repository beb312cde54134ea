#include "core/cluster/slurm_job.h"

#include "core/cluster/process_runner.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace rilq::cluster {

namespace {

nlohmann::json resources_json(const SlurmResources& r) {
    nlohmann::json j = nlohmann::json::object();
    for (const SlurmField& f : slurm_fields())
        j[f.key] = slurm_field_text(r, f);
    j["sbatch_args"] = r.sbatch_args;
    return j;
}

// The job name Slurm shows (squeue, sacct): letters, digits, - _ . only.
std::string job_name(const std::string& experiment) {
    std::string name = "rilq-";
    for (const char c : experiment)
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    return name.substr(0, 64);
}

std::string script_header(const SlurmJob& job, const std::string& what, const std::string& file,
                          const std::string& array) {
    std::string s = "#!/bin/sh\n# " + what + "\n# Written by rilq run --backend slurm; by hand: sbatch " +
                    shell_quote(job.dir + "/" + file) + "\n";
    const std::vector<std::string> lines = {"--job-name=" + job_name(job.experiment), "--array=" + array,
                                            "--output=" + job.dir + "/logs/%A_%a.log",
                                            "--chdir=" + job.working_dir};
    for (const auto& o : lines)
        s += "#SBATCH " + o + "\n";
    for (const auto& o : sbatch_options(job.resources))
        s += "#SBATCH " + o + "\n";
    return s;
}

} // namespace

std::string SlurmJob::log_path(const std::string& array_job, int task) const {
    return dir + "/logs/" + array_job + "_" + std::to_string(task) + ".log";
}

std::string array_range(int count, int max_parallel) {
    std::string range = count == 1 ? "0" : "0-" + std::to_string(count - 1);
    if (max_parallel > 0) range += "%" + std::to_string(max_parallel);
    return range;
}

std::string task_script(const SlurmJob& job) {
    const bool sweep =
        std::any_of(job.tasks.begin(), job.tasks.end(), [](const SlurmTask& t) { return !t.resume; });
    std::string s =
        script_header(job,
                      sweep ? "rilq sweep " + job.experiment + ": one task per sweep point"
                            : "rilq resume of " + std::to_string(job.tasks.size()) + " run(s)",
                      "job.sh", array_range(static_cast<int>(job.tasks.size()), job.resources.max_parallel));
    std::string command = "exec " + shell_quote(job.rilq_program) + " run";
    if (sweep) command += " " + shell_quote(job.experiment_path());
    command += " --point \"$SLURM_ARRAY_TASK_ID\" --job " + shell_quote(job.manifest_path());
    if (job.resources.cpus > 0) command += " --threads " + std::to_string(job.resources.cpus);
    for (const auto& a : job.run_args)
        command += " " + shell_quote(a);
    return s + command + "\n";
}

std::string preparation_script(const SlurmJob& job) {
    std::string s = script_header(job, "shared preparation for rilq sweep " + job.experiment, "prepare.sh",
                                  array_range(static_cast<int>(job.preparations.size()), 0));
    std::string command = "exec " + shell_quote(job.rilq_program) + " run " +
                          shell_quote(job.experiment_path()) + " --prepare \"$SLURM_ARRAY_TASK_ID\" --job " +
                          shell_quote(job.manifest_path());
    if (job.resources.cpus > 0) command += " --threads " + std::to_string(job.resources.cpus);
    return s + command + "\n";
}

void write_job_manifest(const SlurmJob& job) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : job.tasks)
        tasks.push_back({{"point", t.point},
                         {"run_uuid", t.run_uuid},
                         {"run_name", t.run_name},
                         {"shard", t.shard},
                         {"resume", t.resume},
                         {"preparation", t.preparation}});
    nlohmann::json preparations = nlohmann::json::array();
    for (const auto& p : job.preparations)
        preparations.push_back({{"point", p.point}, {"dir", p.dir}, {"tasks", p.tasks}});
    const nlohmann::json doc = {{"format_version", 1},
                                {"experiment", job.experiment},
                                {"working_dir", job.working_dir},
                                {"rilq_program", job.rilq_program},
                                {"run_args", job.run_args},
                                {"resources", resources_json(job.resources)},
                                {"job_id", job.job_id},
                                {"preparation_job_id", job.preparation_job_id},
                                {"tasks", tasks},
                                {"preparations", preparations}};
    write_file_atomic(job.manifest_path(), doc.dump(2) + "\n");
}

SlurmJob read_job_manifest(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot read the Slurm job manifest");
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(in);
        SlurmJob job;
        job.dir = path.substr(0, path.find_last_of('/'));
        job.experiment = doc.at("experiment").get<std::string>();
        job.working_dir = doc.at("working_dir").get<std::string>();
        job.rilq_program = doc.at("rilq_program").get<std::string>();
        job.run_args = doc.at("run_args").get<std::vector<std::string>>();
        for (const SlurmField& f : slurm_fields())
            set_slurm_field(job.resources, f, doc.at("resources").at(f.key).get<std::string>());
        job.resources.sbatch_args = doc.at("resources").at("sbatch_args").get<std::vector<std::string>>();
        job.job_id = doc.at("job_id").get<std::string>();
        job.preparation_job_id = doc.at("preparation_job_id").get<std::string>();
        for (const auto& t : doc.at("tasks"))
            job.tasks.push_back({t.at("point").get<int>(), t.at("run_uuid").get<std::string>(),
                                 t.at("run_name").get<std::string>(), t.at("shard").get<std::string>(),
                                 t.at("resume").get<bool>(), t.at("preparation").get<int>()});
        for (const auto& p : doc.at("preparations"))
            job.preparations.push_back({p.at("point").get<int>(), p.at("dir").get<std::string>(),
                                        p.at("tasks").get<std::vector<int>>()});
        return job;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path + ": not a Slurm job manifest of this rilq: " + e.what());
    }
}

} // namespace rilq::cluster
