#include "core/cluster/slurm_submit.h"

#include "core/run/experiment_config.h"
#include "core/run/run_config.h"
#include "core/run/run_record.h"
#include "core/store/run_store.h"
#include "core/store/shard_import.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace rilq::cluster {

namespace {

std::string this_program() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error("cannot tell which rilq is running (/proc/self/exe): " + ec.message());
    return self.string();
}

std::string folder_name(const std::string& experiment, const std::string& what) {
    std::string name;
    for (const char c : experiment)
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    return name + "-" + what + stamp;
}

// A fresh job folder (an existing, non-empty one is never reused: its logs and manifest stay).
SlurmJob new_job(const SlurmSubmitOptions& options, const std::string& experiment,
                 const fs::path& default_dir) {
    SlurmJob job;
    job.experiment = experiment;
    job.working_dir =
        fs::absolute(options.working_dir.empty() ? fs::current_path() : fs::path(options.working_dir))
            .lexically_normal()
            .string();
    job.rilq_program =
        options.rilq_program.empty() ? this_program() : fs::absolute(options.rilq_program).string();
    job.run_args = options.run_args;
    job.resources = options.resources;
    job.dir = fs::absolute(options.job_dir.empty() ? default_dir : fs::path(options.job_dir))
                  .lexically_normal()
                  .string();
    std::error_code ec;
    if (fs::exists(job.dir) && !fs::is_empty(job.dir, ec))
        throw Error(job.dir + ": this job folder exists and is not empty; name another with --job-dir");
    fs::create_directories(fs::path(job.dir) / "logs", ec);
    if (ec) throw Error(job.dir + ": cannot create the job folder: " + ec.message());
    return job;
}

// What a run's shard holds beyond the main store's record (a task that published after the last
// import) comes home before the shard is seeded again.
void import_existing(store::RunStore& main, const std::string& shard) {
    if (fs::exists(shard)) store::import_shards(main, {shard});
}

void tag_runs(store::RunStore& main, const SlurmJob& job) {
    for (size_t i = 0; i < job.tasks.size(); ++i) {
        const SlurmTask& t = job.tasks[i];
        main.set_tag(t.run_uuid, "slurm.job_id", job.job_id);
        main.set_tag(t.run_uuid, "slurm.array_task", std::to_string(i));
        main.set_tag(t.run_uuid, "slurm.job_dir", job.dir);
        main.set_tag(t.run_uuid, "slurm.working_dir", job.working_dir);
        main.set_tag(t.run_uuid, "slurm.shard", t.shard);
        main.set_tag(t.run_uuid, "slurm.state", "PENDING");
    }
}

// sbatch for the preparation (if any) and the array; the manifest gets the job ids.
void submit_job(SlurmClient& slurm, store::RunStore& main, SlurmJob& job) {
    write_file_atomic(job.dir + "/job.sh", task_script(job));
    if (!job.preparations.empty()) write_file_atomic(job.dir + "/prepare.sh", preparation_script(job));
    write_job_manifest(job);
    try {
        std::vector<std::string> options;
        if (!job.preparations.empty()) {
            job.preparation_job_id = slurm.submit(job.dir + "/prepare.sh");
            // afterok on an array waits for all of its tasks; a failed preparation cancels the sweep.
            options = {"--dependency=afterok:" + job.preparation_job_id, "--kill-on-invalid-dep=yes"};
        }
        job.job_id = slurm.submit(job.dir + "/job.sh", options);
    } catch (const std::exception& e) {
        if (!job.preparation_job_id.empty()) {
            try {
                slurm.cancel(job.preparation_job_id);
            } catch (const std::exception&) {
                // the submission error below is the one to report
            }
        }
        for (const SlurmTask& t : job.tasks)
            if (!t.resume)
                main.end_run(t.run_uuid, store::RunStatus::Failed, std::string("not submitted: ") + e.what());
        throw;
    }
    write_job_manifest(job);
    tag_runs(main, job);
}

} // namespace

std::string shard_path_for(const std::string& output_dir, const std::string& run_uuid) {
    return output_dir + "." + run_uuid.substr(0, 12) + ".shard.sqlite";
}

SlurmJob submit_experiment(SlurmClient& slurm, store::RunStore& main, const run::ExperimentConfig& experiment,
                           const SlurmSubmitOptions& options) {
    if (experiment.runs.empty()) throw Error("experiment " + experiment.name + " has no points to submit");
    if (options.shared_preparation && !options.preparation_key)
        throw Error(
            "shared preparation needs a way to group the points (SlurmSubmitOptions::preparation_key)");
    const fs::path cwd = options.working_dir.empty() ? fs::current_path() : fs::path(options.working_dir);
    const auto output_of = [&](const run::RunConfig& c) {
        return fs::absolute(cwd / c.output_dir()).lexically_normal();
    };
    SlurmJob job = new_job(options, experiment.name,
                           output_of(experiment.runs.front()).parent_path() / "slurm" /
                               folder_name(experiment.name, ""));

    // The experiment as submitted, data_root absolute: the tasks parse this copy. Parsing it back
    // here proves they will see exactly these points.
    nlohmann::json document = nlohmann::json::parse(experiment.document_json);
    document["data_root"] = experiment.data_root;
    write_file_atomic(job.experiment_path(), document.dump(2) + "\n");
    const run::ExperimentConfig copy = run::parse_experiment_file(job.experiment_path());
    if (copy.runs.size() != experiment.runs.size())
        throw Error(job.experiment_path() + ": the submitted copy expands to " +
                    std::to_string(copy.runs.size()) + " points instead of " +
                    std::to_string(experiment.runs.size()));
    for (size_t i = 0; i < copy.runs.size(); ++i)
        if (copy.runs[i].config_hash != experiment.runs[i].config_hash ||
            copy.runs[i].run_name != experiment.runs[i].run_name)
            throw Error(job.experiment_path() + ": point " + std::to_string(i) +
                        " differs from the experiment given");

    std::map<std::string, std::vector<int>> groups; // preparation key -> tasks
    for (const run::RunConfig& config : experiment.runs) {
        const std::string uuid = main.create_run(run::to_new_run(config, experiment.document_json));
        const std::string shard = shard_path_for(output_of(config).string(), uuid);
        job.tasks.push_back({config.index, uuid, config.run_name, shard, false, -1});
        if (options.shared_preparation)
            groups[options.preparation_key(config)].push_back(static_cast<int>(job.tasks.size() - 1));
    }
    for (const auto& [key, tasks] : groups) {
        if (tasks.size() < 2) continue; // alone, a task prepares faster than it waits for a job
        SlurmPreparation p;
        p.point = job.tasks[static_cast<size_t>(tasks.front())].point;
        p.dir = job.dir + "/prepared/" + std::to_string(job.preparations.size());
        p.tasks = tasks;
        for (const int t : tasks)
            job.tasks[static_cast<size_t>(t)].preparation = static_cast<int>(job.preparations.size());
        job.preparations.push_back(p);
    }
    submit_job(slurm, main, job);
    return job;
}

SlurmJob submit_resume(SlurmClient& slurm, store::RunStore& main, const std::vector<std::string>& run_refs,
                       const SlurmSubmitOptions& options) {
    if (run_refs.empty()) throw Error("name the runs to resume");
    std::vector<SlurmTask> tasks;
    std::string experiment;
    SlurmSubmitOptions resume_options = options;
    for (const std::string& ref : run_refs) {
        const std::string uuid = main.resolve_run(ref);
        store::RunDetail detail = main.get_run(uuid);
        const auto shard_tag = detail.tags.find("slurm.shard");
        if (shard_tag == detail.tags.end())
            throw Error("run " + ref +
                        " was not run on Slurm (no slurm.shard tag): resume it without --backend slurm");
        const std::string shard = shard_tag->second;
        import_existing(main, shard); // whatever the task published after the last import
        detail = main.get_run(uuid);
        const store::RunStatus status = detail.summary.status;
        if (status != store::RunStatus::Killed && status != store::RunStatus::Failed &&
            status != store::RunStatus::Interrupted)
            throw Error("run " + ref + " is " + store::to_string(status) +
                        ": only KILLED, FAILED or INTERRUPTED runs can be resumed");
        for (const auto& t : tasks)
            if (t.run_uuid == uuid) throw Error("run " + ref + " is named twice");
        const auto index = detail.tags.find("sweep.index");
        tasks.push_back({index == detail.tags.end() ? 0 : std::stoi(index->second), uuid, detail.summary.name,
                         shard, true, -1});
        if (experiment.empty()) experiment = detail.summary.experiment;
        // Relative output folders resolve where the run was first submitted from.
        const auto working = detail.tags.find("slurm.working_dir");
        if (options.working_dir.empty() && working != detail.tags.end()) {
            if (!resume_options.working_dir.empty() && resume_options.working_dir != working->second)
                throw Error("run " + ref + " was submitted from " + working->second +
                            ", the runs before it from " + resume_options.working_dir +
                            ": resume them separately");
            resume_options.working_dir = working->second;
        }
    }
    SlurmJob job =
        new_job(resume_options, experiment,
                fs::path(tasks.front().shard).parent_path() / "slurm" / folder_name(experiment, "resume-"));
    for (SlurmTask& t : tasks)
        store::export_runs(main, {t.run_uuid}, t.shard);
    job.tasks = std::move(tasks);
    submit_job(slurm, main, job);
    return job;
}

} // namespace rilq::cluster
