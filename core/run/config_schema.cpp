#include "core/run/config_schema.h"

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
            choice_list<R>("stages", at(&R::eval, &E::stages), eval_stage_names())
                .titled("Stages")
                .unswept()
                .help("which models are evaluated: FP, quantized, quantized + adapters. Not sweepable"),
        },
        "Evaluation");
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
