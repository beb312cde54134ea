// Where the built-in demo's model and corpus are cached. Its own header, free of torch, because
// the experiment loader resolves the "@demo" data root with it (core/run/experiment_config.cpp).
#pragma once
#include <string>

namespace rilq {

// $XDG_CACHE_HOME/rilq-workbench (or ~/.cache/rilq-workbench, or the temp folder without HOME):
// what the workbench builds for itself (the demo, `rilq bench memory`'s random models).
std::string workbench_cache_dir();

// workbench_cache_dir()/demo; env RILQ_DEMO_CACHE overrides.
std::string default_demo_cache_dir();

} // namespace rilq
