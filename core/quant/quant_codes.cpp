#include "core/quant/quant_codes.h"

#include "core/quant/dynamic_map.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rilq {

namespace {

std::string dequant_formula(const QuantSpec& spec) {
    switch (spec.method) {
    case QuantMethod::Rtn:
    case QuantMethod::IcqInt:
        return "w[o, i] = (codes[o, i] - zeros[o, i // G]) * scales[o, i // G]";
    case QuantMethod::Gptq:
        return "w[o, i] = (codes[o, i] - zeros[o, g_idx[i]]) * scales[o, g_idx[i]]";
    case QuantMethod::Nf:
        return spec.double_quant
                   ? "a[b] = dynamic_map[absmax_codes[b]] * absmax_scales[b // D] + absmax_mean; "
                     "w.flat[j] = table[codes.flat[j]] * a[j // B]"
                   : "w.flat[j] = table[codes.flat[j]] * absmax[j // B]";
    case QuantMethod::IcqNf:
        return std::string(spec.double_quant
                               ? "a[b] = dynamic_map[absmax_codes[b]] * absmax_scales[b // D] + absmax_mean; "
                               : "a[b] = absmax[b]; ") +
               "tau[b] = dynamic_map[offset_codes[b]] * offset_scales[b // S]; "
               "w.flat[j] = table[codes.flat[j]] * a[j // B] + tau[j // B]";
    }
    return "";
}

} // namespace

std::vector<std::pair<std::string, torch::Tensor>> quant_code_tensors(const ModelQuantResult& result) {
    if (result.states.empty())
        throw Error("quant codes: no per-linear state kept (run quantize_model with keep_states = true)");
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& [name, r] : result.states) {
        const std::string p = "model." + name + ".";
        out.emplace_back(p + "codes", r.codes);
        if (r.scales.defined()) out.emplace_back(p + "scales", r.scales);
        if (r.zeros.defined()) out.emplace_back(p + "zeros", r.zeros);
        if (r.group_index.defined()) out.emplace_back(p + "g_idx", r.group_index);
        if (r.table.defined()) out.emplace_back(p + "table", r.table);
        if (r.double_quantized) {
            out.emplace_back(p + "absmax_codes", r.double_quant.codes);
            out.emplace_back(p + "absmax_scales", r.double_quant.scales);
            out.emplace_back(p + "absmax_mean", torch::tensor({r.double_quant.mean}, torch::kFloat32));
        } else if (r.absmax.defined()) {
            out.emplace_back(p + "absmax", r.absmax);
        }
        if (r.has_icq_nf) {
            if (result.spec.icq_quantize_offset) {
                out.emplace_back(p + "offset_codes", r.icq_nf.offset_codes);
                out.emplace_back(p + "offset_scales", r.icq_nf.offset_scales);
            } else {
                out.emplace_back(p + "offset", r.icq_nf.offset_dequant);
            }
            out.emplace_back(p + "icq_choice", r.icq_nf.choice.to(torch::kInt32));
        }
        if (r.has_icq_int) out.emplace_back(p + "icq_choice", r.icq_int.choice.to(torch::kInt32));
    }
    bool dyn = false;
    for (const auto& [name, r] : result.states)
        dyn = dyn || r.double_quantized || r.has_icq_nf;
    if (dyn) out.emplace_back("dynamic_map", torch::tensor(dynamic_map(), torch::kFloat32));
    return out;
}

nlohmann::json quant_codes_manifest(const ModelQuantResult& result, const std::string& model_source) {
    nlohmann::json spec;
    to_json(spec, result.spec);
    nlohmann::json linears = nlohmann::json::array();
    for (const auto& [name, r] : result.states) {
        linears.push_back(
            {{"name", name},
             {"prefix", "model." + name + "."},
             {"shape", {r.layout.rows, r.layout.cols}},
             {"group_kind", r.layout.kind == GroupKind::RowGroups ? "row_groups" : "flat_blocks"},
             {"group_size", r.layout.group_size},
             {"last_group_size", r.layout.last_group_size()}});
    }
    return {{"format", "rilq.quant_codes"},
            {"version", kQuantCodesFormatVersion},
            {"model", model_source},
            {"spec", spec},
            {"describe", result.spec.describe()},
            {"code_storage", "uint8, one code per byte, row-major (out, in)"},
            {"dequantize", dequant_formula(result.spec)},
            {"symbols",
             {{"G", "group_size along in_features (row groups; the last group of a row may be shorter)"},
              {"B", "group_size as flat block length over the row-major weight"},
              {"D", "double_quant_block"},
              {"S", "icq.superblock"}}},
            {"linears", linears}};
}

} // namespace rilq
