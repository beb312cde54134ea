// Shared by the fault suites (tests/fault): the smallest real run (stories260K, RTN 2-bit, a few
// micro-steps, no evaluation) and running the built rilq / rilq-workbench as a real process.
#pragma once
#include "tests/fault/fault_binaries.h"
#include "tests/support/test_support.h"

#include "core/run/experiment_config.h"
#include "core/run/runner.h"

#include <QProcess>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <string>

namespace rilq::fault {

// One point, `lora_r` ranks, `steps` micro-steps of batch 2, a validation (and a checkpoint)
// every 2 updates, no perplexity stages: about a second on one thread.
inline nlohmann::json tiny_experiment(const std::string& name, int lora_r = 0, int steps = 4) {
    nlohmann::json doc = nlohmann::json::parse(R"({
      "format_version": 1,
      "seed": 42,
      "datasets": {"calib": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.0, 0.5]}},
      "rilq": {
        "base_model": "stories260K/stories260K.bin",
        "tokenizer": "stories260K/tok512.bin",
        "lora_alpha": 16,
        "dtype": "fp32",
        "output_dir": "out/{experiment}/{run}",
        "calib_dataset": "calib",
        "calib_num_samples": 8,
        "calib_val_ratio": 0.25,
        "calib_max_length": 32,
        "approx_lr": 3e-3,
        "approx_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "approx_eval_steps": 2,
        "approx_early_stop": false
      },
      "quant": {"method": "rtn", "bits": 2, "group_size": 64},
      "eval": {"datasets": []}
    })");
    doc["name"] = name;
    doc["rilq"]["lora_r"] = lora_r;
    doc["rilq"]["approx_total_steps"] = steps;
    return doc;
}

inline run::ExperimentConfig parse(const nlohmann::json& doc) {
    run::ParseOptions options;
    options.data_root_override = test::shared_data();
    return run::parse_experiment(doc, options);
}

// A Runner writing its store (runs.db) and its output folders in `dir`.
inline run::RunnerOptions runner_options_in(const std::string& dir) {
    run::RunnerOptions options;
    options.store_path = dir + "/runs.db";
    options.output_base = dir;
    return options;
}

// The experiment as a file the CLI can run (data_root made absolute).
inline std::string write_experiment(const std::string& dir, nlohmann::json doc) {
    doc["data_root"] = test::shared_data();
    const std::string path = dir + "/" + "experiment.json";
    test::write_file(path, doc.dump(2));
    return path;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct ProcessResult {
    bool finished = false; // false: still running at the timeout (then killed)
    bool crashed = false;  // ended by a signal
    int exit_code = -1;
    std::string out, err;
};

inline ProcessResult run_process(const QString& program, const QStringList& args, int timeout_ms,
                                 const QString& working_dir = QString(),
                                 const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    if (!working_dir.isEmpty()) p.setWorkingDirectory(working_dir);
    p.setProcessEnvironment(env);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForStarted(10000)) return r;
    r.finished = p.waitForFinished(timeout_ms);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.exit_code = p.exitCode();
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

inline QString q(const std::string& s) {
    return QString::fromStdString(s);
}

} // namespace rilq::fault
