// Training tokens per logged step of a stored run, so curves of runs with other batch sizes or
// window lengths can be compared by data seen (the Compare overlay's "tokens" x axis).
#pragma once
#include <map>
#include <string>

namespace rilq::report {

// The RILQ trainer logs its curves once per optimizer update (runner.cpp: event.update_step);
// an update sees approx_batch_size x gradient_accumulation_steps calibration windows of
// calib_max_length tokens each (train_config.h, run_config.h). Reads the stored params
// "rilq.approx_batch_size", "rilq.gradient_accumulation_steps" and "rilq.calib_max_length";
// returns 0 when any is missing or not a positive number.
double train_tokens_per_update(const std::map<std::string, std::string>& params);

} // namespace rilq::report
