#include "core/quant/quant_spec.h"

#include "core/quant/quant_registry.h"
#include "core/util/config_fields.h"
#include "core/util/error.h"

#include <algorithm>
#include <sstream>

namespace rilq {

const std::vector<std::pair<IcqEntropyArithmetic, std::string>>& icq_entropy_names() {
    static const config::EnumNames<IcqEntropyArithmetic> names = {{IcqEntropyArithmetic::Float32, "float32"},
                                                                  {IcqEntropyArithmetic::ExactTies, "exact"}};
    return names;
}

const std::vector<std::pair<QuantStorage, std::string>>& quant_storage_names() {
    static const config::EnumNames<QuantStorage> names = {{QuantStorage::Dense, "dense"},
                                                          {QuantStorage::Packed, "packed"}};
    return names;
}

namespace {

std::vector<std::string> method_choices() {
    std::vector<std::string> names = {kNoQuantization};
    for (const auto& m : quant_methods())
        names.push_back(m.name);
    return names;
}

std::vector<config::Field<QuantSpec>> build_fields() {
    using namespace config;
    using Q = QuantSpec;
    return {
        choice_text<Q>("method", at(&Q::method), method_choices())
            .titled("Method")
            .help("`none`: load `rilq.q_model` as the quantized model; otherwise the FP model is "
                  "fake-quantized "
                  "in place by the method (table below)"),
        integer<Q>("bits", at(&Q::bits), 1, 8)
            .titled("Bits")
            .help("bits per weight; each method accepts the widths in the table below"),
        integer<Q>("group_size", at(&Q::group_size), 0, kIntMax, "a non-negative integer (0 = whole row)")
            .titled("Group size")
            .help(
                "row-group methods: consecutive input-dimension weights per scale, 0 = one group per output "
                "row (per channel); block methods: absmax block length over the row-major flattened "
                "weight, > 0"),
        text<Q>("variant", at(&Q::variant), any_text)
            .titled("Variant")
            .shows_default("the method's first")
            .help("the method's flavour (table below); must be empty for `none`"),
        boolean<Q>("double_quant", at(&Q::double_quant))
            .titled("Double quant")
            .help("bitsandbytes-style 8-bit quantized absmax values"),
        integer<Q>("double_quant_block", at(&Q::double_quant_block), 1, kIntMax)
            .titled("Double-quant block")
            .help("absmax values per 8-bit double-quantization block (bitsandbytes: 256)"),
        number<Q>("icq_tau_lambda", at(&Q::icq_tau_lambda), 0, kInfinity, true)
            .titled("ICQ lambda")
            .help("offset search range in units of sigma (IR-QLoRA `tau_lambda`)"),
        integer<Q>("icq_tau_n", at(&Q::icq_tau_n), 1, kIntMax)
            .titled("ICQ n")
            .help("candidate offsets per side, 2n+1 in all (training-script value)"),
        integer<Q>("icq_superblock", at(&Q::icq_superblock), 1, kIntMax)
            .titled("ICQ super-block")
            .help("blocks sharing one 16-bit scale of their 8-bit offsets"),
        boolean<Q>("icq_quantize_offset", at(&Q::icq_quantize_offset))
            .titled("ICQ 8-bit offsets")
            .help("store each block's offset as an 8-bit dynamic-map code times its super-block scale "
                  "(official); false keeps it in fp32"),
        choice<Q>("icq_entropy", at(&Q::icq_entropy), icq_entropy_names())
            .titled("ICQ entropy arithmetic")
            .help("how ICQ searches compare entropies: `float32` as the official code, `exact` so that equal "
                  "code counts tie exactly"),
        integer<Q>("icq_int_n", at(&Q::icq_int_n), 1, kIntMax)
            .titled("ICQ-int n")
            .help("clip ratios per side, 1 +- k x range / n (official module constant 50)"),
        number<Q>("icq_int_range", at(&Q::icq_int_range), 0, 1, false, true)
            .titled("ICQ-int range")
            .help("clip-ratio range (official module constant 0.1)"),
        number<Q>("gptq_damp_percent", at(&Q::gptq_damp_percent), 0, 1, false, true)
            .titled("GPTQ damping")
            .help(
                "dampening added to the Hessian's diagonal, as a fraction of its mean (gptq.py `percdamp`)"),
        number<Q>("gptq_damp_increment", at(&Q::gptq_damp_increment), 0, 1, true, true)
            .titled("GPTQ damping step")
            .help("added to the damping after a failed Cholesky factorization, retried until it reaches 1 "
                  "(GPTQModel `damp_auto_increment`)"),
        integer<Q>("gptq_block_size", at(&Q::gptq_block_size), 1, kIntMax)
            .titled("GPTQ block size")
            .help("columns whose updates are applied lazily together (gptq.py `blocksize`)"),
        boolean<Q>("gptq_act_order", at(&Q::gptq_act_order))
            .titled("GPTQ act-order")
            .help("quantize columns by decreasing Hessian diagonal (gptq.py `--act-order`)"),
        boolean<Q>("gptq_static_groups", at(&Q::gptq_static_groups))
            .titled("GPTQ static groups")
            .help("fit every group's grid once on the original weights instead of at the group's start "
                  "(gptq.py `--static-groups`)"),
        boolean<Q>("gptq_mse", at(&Q::gptq_mse))
            .titled("GPTQ MSE clip")
            .help("search each grid's clip ratio for the smallest error instead of plain min/max "
                  "(quant.py `mse=True`)"),
        number<Q>("gptq_mse_norm", at(&Q::gptq_mse_norm), 0, kInfinity, true)
            .titled("GPTQ MSE norm")
            .help("exponent of the clip search's error sum |Q(x) - x|^norm (quant.py 2.4)"),
        integer<Q>("gptq_mse_grid", at(&Q::gptq_mse_grid), 1, kIntMax)
            .titled("GPTQ MSE grid")
            .help("clip ratios tried are 1 - k / grid (quant.py 100)"),
        number<Q>("gptq_mse_max_shrink", at(&Q::gptq_mse_max_shrink), 0, 1, true, false)
            .titled("GPTQ MSE max shrink")
            .help("the clip search stops at k < max_shrink x grid (quant.py 0.8)"),
        choice<Q>("storage", at(&Q::storage), quant_storage_names())
            .titled("Student storage")
            .resumable_field()
            .help("how the student holds a quantized linear: `dense` = its dequantized weight in the compute "
                  "dtype; `packed` = bit-packed codes plus per-group scales/zeros or absmax/offsets, "
                  "dequantized on the fly (bit-identical results, about bits/32 of the fp32 memory); "
                  "`none` always loads the q_model dense"),
        text_list<Q>("targets", at(&Q::targets), {}, false)
            .titled("Quantized linears")
            .shows_default("all seven")
            .help("linears to quantize: projection names (`q_proj`, `mlp.down_proj`) or full linear names "
                  "(`layers.0.self_attn.q_proj`)"),
    };
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join(const std::vector<int>& values) {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i)
        out += (i ? (i + 1 == values.size() ? " or " : ", ") : "") + std::to_string(values[i]);
    return out;
}

} // namespace

const std::vector<config::Field<QuantSpec>>& quant_spec_fields() {
    static const std::vector<config::Field<QuantSpec>> fields = build_fields();
    return fields;
}

std::vector<config::Problem> QuantSpec::problems(const std::string& path) const {
    std::vector<config::Problem> out = config::field_problems(quant_spec_fields(), *this, path);
    if (!out.empty()) return out; // the checks below assume every field is in range
    const QuantMethod* m = find_quant_method(method);
    if (!m) {
        out.push_back({path + ".method",
                       config::expected(
                           config::one_of_text(quant_method_names()) + " (a quantization method)", method)});
        return out;
    }
    if (!m->accepts_bits(bits))
        out.push_back({path + ".bits", "expected " + join(m->bits) + " for method \"" + method +
                                           "\", found " + std::to_string(bits)});
    if (m->grouping == GroupKind::FlatBlocks && group_size <= 0)
        out.push_back({path + ".group_size", "expected a positive absmax block length for method \"" +
                                                 method + "\", found " + std::to_string(group_size)});
    const auto names = m->variant_names();
    if (!variant.empty() && std::find(names.begin(), names.end(), variant) == names.end())
        out.push_back({path + ".variant", "expected " + config::one_of_text(names) + " for method \"" +
                                              method + "\", found \"" + variant + "\""});
    for (size_t i = 0; i < targets.size(); ++i)
        if (targets[i].empty())
            out.push_back(
                {path + ".targets[" + std::to_string(i) + "]", "expected a projection name, found \"\""});
    return out;
}

void QuantSpec::validate(const std::string& path) const {
    const auto found = problems(path);
    if (!found.empty()) throw Error(config::describe_problems("quantization spec", found));
}

std::string QuantSpec::resolved_variant() const {
    if (!variant.empty()) return variant;
    const QuantMethod* m = find_quant_method(method);
    return m ? m->variants.front().name : std::string();
}

bool QuantSpec::is_target(const std::string& linear_name) const {
    for (const auto& t : targets)
        if (linear_name == t || ends_with(linear_name, "." + t)) return true;
    return false;
}

std::string QuantSpec::describe() const {
    std::ostringstream s;
    s << method << " w" << bits << " g" << group_size << " " << resolved_variant();
    const QuantSpec defaults;
    if (const QuantMethod* m = find_quant_method(method)) {
        for (const auto& f : quant_spec_fields()) {
            const auto value = f.write(*this);
            if (m->reads(f.key) && value != f.write(defaults)) s << " " << f.key << "=" << value.dump();
        }
    }
    return s.str();
}

nlohmann::json quant_spec_json(const QuantSpec& spec) {
    return config::write_fields(quant_spec_fields(), spec);
}

QuantSpec quant_spec_from_json(const nlohmann::json& j, const std::string& path) {
    QuantSpec spec;
    auto found = config::read_fields(quant_spec_fields(), j, spec, path);
    if (found.empty()) found = spec.problems(path);
    if (!found.empty()) throw Error(config::describe_problems("quantization spec", found));
    spec.variant = spec.resolved_variant();
    return spec;
}

} // namespace rilq
