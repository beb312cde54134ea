#include "core/quant/quant_spec.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

namespace rilq {

std::vector<std::string> QuantSpec::default_targets() {
    return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& expected, const std::string& found) {
    throw Error(path + ": expected " + expected + ", found " + found);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void validate_gptq_settings(const GptqSettings& g, RtnVariant variant, const std::string& path) {
    if (variant != RtnVariant::Gptq && variant != RtnVariant::GptqSymmetric)
        bad(path + ".variant", "gptq or gptq-sym for gptq (quant.py's min/max grid)",
            "\"" + to_string(variant) + "\"");
    g.validate(path + ".gptq");
}

} // namespace

std::string to_string(QuantMethod method) {
    switch (method) {
    case QuantMethod::Rtn:
        return "rtn";
    case QuantMethod::Nf:
        return "nf";
    case QuantMethod::IcqNf:
        return "icq-nf";
    case QuantMethod::IcqInt:
        return "icq-int";
    case QuantMethod::Gptq:
        return "gptq";
    }
    return "?";
}

std::string to_string(RtnVariant variant) {
    switch (variant) {
    case RtnVariant::OmniQuant:
        return "omniquant";
    case RtnVariant::Gptq:
        return "gptq";
    case RtnVariant::GptqSymmetric:
        return "gptq-sym";
    case RtnVariant::OmniQuantSymmetric:
        return "omniquant-sym";
    }
    return "?";
}

std::string to_string(NfVariant variant) {
    switch (variant) {
    case NfVariant::BnbAsymmetric:
        return "bnb";
    case NfVariant::QloraSymmetric:
        return "sym";
    }
    return "?";
}

std::string to_string(IcqEntropyArithmetic arithmetic) {
    return arithmetic == IcqEntropyArithmetic::Float32 ? "float32" : "exact";
}

QuantMethod parse_quant_method(const std::string& text, const std::string& where) {
    if (text == "rtn") return QuantMethod::Rtn;
    if (text == "nf") return QuantMethod::Nf;
    if (text == "icq-nf" || text == "icq") return QuantMethod::IcqNf;
    if (text == "icq-int") return QuantMethod::IcqInt;
    if (text == "gptq") return QuantMethod::Gptq;
    bad(where, "one of rtn, nf, icq-nf, icq-int, gptq", "\"" + text + "\"");
}

void set_variant(QuantSpec& spec, const std::string& text, const std::string& where) {
    switch (spec.method) {
    case QuantMethod::Gptq:
        // GPTQ's grid is quant.py's min/max quantizer: asymmetric (default) or --sym.
        if (text == "gptq" || text == "asym")
            spec.rtn_variant = RtnVariant::Gptq;
        else if (text == "gptq-sym" || text == "sym")
            spec.rtn_variant = RtnVariant::GptqSymmetric;
        else
            bad(where, "one of gptq (asymmetric), gptq-sym for gptq", "\"" + text + "\"");
        return;
    case QuantMethod::Rtn:
    case QuantMethod::IcqInt:
        if (text == "omniquant" || text == "asym")
            spec.rtn_variant = RtnVariant::OmniQuant;
        else if (text == "gptq")
            spec.rtn_variant = RtnVariant::Gptq;
        else if (text == "gptq-sym" || text == "sym")
            spec.rtn_variant = RtnVariant::GptqSymmetric;
        else if (text == "omniquant-sym")
            spec.rtn_variant = RtnVariant::OmniQuantSymmetric;
        else
            bad(where, "one of omniquant, gptq, gptq-sym, omniquant-sym for " + to_string(spec.method),
                "\"" + text + "\"");
        // "asym"/"sym" under icq-int mean the GPTQ forms: the official integer ICQ sits in GPTQ.
        if (spec.method == QuantMethod::IcqInt && text == "asym") spec.rtn_variant = RtnVariant::Gptq;
        return;
    case QuantMethod::Nf:
    case QuantMethod::IcqNf:
        if (text == "bnb" || text == "asym" || text == "asymmetric")
            spec.nf_variant = NfVariant::BnbAsymmetric;
        else if (text == "sym" || text == "symmetric" || text == "qlora-sym")
            spec.nf_variant = NfVariant::QloraSymmetric;
        else
            bad(where, "one of bnb (asymmetric), sym (QLoRA-paper symmetric)", "\"" + text + "\"");
        return;
    }
}

std::string variant_string(const QuantSpec& spec) {
    switch (spec.method) {
    case QuantMethod::Rtn:
    case QuantMethod::IcqInt:
    case QuantMethod::Gptq:
        return to_string(spec.rtn_variant);
    case QuantMethod::Nf:
    case QuantMethod::IcqNf:
        return to_string(spec.nf_variant);
    }
    return "?";
}

IcqEntropyArithmetic parse_icq_entropy(const std::string& text, const std::string& where) {
    if (text == "float32") return IcqEntropyArithmetic::Float32;
    if (text == "exact") return IcqEntropyArithmetic::ExactTies;
    bad(where, "float32 or exact", "\"" + text + "\"");
}

void QuantSpec::validate(const std::string& path) const {
    const bool is_nf = method == QuantMethod::Nf || method == QuantMethod::IcqNf;
    if (is_nf) {
        if (bits < 2 || bits > 4)
            bad(path + ".bits", "2, 3 or 4 for " + to_string(method), std::to_string(bits));
        if (group_size <= 0)
            bad(path + ".group_size", "a positive absmax block length for " + to_string(method),
                std::to_string(group_size));
    } else {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
            bad(path + ".bits", "2, 3, 4 or 8 for " + to_string(method), std::to_string(bits));
        if (group_size == 0 || group_size < -1)
            bad(path + ".group_size", "a positive group length or -1 (per channel)",
                std::to_string(group_size));
    }
    if (method == QuantMethod::IcqInt && rtn_variant != RtnVariant::Gptq &&
        rtn_variant != RtnVariant::GptqSymmetric)
        bad(path + ".variant",
            "gptq or gptq-sym for icq-int (the official integer ICQ starts from GPTQ min/max)",
            "\"" + to_string(rtn_variant) + "\"");
    if (method == QuantMethod::Gptq) validate_gptq_settings(gptq, rtn_variant, path);
    if (double_quant_block <= 0)
        bad(path + ".double_quant_block", "a positive number of absmax values per block",
            std::to_string(double_quant_block));
    if (icq_n < 0) bad(path + ".icq.n", "n >= 0 (2n+1 candidates)", std::to_string(icq_n));
    if (!(icq_lambda >= 0.0)) bad(path + ".icq.lambda", "lambda >= 0", std::to_string(icq_lambda));
    if (icq_superblock <= 0)
        bad(path + ".icq.superblock", "a positive number of blocks per tau2", std::to_string(icq_superblock));
    if (icq_int_n < 1) bad(path + ".icq.int_n", "int_n >= 1", std::to_string(icq_int_n));
    if (!(icq_int_range >= 0.0 && icq_int_range < 1.0))
        bad(path + ".icq.int_range", "0 <= int_range < 1", std::to_string(icq_int_range));
    if (targets.empty()) bad(path + ".targets", "at least one projection name", "an empty list");
    for (size_t i = 0; i < targets.size(); ++i)
        if (targets[i].empty())
            bad(path + ".targets[" + std::to_string(i) + "]", "a projection name", "\"\"");
}

bool QuantSpec::is_target(const std::string& linear_name) const {
    for (const auto& t : targets)
        if (linear_name == t || ends_with(linear_name, "." + t)) return true;
    return false;
}

std::string QuantSpec::describe() const {
    std::ostringstream s;
    s << to_string(method) << " ";
    switch (method) {
    case QuantMethod::Rtn:
    case QuantMethod::IcqInt:
        s << "w" << bits << " g" << group_size << " " << to_string(rtn_variant);
        if (method == QuantMethod::IcqInt) s << " n=" << icq_int_n << " range=" << icq_int_range;
        break;
    case QuantMethod::Gptq:
        s << "w" << bits << " g" << group_size << " " << to_string(rtn_variant) << " damp=" << gptq.damp_percent;
        if (gptq.block_size != 128) s << " block=" << gptq.block_size;
        if (gptq.act_order) s << " act-order";
        if (gptq.static_groups) s << " static-groups";
        if (gptq.mse) s << " mse";
        break;
    case QuantMethod::Nf:
    case QuantMethod::IcqNf:
        s << "nf" << bits << " b" << group_size << " " << to_string(nf_variant);
        if (method == QuantMethod::IcqNf)
            s << " n=" << icq_n << " lambda=" << icq_lambda << " " << to_string(icq_entropy);
        if (double_quant) s << " dq";
        break;
    }
    return s.str();
}

void to_json(nlohmann::json& j, const QuantSpec& spec) {
    j = nlohmann::json{{"method", to_string(spec.method)},
                       {"bits", spec.bits},
                       {"group_size", spec.group_size},
                       {"variant", variant_string(spec)},
                       {"double_quant", spec.double_quant},
                       {"double_quant_block", spec.double_quant_block},
                       {"icq",
                        {{"n", spec.icq_n},
                         {"lambda", spec.icq_lambda},
                         {"superblock", spec.icq_superblock},
                         {"quantize_offset", spec.icq_quantize_offset},
                         {"entropy", to_string(spec.icq_entropy)},
                         {"int_n", spec.icq_int_n},
                         {"int_range", spec.icq_int_range}}},
                       {"gptq", gptq_settings_json(spec.gptq)},
                       {"targets", spec.targets}};
}

namespace {

template <typename T> T get_as(const nlohmann::json& v, const std::string& path, const char* expected) {
    try {
        if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean()) throw std::runtime_error("");
        } else if constexpr (std::is_integral_v<T>) {
            if (!v.is_number_integer()) throw std::runtime_error("");
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!v.is_number()) throw std::runtime_error("");
        } else {
            if (!v.is_string()) throw std::runtime_error("");
        }
        return v.get<T>();
    } catch (const std::exception&) {
        bad(path, expected, v.dump());
    }
}

} // namespace

QuantSpec quant_spec_from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) bad(path, "an object", j.dump());
    QuantSpec spec;
    static const std::set<std::string> known = {
        "method", "bits", "group_size", "variant", "double_quant", "double_quant_block", "icq", "gptq", "targets"};
    for (const auto& [key, value] : j.items()) {
        (void)value;
        if (!known.count(key))
            bad(path + "." + key,
                "one of method, bits, group_size, variant, double_quant, "
                "double_quant_block, icq, gptq, targets",
                "unknown key");
    }
    // The method first: it decides how "variant" reads.
    if (j.contains("method"))
        spec.method = parse_quant_method(get_as<std::string>(j["method"], path + ".method", "a string"),
                                         path + ".method");
    if (j.contains("bits")) spec.bits = get_as<int>(j["bits"], path + ".bits", "an integer");
    if (j.contains("group_size"))
        spec.group_size = get_as<int64_t>(j["group_size"], path + ".group_size", "an integer");
    if (spec.method == QuantMethod::IcqInt || spec.method == QuantMethod::Gptq) spec.rtn_variant = RtnVariant::Gptq;
    if (j.contains("variant"))
        set_variant(spec, get_as<std::string>(j["variant"], path + ".variant", "a string"),
                    path + ".variant");
    if (j.contains("double_quant"))
        spec.double_quant = get_as<bool>(j["double_quant"], path + ".double_quant", "true or false");
    if (j.contains("double_quant_block"))
        spec.double_quant_block =
            get_as<int64_t>(j["double_quant_block"], path + ".double_quant_block", "an integer");
    if (j.contains("icq")) {
        const auto& q = j["icq"];
        const std::string p = path + ".icq";
        if (!q.is_object()) bad(p, "an object", q.dump());
        static const std::set<std::string> icq_known = {"n",       "lambda", "superblock", "quantize_offset",
                                                        "entropy", "int_n",  "int_range"};
        for (const auto& [key, value] : q.items()) {
            (void)value;
            if (!icq_known.count(key))
                bad(p + "." + key, "one of n, lambda, superblock, quantize_offset, entropy, int_n, int_range",
                    "unknown key");
        }
        if (q.contains("n")) spec.icq_n = get_as<int>(q["n"], p + ".n", "an integer");
        if (q.contains("lambda")) spec.icq_lambda = get_as<double>(q["lambda"], p + ".lambda", "a number");
        if (q.contains("superblock"))
            spec.icq_superblock = get_as<int64_t>(q["superblock"], p + ".superblock", "an integer");
        if (q.contains("quantize_offset"))
            spec.icq_quantize_offset =
                get_as<bool>(q["quantize_offset"], p + ".quantize_offset", "true or false");
        if (q.contains("entropy"))
            spec.icq_entropy = parse_icq_entropy(
                get_as<std::string>(q["entropy"], p + ".entropy", "a string"), p + ".entropy");
        if (q.contains("int_n")) spec.icq_int_n = get_as<int>(q["int_n"], p + ".int_n", "an integer");
        if (q.contains("int_range"))
            spec.icq_int_range = get_as<double>(q["int_range"], p + ".int_range", "a number");
    }
    if (j.contains("gptq")) spec.gptq = gptq_settings_from_json(j["gptq"], path + ".gptq");
    if (j.contains("targets")) {
        const auto& t = j["targets"];
        if (!t.is_array()) bad(path + ".targets", "an array of projection names", t.dump());
        spec.targets.clear();
        for (size_t i = 0; i < t.size(); ++i)
            spec.targets.push_back(
                get_as<std::string>(t[i], path + ".targets[" + std::to_string(i) + "]", "a string"));
    }
    spec.validate(path);
    return spec;
}

} // namespace rilq
