#include "core/run/config_schema.h"

#include <cctype>
#include <limits>

namespace rilq::run::detail {

namespace {

using R = RunConfig;
constexpr int64_t kIntMax = std::numeric_limits<int>::max();

std::string any_string(const std::string&) {
    return {};
}
std::string non_empty(const std::string& s) {
    return s.empty() ? "a non-empty string" : "";
}

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

std::string dtype_name(const std::string& s) {
    return s == "bf16" || s == "fp16" || s == "fp32" ? "" : "one of \"bf16\", \"fp16\", \"fp32\"";
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
    f.read = [](const json& v, R&) -> std::string {
        if (v.is_number_integer() && v.get<int64_t>() == kExperimentFormatVersion) return {};
        return expected(
            std::to_string(kExperimentFormatVersion) + " (the experiment format this program reads)", v);
    };
    f.write = [](const R&) { return json(kExperimentFormatVersion); };
    return fixed(f);
}

const std::vector<std::string> kProjections = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                               "gate_proj", "up_proj", "down_proj"};

std::vector<Section> build_sections() {
    std::vector<Section> sections;

    sections.push_back({"",
                        {
                            format_version_field(),
                            fixed(string<R>(
                                "name", [](auto& c) -> auto& { return c.experiment; }, non_empty)),
                            fixed(string<R>(
                                "description", [](auto& c) -> auto& { return c.description; }, any_string)),
                            fixed(string<R>(
                                "data_root", [](auto& c) -> auto& { return c.data_root; }, any_string)),
                            integer<R>(
                                "seed", [](auto& c) -> auto& { return c.seed; }, 0,
                                std::numeric_limits<int64_t>::max(), "a non-negative integer"),
                            string<R>(
                                "device", [](auto& c) -> auto& { return c.device; }, device_name),
                        }});

    Section rilq{
        "rilq",
        {
            string<R>(
                "base_model", [](auto& c) -> auto& { return c.rilq.base_model; }, any_string),
            string<R>(
                "q_model", [](auto& c) -> auto& { return c.rilq.q_model; }, any_string),
            string<R>(
                "tokenizer", [](auto& c) -> auto& { return c.rilq.tokenizer; }, any_string),
            integer<R>(
                "lora_r", [](auto& c) -> auto& { return c.rilq.lora_r; }, 0, kIntMax,
                "a non-negative integer"),
            number<R>(
                "lora_alpha", [](auto& c) -> auto& { return c.rilq.lora_alpha; },
                [](double x) { return x > 0; }, "a positive number"),
            number<R>(
                "lora_dropout", [](auto& c) -> auto& { return c.rilq.lora_dropout; },
                [](double x) { return x >= 0 && x < 1; }, "a number in [0, 1)"),
            string<R>(
                "dtype", [](auto& c) -> auto& { return c.rilq.dtype; }, dtype_name),
            string<R>(
                "output_dir", [](auto& c) -> auto& { return c.rilq.output_dir; }, output_pattern),
            string<R>(
                "calib_dataset", [](auto& c) -> auto& { return c.rilq.calib_dataset; }, non_empty),
            integer<R>(
                "calib_num_samples", [](auto& c) -> auto& { return c.rilq.calib_num_samples; }, 1, kIntMax,
                "a positive integer"),
            number<R>(
                "calib_val_ratio", [](auto& c) -> auto& { return c.rilq.calib_val_ratio; },
                [](double x) { return x >= 0 && x < 1; }, "a number in [0, 1)"),
            integer<R>(
                "calib_max_length", [](auto& c) -> auto& { return c.rilq.calib_max_length; }, 2, kIntMax,
                "an integer >= 2 (tokens per window)"),
            integer<R>(
                "calib_seed", [](auto& c) -> auto& { return c.rilq.calib_seed; }, 0,
                std::numeric_limits<int64_t>::max(), "a non-negative integer"),
            choice<R, AType>("a_type", [](auto& c) -> auto& { return c.rilq.a_type; },
                             {{"hid", AType::Hid}, {"logit", AType::Logit}}),
            integer<R>(
                "approx_total_steps", [](auto& c) -> auto& { return c.rilq.approx_total_steps; }, 0, kIntMax,
                "a non-negative integer"),
            number<R>(
                "approx_lr", [](auto& c) -> auto& { return c.rilq.approx_lr; },
                [](double x) { return x > 0; }, "a positive number"),
            integer<R>(
                "approx_batch_size", [](auto& c) -> auto& { return c.rilq.approx_batch_size; }, 1, kIntMax,
                "a positive integer"),
            integer<R>(
                "gradient_accumulation_steps",
                [](auto& c) -> auto& { return c.rilq.gradient_accumulation_steps; }, 1, kIntMax,
                "a positive integer"),
            integer<R>(
                "approx_eval_steps", [](auto& c) -> auto& { return c.rilq.approx_eval_steps; }, 1, kIntMax,
                "a positive integer"),
            boolean<R>(
                "approx_early_stop", [](auto& c) -> auto& { return c.rilq.approx_early_stop; }),
            integer<R>(
                "approx_es_patience", [](auto& c) -> auto& { return c.rilq.approx_es_patience; }, 1, kIntMax,
                "a positive integer"),
            number<R>(
                "a_dis_weight", [](auto& c) -> auto& { return c.rilq.a_dis_weight; },
                [](double x) { return x >= 0; }, "a non-negative number"),
            number<R>(
                "gt_weight", [](auto& c) -> auto& { return c.rilq.gt_weight; },
                [](double x) { return x >= 0; }, "a non-negative number"),
            choice<R, LossScope>("scope", [](auto& c) -> auto& { return c.rilq.scope; },
                                 {{"model", LossScope::Model},
                                  {"weight-svd", LossScope::WeightSvd},
                                  {"linear", LossScope::Linear},
                                  {"layer", LossScope::Layer}}),
            choice<R, LoraInit>("lora_init", [](auto& c) -> auto& { return c.rilq.lora_init; },
                                {{"gaussian", LoraInit::Gaussian}, {"kaiming", LoraInit::Kaiming}}),
            string_list<R>(
                "lora_targets", [](auto& c) -> auto& { return c.rilq.lora_targets; }, kProjections, false),
            boolean<R>(
                "iec", [](auto& c) -> auto& { return c.rilq.iec; }),
            choice<R, OptimizerKind>("optimizer", [](auto& c) -> auto& { return c.rilq.optimizer; },
                                     {{"adam", OptimizerKind::Adam}, {"adamw", OptimizerKind::AdamW}}),
            number<R>(
                "weight_decay", [](auto& c) -> auto& { return c.rilq.weight_decay; },
                [](double x) { return x >= 0; }, "a non-negative number"),
            choice<R, LrSchedule>("lr_schedule", [](auto& c) -> auto& { return c.rilq.lr_schedule; },
                                  {{"constant", LrSchedule::Constant}, {"cosine", LrSchedule::Cosine}}),
        }};
    // Where the outputs go is not a setting, and a sweep over it would make no sense.
    for (auto& f : rilq.fields) {
        if (f.key == "output_dir") f = fixed(f);
    }
    sections.push_back(std::move(rilq));

    sections.push_back(
        {"quant",
         {
             choice<R, QuantMethod>("method", [](auto& c) -> auto& { return c.quant.method; },
                                    {{"none", QuantMethod::None},
                                     {"rtn", QuantMethod::Rtn},
                                     {"nf", QuantMethod::Nf},
                                     {"icq-nf", QuantMethod::IcqNf},
                                     {"icq-int", QuantMethod::IcqInt}}),
             integer<R>(
                 "bits", [](auto& c) -> auto& { return c.quant.bits; }, 1, 8, "an integer in [1, 8]"),
             integer<R>(
                 "group_size", [](auto& c) -> auto& { return c.quant.group_size; }, 0, kIntMax,
                 "a non-negative integer (0 = whole row)"),
             string<R>(
                 "variant", [](auto& c) -> auto& { return c.quant.variant; }, any_string),
             number<R>(
                 "icq_tau_lambda", [](auto& c) -> auto& { return c.quant.icq_tau_lambda; },
                 [](double x) { return x > 0; }, "a positive number"),
             integer<R>(
                 "icq_tau_n", [](auto& c) -> auto& { return c.quant.icq_tau_n; }, 1, kIntMax,
                 "a positive integer"),
             boolean<R>(
                 "double_quant", [](auto& c) -> auto& { return c.quant.double_quant; }),
         }});

    Field<R> stages;
    stages.key = "stages";
    stages.list_valued = true;
    stages.sweepable = false;
    stages.read = [](const json& v, R& c) -> std::string {
        const std::string what = "a non-empty list of \"fp\", \"quantized\", \"compensated\"";
        if (!v.is_array() || v.empty()) return expected(what, v);
        std::vector<EvalStage> out;
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string s = v[i].is_string() ? v[i].get<std::string>() : "";
            if (s == "fp")
                out.push_back(EvalStage::Fp);
            else if (s == "quantized")
                out.push_back(EvalStage::Quantized);
            else if (s == "compensated")
                out.push_back(EvalStage::Compensated);
            else
                return "[" + std::to_string(i) +
                       "]: " + expected(R"(one of "fp", "quantized", "compensated")", v[i]);
        }
        c.eval.stages = out;
        return {};
    };
    stages.write = [](const R& c) {
        json out = json::array();
        for (auto s : c.eval.stages)
            out.push_back(to_string(s));
        return out;
    };
    Field<R> eval_datasets = string_list<R>(
        "datasets", [](auto& c) -> auto& { return c.eval.datasets; }, {}, true);
    eval_datasets.sweepable = false;
    sections.push_back({"eval",
                        {
                            eval_datasets,
                            integer<R>(
                                "seqlen", [](auto& c) -> auto& { return c.eval.seqlen; }, 2, kIntMax,
                                "an integer >= 2 (tokens per window)"),
                            stages,
                        }});
    return sections;
}

std::vector<Field<DatasetSpec>> build_dataset_fields() {
    using D = DatasetSpec;
    Field<D> range;
    range.key = "range";
    range.list_valued = true;
    range.read = [](const json& v, D& d) -> std::string {
        const std::string what = "[begin, end] with 0 <= begin < end <= 1";
        if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
            return expected(what, v);
        const double b = v[0].get<double>(), e = v[1].get<double>();
        if (!(b >= 0 && b < e && e <= 1)) return expected(what, v);
        d.range_begin = b;
        d.range_end = e;
        return {};
    };
    range.write = [](const D& d) { return json::array({d.range_begin, d.range_end}); };
    std::vector<Field<D>> fields = {
        choice<D, DatasetType>(
            "type", [](auto& d) -> auto& { return d.type; },
            {{"wikitext2", DatasetType::Wikitext2}, {"c4", DatasetType::C4}, {"text", DatasetType::Text}}),
        string<D>(
            "path", [](auto& d) -> auto& { return d.path; }, non_empty),
        string<D>(
            "label", [](auto& d) -> auto& { return d.label; }, non_empty),
        range,
        integer<D>(
            "max_windows", [](auto& d) -> auto& { return d.max_windows; }, 0, kIntMax,
            "a non-negative integer (0 = all)"),
    };
    for (auto& f : fields) {
        f.sweepable = false;
        if (f.key == "label") f.in_hash = false; // a column title, not a setting
    }
    return fields;
}

} // namespace

const std::vector<Section>& run_sections() {
    static const std::vector<Section> sections = build_sections();
    return sections;
}

const std::vector<Field<DatasetSpec>>& dataset_fields() {
    static const std::vector<Field<DatasetSpec>> fields = build_dataset_fields();
    return fields;
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

const std::vector<QuantMethod>& quant_methods() {
    static const std::vector<QuantMethod> methods = {QuantMethod::None, QuantMethod::Rtn, QuantMethod::Nf,
                                                     QuantMethod::IcqNf, QuantMethod::IcqInt};
    return methods;
}

std::vector<std::string> quant_variants(QuantMethod method) {
    switch (method) {
    case QuantMethod::None:
        return {};
    // The names core/quant/quant_spec.h parses (set_variant), as `rilq quantize --variant` takes them.
    // OmniQuant-style asymmetric min/max, GPTQ-style range forced to include 0, and the two
    // symmetric forms (METHODS.md 1.1).
    case QuantMethod::Rtn:
        return {"omniquant", "gptq", "gptq-sym", "omniquant-sym"};
    // bitsandbytes' asymmetric NF construction, or the QLoRA-paper symmetric one (METHODS.md 1.2).
    case QuantMethod::Nf:
    case QuantMethod::IcqNf:
        return {"bnb", "sym"};
    // ICQ's integer path starts from GPTQ min/max (METHODS.md 1.4).
    case QuantMethod::IcqInt:
        return {"gptq", "gptq-sym"};
    }
    return {};
}

} // namespace rilq::run::detail
