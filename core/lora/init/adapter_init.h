// Initialising every adapter of a LoraSet from the FP model instead of A ~ N(0, 1/r^2), B = 0
// (each then trainable by any scope: "LoftQ init + RILQ" is LoftQ here followed by training):
//
//   LoftQ (core/lora/init/loftq.h): per adapted linear, T rounds of quantize / SVD of the rest;
//       the student's base weight becomes the last Q. With a weight-only quantizer each linear
//       is independent; with GPTQ the rounds run inside GPTQ's sequential pass, each round
//       quantizing against the linear's Hessian, and the later layers see the compensated
//       Q + s B A of the earlier ones.
//   Calibrated closed form (core/lora/init/qera.h): per adapted linear, the rank-r s B A that
//       minimises the output error of W - Q on the FP model's calibration inputs; the base stays.
//
// The teacher is the FP model, the student the quantized one the adapters are attached to
// (same architecture). IEC scalars stay 0.
#pragma once
#include <torch/types.h>

#include "core/lora/init/qera.h"
#include "core/quant/quant_spec.h"
#include "core/util/progress.h"

namespace rilq {

class LlamaModel;
class LoraSet;

struct LoftqInitReport {
    int iterations = 0;
    double mean_error = 0.0; // mean over adapted linears of ||W - Q - s B A||_F / ||W||_F after the last round
};

// spec: the quantizer the student was made with (its targets decide which linears GPTQ covers);
// calib_ids (N, T): required when spec.method is gptq, unused otherwise.
LoftqInitReport loftq_init_adapters(const LlamaModel& teacher, LlamaModel& student, LoraSet& adapters,
                                    const QuantSpec& spec, int iterations, const torch::Tensor& calib_ids = {},
                                    const ProgressSink& progress = {});

struct CalibratedInitReport {
    double mean_objective_ratio = 0.0; // mean over adapted linears of objective(B, A) / objective(0, 0)
};

// calib_ids (N, T) int64: the windows whose FP inputs define each linear's Gram.
CalibratedInitReport calibrated_init_adapters(const LlamaModel& teacher, const LlamaModel& student, LoraSet& adapters,
                                              const torch::Tensor& calib_ids, CalibratedScaling scaling,
                                              const ProgressSink& progress = {});

} // namespace rilq
