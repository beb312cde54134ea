// Placeholder Runner, compiled only while core/run/runner.cpp does not exist in this tree (see
// app/CMakeLists.txt): it lets rilq-workbench link and every view be used; starting runs reports
// that the Runner is missing instead of training. Goes away with the real implementation.
#include "core/run/runner.h"

#include "core/run/experiment_config.h"
#include "core/util/error.h"

namespace rilq::run {

struct Runner::Impl {};

namespace {
[[noreturn]] void missing() {
    throw Error("this build has no Runner yet (core/run/runner.cpp is not merged): runs cannot start");
}
} // namespace

Runner::Runner(RunnerOptions) : impl_(std::make_unique<Impl>()) {}
Runner::~Runner() = default;
std::vector<RunOutcome> Runner::run_experiment(const ExperimentConfig&) {
    missing();
}
RunOutcome Runner::run_point(const RunConfig&, const std::string&, int) {
    missing();
}
RunOutcome Runner::resume(const std::string&) {
    missing();
}

const char* to_string(RunStage stage) {
    static const char* const names[] = {"load",   "calibrate", "eval fp", "targets", "quantize",
                                        "eval q", "train",     "eval c",  "stats",   "save"};
    return names[static_cast<int>(stage)];
}

} // namespace rilq::run
