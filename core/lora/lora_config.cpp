#include "core/lora/lora_config.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace rilq {

std::vector<std::string> LoraConfig::default_targets() {
    return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}

void LoraConfig::validate() const {
    if (r < 0) throw Error("lora.r must be >= 0, found " + std::to_string(r));
    if (!(alpha > 0.0) || !std::isfinite(alpha))
        throw Error("lora.alpha must be a positive number, found " + std::to_string(alpha));
    if (!(dropout >= 0.0 && dropout < 1.0))
        throw Error("lora.dropout must be in [0, 1), found " + std::to_string(dropout));
    const auto known = default_targets();
    if (r > 0 && targets.empty()) throw Error("lora.targets is empty (expected some of q_proj ... down_proj)");
    for (size_t i = 0; i < targets.size(); ++i) {
        if (std::find(known.begin(), known.end(), targets[i]) == known.end())
            throw Error("lora.targets[" + std::to_string(i) + "] = \"" + targets[i] +
                        "\" is not a Llama projection (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj "
                        "or down_proj)");
        if (std::count(targets.begin(), targets.end(), targets[i]) > 1)
            throw Error("lora.targets lists \"" + targets[i] + "\" twice");
    }
}

std::string to_string(LoraInit init) { return init == LoraInit::Gaussian ? "gaussian" : "kaiming"; }

LoraInit parse_lora_init(const std::string& text) {
    if (text == "gaussian") return LoraInit::Gaussian;
    if (text == "kaiming") return LoraInit::Kaiming;
    throw Error("unknown LoRA init \"" + text + "\" (expected gaussian or kaiming)");
}

std::string projection_short_name(const std::string& linear_name) {
    const auto dot = linear_name.rfind('.');
    return dot == std::string::npos ? linear_name : linear_name.substr(dot + 1);
}

} // namespace rilq
