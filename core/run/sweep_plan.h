// What `rilq run EXPERIMENT --dry-run` prints: every point of a validated experiment and what it
// will compute - the model it loads, how it quantizes (or which q_model it loads), its calibration
// windows, its training, the evaluations and the output folder - plus which points share their
// preparation (model, quantizer, calibration and FP / quantized evaluations are computed once).
// Nothing is loaded or written; files are only checked for existence.
#pragma once
#include <string>

namespace rilq::run {

struct ExperimentConfig;

// `output_base`: what relative output_dir resolves against ("" = the working directory).
std::string describe_plan(const ExperimentConfig& experiment, const std::string& output_base = "");

} // namespace rilq::run
