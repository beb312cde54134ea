// A preparation (run_preparation.h) written to a folder once and loaded by every point that
// shares it: the Slurm backend's shared-preparation job writes it, the sweep's tasks load it
// (core/cluster/slurm_submit.h). The folder:
//   preparation.json     format, preparation and targets keys, base model, calibration
//                        description, FP and quantized PPL with their protocols, the quantized
//                        layer stats, quant_stats (per-linear histograms)
//   student/             the fake-quantized model as an HF folder, stored in its compute dtype
//                        (so loading it back is exact)
//   tensors.safetensors  the calibration windows (train_ids, val_ids) and the teacher's targets
// Loading rebuilds what is cheap (tokenizer, eval windows, calibration windows) and checks the
// calibration windows against the stored ones: targets computed on other windows are refused.
// Targets are read into memory (the TeacherTargets memory rule of a live preparation does not
// apply to a loaded one).
#pragma once
#include <memory>
#include <string>

#include "core/run/run_preparation.h"

namespace rilq::run {

// Written atomically (a temp folder beside `dir`, renamed over it).
void save_preparation(const Preparation& preparation, const std::string& dir);

// Error naming the folder when it is missing, damaged or made for other settings than `config`.
std::unique_ptr<Preparation> load_preparation(const std::string& dir, const RunConfig& config,
                                              const ProgressSink& progress = {});

} // namespace rilq::run
