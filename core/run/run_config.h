// RunConfig: everything one training run is measured under, as a plain struct with defaults.
// An experiment JSON (experiment_config.h) expands into one RunConfig per sweep point.
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

namespace rilq::run {

// Where the model-level loss is taken (the seed's `a_type`).
enum class AType { Hid, Logit };
// Which discrepancy the adapters are trained on: RILQ's model output, or one of the
// layer-wise scopes the RILQ paper compares against (METHODS.md section 3, "Core argument").
enum class LossScope { Model, WeightSvd, Linear, Layer };
enum class LoraInit { Gaussian, Kaiming };
enum class OptimizerKind { Adam, AdamW };
enum class LrSchedule { Constant, Cosine };
// `None` means: load the ready fake-quantized `rilq.q_model` instead of quantizing on the fly.
enum class QuantMethod { None, Rtn, Nf, IcqNf, IcqInt };
// How a dataset file is read: GPTQ-protocol wikitext2 / C4 readers, or running plain text.
enum class DatasetType { Wikitext2, C4, Text };
enum class EvalStage { Fp, Quantized, Compensated };

const char* to_string(AType v);
const char* to_string(LossScope v);
const char* to_string(LoraInit v);
const char* to_string(OptimizerKind v);
const char* to_string(LrSchedule v);
const char* to_string(QuantMethod v);
const char* to_string(DatasetType v);
const char* to_string(EvalStage v);

// One named data file. The name is what `rilq.calib_dataset` and `eval.datasets` refer to
// and what eval results are stored under; `label` is the column title in exported tables.
struct DatasetSpec {
    std::string name;
    DatasetType type = DatasetType::Text;
    std::string path;         // as written, relative to data_root unless absolute
    std::string label;        // defaults to name
    double range_begin = 0.0; // fraction of the file's text to use, [begin, end):
    double range_end = 1.0;   //   lets calibration and evaluation use disjoint parts
    int max_windows = 0;      // evaluation windows to use, 0 = all (GPTQ C4 uses 256)
};

struct RilqSettings {
    // Model
    std::string base_model;   // FP model: HF directory or llama2.c .bin
    std::string q_model;      // ready fake-quantized model; empty when quant.method quantizes
    std::string tokenizer;    // tokenizer file; empty = detect beside base_model (not a seed name)
    int lora_r = 64;          // 0 = no compensation (the baseline row)
    double lora_alpha = 16.0; // scale s = alpha / r
    double lora_dropout = 0.0;
    std::string dtype = "bf16";                         // bf16 | fp16 | fp32
    std::string output_dir = "runs/{experiment}/{run}"; // placeholders: {experiment} {run} {index}
    // Calibration data
    std::string calib_dataset = "c4"; // dataset names, comma-separated (seed semantics)
    int calib_num_samples = 320;
    double calib_val_ratio = 0.2; // the last floor(ratio * N) windows validate
    int calib_max_length = 512;
    int64_t calib_seed = 42; // the official code seeds Python's random with 42
    // RILQ optimisation
    AType a_type = AType::Hid;
    int approx_total_steps = 10000; // micro-steps, as the official loop counts them
    double approx_lr = 1e-4;        // tuned for 7B; small models want ~1e-3 (issue 5)
    int approx_batch_size = 1;
    int gradient_accumulation_steps = 8;
    int approx_eval_steps = 25; // validate every this many optimizer updates
    bool approx_early_stop = true;
    int approx_es_patience = 5;
    double a_dis_weight = 0.5; // weight of the model-level (discrepancy) loss
    double gt_weight = 0.5;    // weight of the ground-truth next-token loss
    // Workbench extensions (not in the seed)
    LossScope scope = LossScope::Model;
    LoraInit lora_init = LoraInit::Gaussian;
    std::vector<std::string> lora_targets = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
    bool iec = false; // IR-QLoRA's elastic connection
    OptimizerKind optimizer = OptimizerKind::Adam;
    double weight_decay = 0.0;
    LrSchedule lr_schedule = LrSchedule::Constant;
};

struct QuantSettings {
    QuantMethod method = QuantMethod::None;
    int bits = 2;
    int group_size = 64;         // consecutive input-dim weights per scale; 0 = whole row
    std::string variant;         // per method: rtn omniquant|gptq|gptq-sym|omniquant-sym, nf/icq-nf bnb|sym, icq-int gptq|gptq-sym
    double icq_tau_lambda = 0.1; // ICQ search range, in units of sigma (IR-QLoRA tau_lambda)
    int icq_tau_n = 100;         // ICQ candidates per side (training script value)
    bool double_quant = false;   // bitsandbytes-style quantized absmax (NF paths)
};

struct EvalSettings {
    std::vector<std::string> datasets; // dataset names, in table column order
    int seqlen = 2048;
    std::vector<EvalStage> stages = {EvalStage::Fp, EvalStage::Quantized, EvalStage::Compensated};
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
    int64_t seed = 42;          // training seed (adapter init, dropout)
    std::string device = "cpu"; // cpu | cuda | cuda:N
    std::map<std::string, DatasetSpec> datasets;
    RilqSettings rilq;
    QuantSettings quant;
    EvalSettings eval;

    // sha256 of the canonical settings (config_document.h); equal hashes = identical settings.
    std::string config_hash;

    // `path` made absolute against data_root (absolute paths and "" pass through).
    std::string resolve(const std::string& path) const;
    // output_dir with {experiment}, {run}, {index} substituted (still relative to the caller's cwd).
    std::string output_dir() const;
    // The datasets named by rilq.calib_dataset / eval.datasets, in order (validated to exist).
    std::vector<DatasetSpec> calib_datasets() const;
    std::vector<DatasetSpec> eval_datasets() const;
};

// "c4, wikitext2" -> {"c4", "wikitext2"} (trimmed, empty parts dropped).
std::vector<std::string> split_dataset_list(const std::string& comma_separated);

} // namespace rilq::run
