// The quantizer registry: every quantization method the workbench knows, with what validation,
// CLI help, the GUI's choices, export labels and `rilq bench quantize` read about it. Each
// method lives in its own unit (rtn.cpp, nf.cpp, icq_nf.cpp, icq_int.cpp), which defines its
// QuantMethod next to its Quantizer; quant_registry.cpp lists them.
//
// Adding a method: its unit (a Quantizer subclass plus `const QuantMethod& <name>_method()`),
// one line in quant_methods(), and its tests. A knob the method needs is a QuantSpec member plus
// one line in quant_spec_fields(); the method lists its knobs' keys in `knobs`.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/quant/quant_spec.h"

namespace rilq {

class Quantizer;

struct QuantVariant {
    std::string name; // "gptq-sym": quant.variant, --variant
    std::string doc;  // one line: what differs
};

struct QuantMethod {
    std::string name;                   // "icq-nf": quant.method in experiments, --method in the CLI
    std::string label;                  // "ICQ-NF": table headers, protocol lines, the GUI
    std::string doc;                    // one line: what it does and where it comes from (METHODS.md section)
    std::vector<QuantVariant> variants; // the first is the default; never empty
    std::vector<int> bits;              // bit widths it accepts
    GroupKind grouping = GroupKind::RowGroups; // what group_size means for it
    // The method reads each linear's calibration inputs (QuantContext::inputs), e.g. GPTQ's
    // Hessian: quantize_model then needs calibration windows.
    bool needs_calibration = false;
    std::vector<std::string>
        knobs; // quant.* keys it reads besides method, bits, group_size, variant, targets
    std::unique_ptr<Quantizer> (*make)(const QuantSpec& spec) = nullptr;

    std::vector<std::string> variant_names() const;
    bool accepts_bits(int bits) const;
    bool reads(const std::string& knob) const; // `knob` is one of its knobs
};

// A method's variants with the enum value its quantizer uses for each, in the order offered.
template <class E> using VariantTable = std::vector<std::pair<E, QuantVariant>>;

// A method's variants from its table of (its own enum value, QuantVariant), in table order;
// `only` keeps the listed values (a method that accepts a subset of a shared table).
template <class E>
std::vector<QuantVariant> variants_of(const VariantTable<E>& table, const std::vector<E>& only = {}) {
    std::vector<QuantVariant> out;
    for (const auto& [value, variant] : table) {
        bool keep = only.empty();
        for (const E& o : only)
            keep = keep || o == value;
        if (keep) out.push_back(variant);
    }
    return out;
}

// The value of the variant named `name` in a method's table; Error naming the method when none is
// (a validated spec always names one).
[[noreturn]] void unknown_variant(const std::string& method, const std::string& name);
template <class E>
E variant_value(const std::vector<std::pair<E, QuantVariant>>& table, const std::string& name,
                const std::string& method) {
    for (const auto& [value, variant] : table)
        if (variant.name == name) return value;
    unknown_variant(method, name);
}

// Every method, in registration order (the order choices are offered in).
const std::vector<QuantMethod>& quant_methods();
std::vector<std::string> quant_method_names();
// nullptr when no method has that name.
const QuantMethod* find_quant_method(const std::string& name);
// Error naming `where`, the unknown name, the closest known one and the list.
const QuantMethod& quant_method(const std::string& name, const std::string& where = "quant.method");
// A quant.* key that only some methods read (a knob: icq_tau_n), as opposed to the keys every
// method reads (method, bits, group_size, variant, targets).
bool is_method_knob(const std::string& key);
// The method's label ("RTN"); the name itself when it is not registered ("none").
std::string quant_method_label(const std::string& name);

} // namespace rilq
