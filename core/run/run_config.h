// RunConfig: everything one training run is measured under, as plain structs with defaults.
// An experiment JSON (experiment_config.h) expands into one RunConfig per sweep point.
//
// It composes the structs the core units take, so nothing is converted between a run and the
// units it drives: the trainer's TrainConfig (with the LoRA settings), the quantizer's
// QuantSpec, the calibration's CalibrationOptions, the data unit's DatasetSpec. The schema
// (config_schema.h) binds every JSON key to one of their members.
//
// Field names in the `rilq` section are the official RILQ script's argument names one to one
// (aiha-lab/RILQ main.py), so a researcher can carry settings across without a dictionary.
// Defaults are the values of the official example script rilq-llama2_7b-r64.sh where it sets
// them, else main.py's argparse defaults (METHODS.md section 3).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/data/calibration.h"
#include "core/data/text_sources.h"
#include "core/eval/tasks/task.h"
#include "core/finetune/sft_config.h"
#include "core/quant/quant_spec.h"
#include "core/rilq/train_config.h"

namespace rilq::run {

// The models a run evaluates: FP, quantized, quantized + RILQ's adapters, and those adapters after
// IR-QLoRA's instruction fine-tuning (the `finetune` section).
enum class EvalStage { Fp, Quantized, Compensated, Finetuned };
// ("fp", "quantized", "compensated", "finetuned"): eval.stages and the stage column of results.
const std::vector<std::pair<EvalStage, std::string>>& eval_stage_names();
std::string to_string(EvalStage stage);

// One named data file. The name is what `rilq.calib_dataset` and `eval.datasets` refer to
// and what eval results are stored under; `label` is the column title in exported tables.
struct DatasetEntry {
    std::string name;
    std::string label;       // defaults to name
    DatasetSpec source;      // kind, path as written (relative to data_root unless absolute), range
    int64_t max_windows = 0; // evaluation windows to use, 0 = all (GPTQ C4 uses 256)
};

// Which models a run loads and where its files go.
struct ModelSettings {
    std::string base_model;                             // FP model: HF directory or llama2.c .bin
    std::string q_model;                                // ready fake-quantized model (quant.method none)
    std::string tokenizer;                              // tokenizer file; empty = found beside base_model
    std::string dtype = "bf16";                         // compute dtype: bf16 | fp16 | fp32
    std::string output_dir = "runs/{experiment}/{run}"; // placeholders: {experiment} {run} {index}
};

// RILQ's calibration windows: which datasets, how many windows, how they are drawn.
struct CalibrationSettings {
    std::string datasets = "c4"; // dataset names, comma-separated (the official --calib_dataset)
    int64_t num_samples = 320;   // windows in all, training + validation
    CalibrationOptions options;  // window length, seed, validation ratio
};

struct EvalSettings {
    std::vector<std::string> datasets; // dataset names, in table column order
    int64_t seqlen = 2048;
    int64_t max_windows = 0; // caps every dataset's evaluation windows (quick trials); 0 = no cap
    std::vector<EvalStage> stages = {EvalStage::Fp, EvalStage::Quantized, EvalStage::Compensated,
                                     EvalStage::Finetuned};
    // Downstream tasks by task name (task_infos()): data path as written, shots, limit, subjects,
    // BOS rule. Each listed stage scores every task (core/eval/tasks).
    std::map<std::string, TaskSpec> tasks;
};

// IR-QLoRA's instruction fine-tuning as a stage after RILQ's compensation: it continues from the
// compensated adapters (rank > 0; their shape is kept, IEC gates are added when train.lora.iec),
// else trains fresh adapters of train.lora. No stage while `data` is empty.
struct FinetuneSettings {
    std::string data; // Alpaca-format JSON (a list of {instruction, input, output}); "" = no SFT
    SftDataConfig sft;
    TrainConfig train = irqlora_train_config();
};

struct RunConfig {
    // Identity (not part of the settings hash)
    std::string experiment; // the experiment's name
    std::string description;
    std::string run_name; // "lora_r=16,seed=1"; the experiment name when nothing is swept
    int index = 0;        // position in the sweep, 0-based
    std::vector<std::pair<std::string, std::string>> swept; // ("rilq.lora_r", "16"), in axis order
    std::string data_root; // absolute; relative paths below resolve against it

    // Settings
    std::string device = "cpu"; // cpu | cuda | cuda:N
    std::map<std::string, DatasetEntry> datasets;
    ModelSettings model;
    CalibrationSettings calib;
    TrainConfig train;                // includes the LoRA settings and the training seed
    QuantSpec quant = no_quantizer(); // method "none": the run loads model.q_model
    EvalSettings eval;
    FinetuneSettings finetune;

    // sha256 of the canonical settings (config_document.h); equal hashes = identical settings.
    std::string config_hash;

    // True unless quant.method is "none".
    bool quantizes() const { return quant.method != kNoQuantization; }
    // True when the run has an SFT stage (finetune.data is set).
    bool finetunes() const { return !finetune.data.empty(); }
    // `path` made absolute against data_root (absolute paths and "" pass through).
    std::string resolve(const std::string& path) const;
    // output_dir with {experiment}, {run}, {index} substituted (still relative to the caller's cwd).
    std::string output_dir() const;
    // The datasets named by the calibration / eval.datasets, in order (validated to exist).
    std::vector<DatasetEntry> calib_datasets() const;
    // The eval.datasets entries, their max_windows capped by eval.max_windows.
    std::vector<DatasetEntry> eval_datasets() const;
    // eval.tasks as load_task() takes them: names filled in, paths resolved, in task_infos() order.
    std::vector<TaskSpec> task_specs() const;

    static QuantSpec no_quantizer();
};

// "c4, wikitext2" -> {"c4", "wikitext2"} (trimmed, empty parts dropped).
std::vector<std::string> split_dataset_list(const std::string& comma_separated);

} // namespace rilq::run
