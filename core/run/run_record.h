// How a RunConfig is recorded in the run store: its document, hash and flat params, so that
// every number stays tied to the exact settings it was measured under.
#pragma once
#include "core/run/run_config.h"
#include "core/store/run_types.h"

#include <string>

namespace rilq::run {

// The store record for one sweep point. `experiment_document` is the experiment as written
// (ExperimentConfig::document_json), kept once per experiment.
store::NewRun to_new_run(const RunConfig& config, const std::string& experiment_document = "");

} // namespace rilq::run
