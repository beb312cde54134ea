#include "core/quant/quant_registry.h"

#include "core/quant/icq_int.h"
#include "core/quant/icq_nf.h"
#include "core/quant/nf.h"
#include "core/quant/rtn.h"
#include "core/util/config_fields.h"
#include "core/util/did_you_mean.h"
#include "core/util/error.h"

#include <algorithm>

namespace rilq {

const std::vector<QuantMethod>& quant_methods() {
    // One line per method, in the order the GUI and the help list them.
    static const std::vector<QuantMethod> methods = {
        rtn_method(),
        nf_method(),
        icq_nf_method(),
        icq_int_method(),
    };
    return methods;
}

std::vector<std::string> QuantMethod::variant_names() const {
    std::vector<std::string> names;
    for (const auto& v : variants)
        names.push_back(v.name);
    return names;
}

bool QuantMethod::accepts_bits(int b) const {
    return std::find(bits.begin(), bits.end(), b) != bits.end();
}

bool QuantMethod::reads(const std::string& knob) const {
    return std::find(knobs.begin(), knobs.end(), knob) != knobs.end();
}

void unknown_variant(const std::string& method, const std::string& name) {
    throw Error(method + ": unknown variant \"" + name + "\"");
}

std::vector<std::string> quant_method_names() {
    std::vector<std::string> names;
    for (const auto& m : quant_methods())
        names.push_back(m.name);
    return names;
}

const QuantMethod* find_quant_method(const std::string& name) {
    for (const auto& m : quant_methods())
        if (m.name == name) return &m;
    return nullptr;
}

const QuantMethod& quant_method(const std::string& name, const std::string& where) {
    if (const QuantMethod* m = find_quant_method(name)) return *m;
    const auto names = quant_method_names();
    const std::string hint = closest_match(name, names);
    throw Error(where + ": unknown quantization method \"" + name + "\"" +
                (hint.empty() ? "" : ", did you mean \"" + hint + "\"?") + " (expected " +
                config::one_of_text(names) + ")");
}

bool is_method_knob(const std::string& key) {
    const auto& methods = quant_methods();
    return std::any_of(methods.begin(), methods.end(), [&](const QuantMethod& m) { return m.reads(key); });
}

std::string quant_method_label(const std::string& name) {
    const QuantMethod* m = find_quant_method(name);
    return m ? m->label : name;
}

} // namespace rilq
