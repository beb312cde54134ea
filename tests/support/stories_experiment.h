// A tiny experiment on the real stories260K (../shared/data) that several pipeline tests start from:
// a two-point rank sweep (0, 4) of RTN W2 g64, 24 micro-steps - small enough for CI on one
// thread, long enough to move the loss - with calibration and held-out windows from the two halves
// of tinystories_val.txt. Tests change what they exercise in the returned document.
#pragma once
#include <nlohmann/json.hpp>

#include "core/run/experiment_config.h"
#include "tests/support/test_support.h"

namespace rilq::test {

inline nlohmann::json stories260k_tiny_experiment() {
    return nlohmann::json::parse(R"({
      "format_version": 1,
      "name": "runner-test",
      "seed": 42,
      "datasets": {
        "calib": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.0, 0.5]},
        "heldout": {"type": "text", "path": "tinystories/tinystories_val.txt", "range": [0.5, 1.0],
                    "max_windows": 12, "label": "TinyStories"}
      },
      "rilq": {
        "base_model": "stories260K/stories260K.bin",
        "tokenizer": "stories260K/tok512.bin",
        "lora_r": [0, 4],
        "lora_alpha": 16,
        "dtype": "fp32",
        "output_dir": "out/{run}",
        "calib_dataset": "calib",
        "calib_num_samples": 10,
        "calib_val_ratio": 0.2,
        "calib_max_length": 64,
        "approx_total_steps": 24,
        "approx_lr": 3e-3,
        "approx_batch_size": 2,
        "gradient_accumulation_steps": 2,
        "approx_eval_steps": 3,
        "approx_early_stop": false
      },
      "quant": {"method": "rtn", "bits": 2, "group_size": 64},
      "eval": {"datasets": ["heldout"], "seqlen": 128}
    })");
}

// Parsed with data_root = the shared data folder.
inline run::ExperimentConfig parse_with_shared_data(const nlohmann::json& doc) {
    run::ParseOptions options;
    options.data_root_override = shared_data();
    return run::parse_experiment(doc, options);
}

} // namespace rilq::test
