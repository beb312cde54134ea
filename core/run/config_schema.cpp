#include "core/run/config_schema.h"

#include <algorithm>
#include <cctype>

namespace rilq::run {

namespace {

using namespace config;
using R = RunConfig;

std::string device_name(const std::string& s) {
    if (s == "cpu" || s == "cuda") return {};
    if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
        bool digits = true;
        for (size_t i = 5; i < s.size(); ++i)
            digits = digits && std::isdigit(static_cast<unsigned char>(s[i]));
        if (digits) return {};
    }
    return "\"cpu\", \"cuda\" or \"cuda:N\"";
}

// output_dir may use {experiment}, {run} and {index}; any other brace is a typo.
std::string output_pattern(const std::string& s) {
    if (s.empty()) return "a non-empty path";
    size_t pos = 0;
    while ((pos = s.find('{', pos)) != std::string::npos) {
        const size_t close = s.find('}', pos);
        if (close == std::string::npos) return "a path whose placeholders are {experiment}, {run} or {index}";
        const std::string key = s.substr(pos + 1, close - pos - 1);
        if (key != "experiment" && key != "run" && key != "index")
            return "a path whose placeholders are {experiment}, {run} or {index}";
        pos = close + 1;
    }
    return {};
}

// Files we write carry a format version; a newer file than this program understands is refused.
Field<R> format_version_field() {
    Field<R> f;
    f.key = "format_version";
    f.what = "`" + std::to_string(kExperimentFormatVersion) + "`";
    f.read = [](const json& v, R&) -> std::string {
        if (v.is_number_integer() && v.get<int64_t>() == kExperimentFormatVersion) return {};
        return expected(
            std::to_string(kExperimentFormatVersion) + " (the experiment format this program reads)", v);
    };
    f.write = [](const R&) { return json(kExperimentFormatVersion); };
    return f.fixed().shows_default("(optional)").help("experiment format; another value is refused");
}

std::vector<Field<R>> in_group(std::vector<Field<R>> fields, const std::string& group) {
    for (auto& f : fields)
        f.in_group(group);
    return fields;
}

std::vector<Field<R>> model_fields() {
    using M = ModelSettings;
    const auto model = [](auto member) { return at(&R::model, member); };
    return in_group(
        {
            path<R>("base_model", model(&M::base_model))
                .titled("FP model")
                .official()
                .shows_default("required")
                .help("the full-precision model: HF folder or llama2.c `.bin`"),
            path<R>("q_model", model(&M::q_model))
                .titled("Ready q_model")
                .official()
                .help("a ready fake-quantized model (HF folder); required when `quant.method` is `\"none\"`, "
                      "an error otherwise"),
            path<R>("tokenizer", model(&M::tokenizer))
                .titled("Tokenizer")
                .workbench()
                .help("tokenizer file; empty = found beside `base_model`"),
            choice_text<R>("dtype", model(&M::dtype), {"bf16", "fp16", "fp32"})
                .titled("Dtype")
                .official()
                .help("compute dtype of the models"),
            text<R>("output_dir", model(&M::output_dir), output_pattern,
                    "path; placeholders `{experiment}`, `{run}`, `{index}`")
                .titled("Output folder")
                .official()
                .fixed()
                .help("where the run's files go (\"Output folder of a run\"); not sweepable, not hashed"),
        },
        "Model");
}

std::vector<Field<R>> calibration_fields() {
    using C = CalibrationSettings;
    using O = CalibrationOptions;
    return in_group(
        {
            text<R>("calib_dataset", at(&R::calib, &C::datasets), non_empty_text,
                    "dataset names, comma-separated")
                .titled("Dataset")
                .official()
                .help("calibration data. Several names split `calib_num_samples` evenly, the first ones "
                      "getting the remainder (`main.py` spells it `--calib_datasets` and takes one count "
                      "per dataset; the script's `--calib_dataset` is argparse's abbreviation)"),
            integer<R>("calib_num_samples", at(&R::calib, &C::num_samples), 1, kIntMax)
                .titled("Samples")
                .official()
                .help("calibration windows in total, training + validation"),
            number<R>("calib_val_ratio", at(&R::calib, &C::options, &O::val_ratio), 0, 1, false, true)
                .titled("Validation ratio")
                .official()
                .help("the last floor(N x ratio) windows validate, the rest train; must leave at least one "
                      "when `approx_early_stop` is on"),
            integer<R>("calib_max_length", at(&R::calib, &C::options, &O::seqlen), 2, kIntMax,
                       "an integer >= 2 (tokens per window)")
                .titled("Length (tokens)")
                .official()
                .help("tokens per calibration window"),
            integer<R>("calib_seed", at(&R::calib, &C::options, &O::seed), 0, kInt64Max)
                .titled("Calibration seed")
                .workbench()
                .help("seed of the calibration sampling (Python `random`); the official code uses "
                      "`--m_seed` (42) for this and for training, which the workbench splits into "
                      "`calib_seed` and the top-level `seed`"),
        },
        "Calibration");
}

// The trainer's fields, the LoRA ones in their own box; the seed goes to the top level.
std::vector<Field<R>> training_fields(Field<R>& seed) {
    std::vector<Field<R>> fields = lift_all<R>(train_config_fields(), at(&R::train));
    seed = take(fields, "seed");
    for (auto& f : fields)
        f.in_group(find_field(lora_config_fields(), f.key) ? "LoRA" : "Training");
    return fields;
}

std::vector<std::string> task_names() {
    std::vector<std::string> names;
    for (const TaskInfo& info : task_infos())
        names.push_back(info.name);
    return names;
}

// One entry of eval.tasks; the entry's name is the task (checked against task_infos()).
std::vector<Field<TaskSpec>> task_entry_fields() {
    using T = TaskSpec;
    Field<T> bos;
    bos.key = "bos";
    bos.kind = FieldKind::Custom; // true, false or null: not a checkbox
    bos.what = "`true`, `false` or `null` (the task's rule)";
    bos.read = [](const json& v, T& t) -> std::string {
        if (v.is_null()) {
            t.bos.reset();
            return {};
        }
        if (!v.is_boolean()) return expected("true, false or null", v);
        t.bos = v.get<bool>();
        return {};
    };
    bos.write = [](const T& t) { return t.bos ? json(*t.bos) : json(nullptr); };
    bos.shows_default("`null`: MMLU `true`, the others `false`")
        .help("BOS before every context. lm-eval up to 0.4.9.1 adds none for Llama, later versions do; "
              "IR-QLoRA's MMLU always has it");
    return {
        path<T>("path", at(&T::path))
            .shows_default("required")
            .help("the task's data, relative to `data_root` unless absolute: `mmlu` a folder with dev/ and "
                  "test/ CSVs, the others their JSON Lines file or its folder (`rilq eval --help` lists the "
                  "formats)"),
        integer<T>("shots", at(&T::shots), -1, kIntMax, "an integer >= 0, or -1 (the task's default)")
            .shows_default("`-1`: MMLU 5, the others 0")
            .help("MMLU's shots from the first dev rows; the other tasks are zero-shot only"),
        integer<T>("limit", at(&T::limit), 0, kIntMax, "a non-negative integer (0 = all)")
            .help("score the first N items (MMLU: of each subject); 0 = all"),
        text_list<T>("subjects", at(&T::subjects), {}, true)
            .help("MMLU only: the subjects to score; empty = every subject in the folder"),
        bos,
    };
}

std::vector<Field<R>> eval_fields() {
    using E = EvalSettings;
    return in_group(
        {
            text_list<R>("datasets", at(&R::eval, &E::datasets), {}, true)
                .titled("Datasets")
                .unswept()
                .help("perplexity datasets, in table column order; empty = no evaluation. Not sweepable"),
            integer<R>("seqlen", at(&R::eval, &E::seqlen), 2, kIntMax, "an integer >= 2 (tokens per window)")
                .titled("Seqlen")
                .help("tokens per evaluation window (GPTQ/OmniQuant protocol)"),
            integer<R>("max_windows", at(&R::eval, &E::max_windows), 0, kIntMax,
                       "a non-negative integer (0 = all)")
                .titled("Max windows")
                .help("caps every perplexity dataset at its first K windows (quick trials at scale; a "
                      "dataset's own smaller `max_windows` stays); 0 = no cap, as `rilq eval --max-windows`"),
            choice_list<R>("stages", at(&R::eval, &E::stages), eval_stage_names())
                .titled("Stages")
                .unswept()
                .help("which models are evaluated (perplexity and tasks): FP, quantized, quantized + RILQ's "
                      "adapters, those adapters after the `finetune` stage. Not sweepable"),
            entries<R>("tasks", at(&R::eval, &E::tasks), task_entry_fields(),
                       "{path, shots, limit, subjects, bos}")
                .titled("Tasks")
                .help("downstream accuracy: task name (" + one_of_text(task_names()).substr(7) +
                      ") -> its data; every listed stage scores every task (MMLU as IR-QLoRA's "
                      "evaluate_mmlu.py, the others as lm-evaluation-harness). Not sweepable"),
        },
        "Evaluation");
}

// IR-QLoRA's SFT: the data file, SftDataConfig's table, and the trainer's table without the
// RILQ-objective fields, every one changing the training only.
std::vector<Field<R>> finetune_fields() {
    using F = FinetuneSettings;
    std::vector<Field<R>> fields = {
        path<R>("data", at(&R::finetune, &F::data), "path (\"\" = no fine-tuning)")
            .titled("Alpaca data")
            .help(
                "instruction data, Alpaca format (a JSON list of {instruction, input, output}), relative to "
                "`data_root` unless absolute; empty = no fine-tuning stage")};
    for (auto& f : lift_all<R>(sft_data_config_fields(), at(&R::finetune, &F::sft)))
        fields.push_back(f.in_group("Fine-tuning data"));
    static const std::vector<std::string> rilq_only = {"scope", "a_type", "a_dis_weight", "gt_weight",
                                                       "target_memory_budget_bytes"};
    for (auto& f : lift_all<R>(train_config_fields(), at(&R::finetune, &F::train))) {
        if (std::find(rilq_only.begin(), rilq_only.end(), f.key) != rilq_only.end()) continue;
        fields.push_back(
            f.in_group(find_field(lora_config_fields(), f.key) ? "Fine-tuning LoRA" : "Fine-tuning"));
    }
    for (auto& f : fields) {
        f.phase = Phase::Training;
        f.origin.clear(); // the RILQ script's names, IR-QLoRA's values
    }
    fields.front().in_group("Fine-tuning data");
    return fields;
}

std::vector<SchemaSection> build_sections() {
    Field<R> seed;
    std::vector<Field<R>> rilq = model_fields();
    for (auto& f : calibration_fields())
        rilq.push_back(f);
    for (auto& f : training_fields(seed))
        rilq.push_back(f);
    seed.in_group("Experiment");

    std::vector<SchemaSection> sections;
    sections.push_back(
        {"", "Top level", "",
         in_group(
             {
                 format_version_field(),
                 text<R>("name", at(&R::experiment), non_empty_text, "non-empty string")
                     .titled("Name")
                     .fixed()
                     .shows_default("required")
                     .help("experiment name: runs are grouped under it in the store; `{experiment}` in "
                           "`output_dir`"),
                 text<R>("description", at(&R::description), any_text)
                     .titled("Description")
                     .fixed()
                     .help("free text"),
                 path<R>("data_root", at(&R::data_root), "path or `\"@demo\"`")
                     .titled("Data folder")
                     .fixed()
                     .shows_default("the file's folder")
                     .help(
                         "folder that relative paths resolve against; itself relative to the file's folder. "
                         "`\"@demo\"` is the demo cache (`$RILQ_DEMO_CACHE`, else "
                         "`$XDG_CACHE_HOME/rilq-workbench/demo`, else `~/.cache/rilq-workbench/demo`) "
                         "holding "
                         "`model/` and `corpus/{train,valid,test}.txt`, built there on first use (minutes). "
                         "`--data-root DIR` (and the GUI's data-root setting) replaces this field"),
                 seed,
                 text<R>("device", at(&R::device), device_name, "`cpu`, `cuda`, `cuda:N`")
                     .titled("Device")
                     .help("where models, training and evaluation run"),
             },
             "Experiment")});
    sections.push_back({"rilq", "`rilq`", "", rilq});
    sections.push_back({"quant", "`quant` (workbench)", "",
                        in_group(lift_all<R>(quant_spec_fields(), at(&R::quant)), "Quantizer")});
    sections.push_back({"eval", "`eval`", "", eval_fields()});
    sections.push_back(
        {"finetune", "`finetune`",
         "IR-QLoRA's instruction fine-tuning (irlora.py / finetune.sh) as a stage after RILQ's "
         "compensation: with `rilq.lora_r` > 0 it continues from the compensated adapters (their rank, "
         "alpha and targets; IEC gates added at 0 when `iec` is on, so it starts from the compensated "
         "model), with `rilq.lora_r` 0 it trains fresh adapters of `lora_r` ... `lora_targets` (IR-QLoRA "
         "itself). The data fields are irlora.py's; the training fields are the `rilq` section's, with "
         "finetune.sh's values as defaults (AdamW, lr 2e-4 constant, max grad-norm 0.3, batch 16, LoRA r 64 "
         "alpha 16 + IEC, 10,000 updates, eval loss every 1,000). Its curves are the metrics `sft.t_loss`, "
         "`sft.v_loss`, ...; the adapters after it go to `finetuned_adapter/` and are evaluated as the stage "
         "`finetuned`. No stage while `data` is empty.",
         finetune_fields()});
    return sections;
}

std::vector<Field<DatasetEntry>> build_dataset_fields() {
    using D = DatasetEntry;
    Field<D> range;
    range.key = "range";
    range.list_valued = true;
    range.what = "`[begin, end]`, 0 <= begin < end <= 1";
    range.read = [](const json& v, D& d) -> std::string {
        const std::string what = "[begin, end] with 0 <= begin < end <= 1";
        if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
            return expected(what, v);
        const double b = v[0].get<double>(), e = v[1].get<double>();
        if (!(b >= 0 && b < e && e <= 1)) return expected(what, v);
        d.source.range_begin = b;
        d.source.range_end = e;
        return {};
    };
    range.write = [](const D& d) { return json::array({d.source.range_begin, d.source.range_end}); };
    range.help(
        "the part of the file used: `text` by bytes (cut at line starts), `wikitext2` by rows, `c4` by "
        "documents. Lets calibration and evaluation use disjoint parts of one file");
    std::vector<Field<D>> fields = {
        choice<D>("type", at(&D::source, &DatasetSpec::kind), dataset_kind_names())
            .help("reader: see \"Perplexity protocol\" (evaluation) and \"Using a real checkpoint\" "
                  "(calibration)"),
        text<D>("path", at(&D::source, &DatasetSpec::path), non_empty_text, "non-empty string")
            .shows_default("required")
            .help("the file, relative to `data_root` unless absolute. For `wikitext2` / `c4` a folder also "
                  "works: it resolves to the first standard file name present in it (evaluation: test / "
                  "validation split, calibration: train split; list below)"),
        text<D>("label", at(&D::label), non_empty_text, "non-empty string")
            .shows_default("`NAME`")
            .help("column title in exported tables; not a setting (not hashed)"),
        range,
        integer<D>("max_windows", at(&D::max_windows), 0, kIntMax, "a non-negative integer (0 = all)")
            .help("evaluation: keep only the first K windows; 0 = all. C4 evaluation always draws GPTQ's 256 "
                  "windows; this only caps them"),
    };
    for (auto& f : fields) {
        f.sweepable = false;
        if (f.key == "label") f.setting = false; // a column title, not a setting
    }
    return fields;
}

} // namespace

const std::vector<SchemaSection>& run_sections() {
    static const std::vector<SchemaSection> sections = build_sections();
    return sections;
}

const std::vector<Field<DatasetEntry>>& dataset_fields() {
    static const std::vector<Field<DatasetEntry>> fields = build_dataset_fields();
    return fields;
}

const SchemaSection& datasets_section_doc() {
    static const SchemaSection doc{"datasets",
                                   "`datasets.NAME`",
                                   "Named data files. `NAME` (no commas or spaces) is what "
                                   "`rilq.calib_dataset` and `eval.datasets` refer "
                                   "to and what eval results are stored under. Not sweepable.",
                                   {}};
    return doc;
}

std::vector<std::string> top_level_keys() {
    std::vector<std::string> keys;
    for (const auto& section : run_sections()) {
        if (section.key.empty()) {
            for (const auto& f : section.fields)
                keys.push_back(f.key);
        } else {
            keys.push_back(section.key);
        }
    }
    keys.push_back("datasets");
    return keys;
}

const Field<RunConfig>* find_run_field(const std::string& dotted_key) {
    const size_t dot = dotted_key.find('.');
    const std::string section = dot == std::string::npos ? "" : dotted_key.substr(0, dot);
    const std::string key = dot == std::string::npos ? dotted_key : dotted_key.substr(dot + 1);
    for (const auto& s : run_sections())
        if (s.key == section) return find_field(s.fields, key);
    return nullptr;
}

} // namespace rilq::run
