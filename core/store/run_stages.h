// The stages a run's results are recorded under (eval_results, layer_stats, task_results): the
// full-precision model, the quantized model, and the quantized model with its LoRA adapters.
#pragma once
#include <string>
#include <vector>

namespace rilq::store {

const std::vector<std::string>& run_stages(); // fp, quantized, compensated

// Error naming `what` and the value unless `stage` is one of run_stages().
void check_run_stage(const std::string& stage, const char* what);

} // namespace rilq::store
