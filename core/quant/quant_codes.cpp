#include "core/quant/quant_codes.h"

#include "core/quant/dynamic_map.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace rilq {

std::vector<std::pair<std::string, torch::Tensor>> quant_code_tensors(const ModelQuantResult& result) {
    if (result.states.empty())
        throw Error("quant codes: no per-linear state kept (run quantize_model with keep_states = true)");
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& [name, r] : result.states) {
        const std::string p = "model." + name + ".";
        out.emplace_back(p + "codes", r.codes);
        if (r.scales.defined()) out.emplace_back(p + "scales", r.scales);
        if (r.zeros.defined()) out.emplace_back(p + "zeros", r.zeros);
        if (r.table.defined()) out.emplace_back(p + "table", r.table);
        if (r.record)
            r.record->add_code_tensors(r, result.spec, p, out);
        else if (r.absmax.defined())
            out.emplace_back(p + "absmax", r.absmax);
    }
    bool dyn = false;
    for (const auto& [name, r] : result.states)
        dyn = dyn || (r.record && r.record->uses_dynamic_map());
    if (dyn) out.emplace_back("dynamic_map", torch::tensor(dynamic_map(), torch::kFloat32));
    return out;
}

nlohmann::json quant_codes_manifest(const ModelQuantResult& result, const std::string& model_source) {
    const nlohmann::json spec = quant_spec_json(result.spec);
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
            {"dequantize", make_quantizer(result.spec)->dequant_formula()},
            {"symbols",
             {{"G", "group_size along in_features (row groups; the last group of a row may be shorter)"},
              {"B", "group_size as flat block length over the row-major weight"},
              {"D", "double_quant_block"},
              {"S", "icq_superblock"}}},
            {"linears", linears}};
}

} // namespace rilq
