#include "core/lora/lora_config.h"

#include "core/util/config_fields.h"
#include "core/util/error.h"

#include <algorithm>

namespace rilq {

const std::vector<std::pair<LoraInit, std::string>>& lora_init_names() {
    static const config::EnumNames<LoraInit> names = {{LoraInit::Gaussian, "gaussian"},
                                                      {LoraInit::Kaiming, "kaiming"},
                                                      {LoraInit::Loftq, "loftq"},
                                                      {LoraInit::QeraExact, "qera-exact"},
                                                      {LoraInit::QeraDiag, "qera-diag"}};
    return names;
}

bool is_closed_form(LoraInit init) {
    return init == LoraInit::Loftq || needs_input_gram(init);
}

bool needs_input_gram(LoraInit init) {
    return init == LoraInit::QeraExact || init == LoraInit::QeraDiag;
}

std::string to_string(LoraInit init) {
    return config::name_of(lora_init_names(), init);
}

const std::vector<config::Field<LoraConfig>>& lora_config_fields() {
    using namespace config;
    using L = LoraConfig;
    static const std::vector<Field<L>> fields = {
        integer<L>("lora_r", at(&L::r), 0, kIntMax)
            .titled("Rank")
            .official()
            .help("LoRA rank; 0 = no compensation (the baseline row: no training, no compensated eval, no "
                  "adapter)"),
        number<L>("lora_alpha", at(&L::alpha), 0, kInfinity, true)
            .titled("Alpha")
            .official()
            .help("LoRA scale s = alpha / r"),
        number<L>("lora_dropout", at(&L::dropout), 0, 1, false, true)
            .titled("Dropout")
            .official()
            .help("LoRA dropout on the adapter input"),
        choice<L>("lora_init", at(&L::init), lora_init_names())
            .titled("Init")
            .workbench()
            .help("how the adapters start: `gaussian` A ~ N(0, 1/r^2), B = 0 as the official code (PEFT "
                  "`init_lora_weights=\"gaussian\"`); `kaiming` PEFT's default Kaiming-uniform A, B = 0; "
                  "`loftq` LoftQ (loftq_iter rounds of quantizing W - s B A with quant.method, the base "
                  "becomes "
                  "the last Q); `qera-exact` the closed form minimising the output error on the calibration "
                  "inputs (Gram E[x x^T]); `qera-diag` the same with the Gram's diagonal. Any scope trains "
                  "from it; scope weight-svd keeps it untrained"),
        integer<L>("loftq_iter", at(&L::loftq_iter), 1, 100)
            .titled("LoftQ rounds")
            .workbench()
            .help("LoftQ's alternating rounds T (PEFT `loftq_iter`); 1 = the SVD of the quantization error. "
                  "Read only with lora_init loftq"),
        text_list<L>("lora_targets", at(&L::targets), projection_names(), false)
            .titled("Targets")
            .workbench()
            .shows_default("all seven")
            .help("projections that get adapters (the official code uses all seven)"),
        boolean<L>("iec", at(&L::iec))
            .titled("IEC (IR-QLoRA)")
            .workbench()
            .help("IR-QLoRA's elastic connection on every adapter (folded into A and B when saved)"),
        integer<L>("seed", at(&L::seed), 0, kInt64Max)
            .titled("Seed")
            .help("training seed: LoRA initialisation, dropout masks"),
    };
    return fields;
}

std::vector<config::Problem> LoraConfig::problems(const std::string& path) const {
    std::vector<config::Problem> out = config::field_problems(lora_config_fields(), *this, path);
    for (size_t i = 0; i < targets.size(); ++i) {
        const auto before = targets.begin() + static_cast<std::ptrdiff_t>(i);
        if (std::find(targets.begin(), before, targets[i]) != before)
            out.push_back({(path.empty() ? "" : path + ".") + "lora_targets[" + std::to_string(i) + "]",
                           "expected each projection once, found \"" + targets[i] + "\" again"});
    }
    return out;
}

void LoraConfig::validate() const {
    const auto found = problems();
    if (!found.empty()) throw Error(config::describe_problems("LoRA settings", found));
}

std::string projection_short_name(const std::string& linear_name) {
    const auto dot = linear_name.rfind('.');
    return dot == std::string::npos ? linear_name : linear_name.substr(dot + 1);
}

} // namespace rilq
