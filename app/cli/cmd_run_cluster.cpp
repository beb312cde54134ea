#include "app/cli/cmd_run_cluster.h"

#include "app/cli/cli_support.h"
#include "core/cluster/run_backend.h"
#include "core/cluster/shard_writer.h"
#include "core/cluster/slurm_follow.h"
#include "core/cluster/slurm_submit.h"
#include "core/run/prepared_artifact.h"
#include "core/run/run_preparation.h"
#include "core/store/run_store.h"
#include "core/util/error.h"

#include <iostream>

namespace rilq::cli {

namespace {

QString opt(const char* name) {
    return QString::fromLatin1(name);
}

int index_option(const QCommandLineParser& parser, const char* name) {
    bool ok = false;
    const int value = parser.value(opt(name)).toInt(&ok);
    if (!ok || value < 0)
        throw Error(std::string("--") + name + ": expected an index >= 0, found \"" +
                    to_std(parser.value(opt(name))) + "\"");
    return value;
}

const run::RunConfig& point_of(const run::ExperimentConfig& experiment, int point) {
    if (point >= static_cast<int>(experiment.runs.size()))
        throw Error("--point " + std::to_string(point) + ": experiment " + experiment.name + " has " +
                    std::to_string(experiment.runs.size()) + " point(s), 0 to " +
                    std::to_string(experiment.runs.size() - 1));
    return experiment.runs[static_cast<size_t>(point)];
}

run::ExperimentConfig experiment_of(const QCommandLineParser& parser) {
    if (parser.positionalArguments().isEmpty()) throw Error("name the experiment file");
    return run::parse_experiment_file(to_std(parser.positionalArguments().front()),
                                      experiment_parse_options(parser));
}

// A shared-preparation task: the preparation of one group of points, written for the sweep's tasks.
int run_preparation_task(const QCommandLineParser& parser, const cluster::SlurmJob& job) {
    const int index = index_option(parser, "prepare");
    if (index >= static_cast<int>(job.preparations.size()))
        throw Error("--prepare " + std::to_string(index) + ": job " + job.manifest_path() + " has " +
                    std::to_string(job.preparations.size()) + " preparation(s)");
    const cluster::SlurmPreparation& p = job.preparations[static_cast<size_t>(index)];
    const run::ExperimentConfig experiment = experiment_of(parser);
    const run::RunConfig& config = point_of(experiment, p.point);
    std::cerr << "preparing for " << p.tasks.size() << " point(s) of " << experiment.name << " into " << p.dir
              << "\n";
    ProgressLine line(true);
    ProgressSink sink;
    sink.cancel = interrupt_cancel_token();
    sink.on_progress = [&](const ProgressInfo& info) {
        line.update(info.stage, info.done, info.total, info.unit, info.eta_s);
    };
    const auto prepared = run::prepare(
        config, nullptr,
        [&](run::RunStage stage) {
            line.finish();
            std::cerr << "stage: " << run::to_string(stage) << "\n";
        },
        sink);
    run::save_preparation(*prepared, p.dir);
    line.finish();
    std::cerr << "prepared " << p.dir << "\n";
    return kExitOk;
}

} // namespace

void add_cluster_options(QCommandLineParser& parser) {
    std::string backends;
    for (const auto& name : cluster::run_backend_names())
        backends += (backends.empty() ? "" : " | ") + name;
    parser.addOption({opt("backend"),
                      QString::fromStdString("Where the points run: " + backends + " (default local)."),
                      opt("NAME")});
    for (const cluster::SlurmField& f : cluster::slurm_fields())
        parser.addOption({opt(f.key), QStringLiteral("Slurm: ") + opt(f.help), opt(f.value_name)});
    parser.addOption({opt("sbatch-arg"),
                      QStringLiteral("Slurm: one more sbatch option, e.g. --qos=high (repeatable)."),
                      opt("ARG")});
    parser.addOption(
        {opt("shared-prep"),
         QStringLiteral("Slurm: points that share preparation load it from one preparation job.")});
    parser.addOption({opt("job-dir"),
                      QStringLiteral("Slurm: the job folder (default: <outputs>/slurm/<experiment>-<time>)."),
                      opt("DIR")});
    parser.addOption(
        {opt("poll-seconds"), QStringLiteral("Slurm: seconds between squeue polls (default 5)."), opt("S")});
    parser.addOption({opt("point"), QStringLiteral("Run only sweep point N (0-based)."), opt("N")});
    parser.addOption({opt("job"),
                      QStringLiteral("With --point: run task N of this Slurm job manifest (what array "
                                     "tasks run on their nodes)."),
                      opt("FILE")});
    parser.addOption(
        {opt("prepare"), QStringLiteral("With --job: write shared preparation G of the job."), opt("G")});
}

run::ParseOptions experiment_parse_options(const QCommandLineParser& parser) {
    run::ParseOptions parse;
    parse.data_root_override = to_std(parser.value(opt("data-root")));
    for (const auto& s : parser.values(opt("set")))
        parse.overrides.push_back(to_std(s));
    return parse;
}

bool is_point_task(const QCommandLineParser& parser) {
    return parser.isSet(opt("point")) || parser.isSet(opt("job")) || parser.isSet(opt("prepare"));
}

int run_point_task(const QCommandLineParser& parser, run::RunnerOptions options) {
    if (parser.isSet(opt("backend")) &&
        cluster::parse_run_backend(to_std(parser.value(opt("backend")))) != cluster::RunBackend::Local)
        throw Error("--point runs one point here; it does not combine with --backend slurm");
    if (parser.isSet(opt("job"))) {
        const cluster::SlurmJob job = cluster::read_job_manifest(to_std(parser.value(opt("job"))));
        if (parser.isSet(opt("prepare"))) return run_preparation_task(parser, job);
        const int index = index_option(parser, "point");
        if (index >= static_cast<int>(job.tasks.size()))
            throw Error("--point " + std::to_string(index) + ": job " + job.manifest_path() + " has " +
                        std::to_string(job.tasks.size()) + " task(s)");
        const cluster::SlurmTask& task = job.tasks[static_cast<size_t>(index)];
        // The run is recorded on this node's disk and published as its shard beside its outputs.
        cluster::ShardWriter shard(task.shard, task.resume);
        options.store_path = shard.live_path();
        const run::RunnerCallback print = options.on_event;
        options.on_event = [&](const run::RunnerEvent& e) {
            if (print) print(e);
            shard.maybe_publish();
        };
        std::cerr << "task " << index << " of Slurm job " << job.job_id << ": run " << task.run_name << " ("
                  << task.run_uuid.substr(0, 8) << (task.resume ? ", resumed" : "") << "), shard "
                  << task.shard << "\n";
        run::RunOutcome outcome;
        {
            if (task.resume) {
                outcome = run::Runner(options).resume(task.run_uuid);
            } else {
                const run::ExperimentConfig experiment = experiment_of(parser);
                const run::RunConfig& config = point_of(experiment, task.point);
                if (config.run_name != task.run_name)
                    throw Error("point " + std::to_string(task.point) + " of " + experiment.source_path +
                                " is " + config.run_name + ", the job submitted " + task.run_name);
                options.run_uuid = task.run_uuid;
                run::Runner runner(options);
                if (task.preparation >= 0)
                    runner.adopt_preparation(run::load_preparation(
                        job.preparations[static_cast<size_t>(task.preparation)].dir, config));
                outcome = runner.run_point(config, experiment.document_json,
                                           static_cast<int>(experiment.runs.size()));
            }
        } // the Runner's store is closed: everything it logged is in the snapshot
        shard.publish();
        return outcome.status == store::RunStatus::Finished ? kExitOk : kExitError;
    }
    if (parser.isSet(opt("prepare"))) throw Error("--prepare needs --job");
    const run::ExperimentConfig experiment = experiment_of(parser);
    const run::RunConfig& config = point_of(experiment, index_option(parser, "point"));
    const run::RunOutcome outcome = run::Runner(options).run_point(config, experiment.document_json,
                                                                   static_cast<int>(experiment.runs.size()));
    return outcome.status == store::RunStatus::Finished ? kExitOk : kExitError;
}

bool slurm_requested(const QCommandLineParser& parser) {
    const bool slurm =
        parser.isSet(opt("backend")) &&
        cluster::parse_run_backend(to_std(parser.value(opt("backend")))) == cluster::RunBackend::Slurm;
    if (slurm && parser.isSet(opt("samples")))
        throw Error(
            "--samples needs the models on this machine: run them locally from the outputs afterwards");
    if (!slurm) {
        for (const char* name : {"sbatch-arg", "shared-prep", "job-dir", "poll-seconds"})
            if (parser.isSet(opt(name))) throw Error(std::string("--") + name + " needs --backend slurm");
        for (const cluster::SlurmField& f : cluster::slurm_fields())
            if (parser.isSet(opt(f.key))) throw Error(std::string("--") + f.key + " needs --backend slurm");
    }
    return slurm;
}

std::vector<run::RunOutcome> run_on_slurm(const QCommandLineParser& parser,
                                          const run::ExperimentConfig* experiment,
                                          const run::RunnerOptions& options) {
    cluster::SlurmSubmitOptions submit;
    for (const cluster::SlurmField& f : cluster::slurm_fields())
        if (parser.isSet(opt(f.key)))
            cluster::set_slurm_field(submit.resources, f, to_std(parser.value(opt(f.key))));
    for (const auto& a : parser.values(opt("sbatch-arg")))
        submit.resources.sbatch_args.push_back(to_std(a));
    submit.job_dir = to_std(parser.value(opt("job-dir")));
    submit.working_dir = options.output_base;
    submit.shared_preparation = parser.isSet(opt("shared-prep"));
    submit.preparation_key = run::preparation_key;
    if (!options.write_outputs) submit.run_args.push_back("--no-outputs");
    if (options.save_merged) submit.run_args.push_back("--save-merged");
    cluster::SlurmFollowOptions follow;
    follow.cancel = options.cancel;
    // The follower's own news (a cancel, Slurm not answering) goes to the terminal; the Runner's
    // log lines of the tasks are in their job logs.
    follow.on_event = [&options](const run::RunnerEvent& e) {
        if (e.kind == run::RunnerEvent::Kind::Log)
            std::cerr << "slurm: " << e.message << "\n";
        else if (options.on_event)
            options.on_event(e);
    };
    if (parser.isSet(opt("poll-seconds"))) {
        bool ok = false;
        const double seconds = parser.value(opt("poll-seconds")).toDouble(&ok);
        if (!ok || seconds < 0.1) throw Error("--poll-seconds: expected a number >= 0.1");
        follow.poll_interval = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    }

    cluster::SystemProcessRunner processes;
    cluster::SlurmClient slurm(processes);
    store::RunStore main(options.store_path);
    std::vector<std::string> resume;
    for (const auto& r : parser.values(opt("resume")))
        resume.push_back(to_std(r));
    const cluster::SlurmJob job = experiment ? cluster::submit_experiment(slurm, main, *experiment, submit)
                                             : cluster::submit_resume(slurm, main, resume, submit);
    std::cerr << "Slurm job " << job.job_id << ": " << job.tasks.size() << " task(s)"
              << (job.preparation_job_id.empty()
                      ? ""
                      : ", after shared preparation job " + job.preparation_job_id + " (" +
                            std::to_string(job.preparations.size()) + " task(s))")
              << "; job folder " << job.dir << "\n";
    return cluster::follow_job(slurm, main, job, follow);
}

} // namespace rilq::cli
