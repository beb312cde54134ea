// A run whose whole life is one call (rilq pretrain, rilq finetune, rilq eval --record, the demo
// model): created and started, the work done, ended with the status the work reports. A
// Cancelled ends the run KILLED and any other exception FAILED with its message; both are
// rethrown, so nothing stays RUNNING.
#pragma once
#include <functional>
#include <string>

#include "core/store/run_types.h"

namespace rilq::store {

class RunStore;

struct RunEnd {
    RunStatus status = RunStatus::Finished;
    std::string message;
};

// Returns the run's uuid. `work` gets it to log metrics, results and artifacts.
std::string run_recorded(RunStore& store, const NewRun& run,
                         const std::function<RunEnd(const std::string& uuid)>& work);

} // namespace rilq::store
