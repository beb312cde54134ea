// What to quantize and how: method, bits, grouping, variant and the ICQ search knobs.
// One plain struct with defaults (the official ones where a source has them, see
// METHODS.md §1), parsed from / written to JSON so it can be recorded with a run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/quant/gptq_settings.h"

namespace rilq {

enum class QuantMethod {
    Rtn,    // round-to-nearest int-k, grouped along in_features (METHODS §1.1)
    Nf,     // NormalFloat-k, absmax blocks over the flattened weight (§1.2)
    IcqNf,  // IR-QLoRA ICQ: NF-k of W - tau with an entropy-maximising tau per block (§1.3)
    IcqInt, // IR-QLoRA ICQ integer path: entropy-driven clip-ratio search around GPTQ min/max (§1.4)
    Gptq,   // GPTQ (IST-DASLab gptq.py): needs calibration inputs, core/quant/gptq.h
};

// RTN flavours. METHODS §7.1 leaves open which one RILQ used, so all are available.
enum class RtnVariant {
    OmniQuant,     // asymmetric raw min/max, scale clamped to [1e-5, 1e4], zero clamped to +-1e4 (default)
    Gptq,          // asymmetric, range forced to include 0; all-zero group -> [-1, 1]
    GptqSymmetric, // GPTQ sym: xmax = max(|xmin|, xmax), xmin = -xmax if xmin < 0, zero = (maxq+1)/2
    OmniQuantSymmetric, // OmniQuant sym: scale = absmax / (2^(b-1)-1), zero = 2^(b-1)-1
};

// NF-2/NF-3 codebooks: METHODS §7.7 leaves open which one IR-QLoRA meant.
enum class NfVariant {
    BnbAsymmetric,  // bitsandbytes create_normal_map construction: 2^(b-1) positive levels, exact 0 (default)
    QloraSymmetric, // QLoRA-paper construction: averages of adjacent quantiles, no 0 level
};

// How ICQ compares block entropies while searching (only matters for near-ties).
enum class IcqEntropyArithmetic {
    Float32,   // like the official code: -f*log2(f) in fp32, summed over codes 0..K-1 in fp32 (default)
    ExactTies, // fixed-point sum: equal code-count multisets give equal entropy, so the first truly wins ties
};

struct QuantSpec {
    QuantMethod method = QuantMethod::Rtn;
    int bits = 2;
    // RTN / ICQ-int: group length along in_features, -1 = one group per output row (per channel).
    // NF / ICQ-NF: absmax block length over the row-major flattened weight (bitsandbytes: 64).
    int64_t group_size = 64;
    RtnVariant rtn_variant = RtnVariant::OmniQuant;  // rtn; icq-int and gptq accept Gptq / GptqSymmetric
    NfVariant nf_variant = NfVariant::BnbAsymmetric; // nf, icq-nf (NF4 itself is always the bnb table)

    // Double quantization of the NF absmax values (bitsandbytes compress_statistics).
    bool double_quant = false;
    int64_t double_quant_block = 256; // absmax values per 8-bit block

    // ICQ, NF path (official training script: n = 100, lambda = 0.1, super-block of 256 blocks).
    int icq_n = 100; // 2n+1 candidates f in linspace(-lambda*sigma, +lambda*sigma)
    double icq_lambda = 0.1;
    int64_t icq_superblock = 256; // blocks sharing one tau2 scale
    bool icq_quantize_offset =
        true; // store tau as uint8 dynamic-map index * tau2 (official); false keeps fp32 tau
    IcqEntropyArithmetic icq_entropy = IcqEntropyArithmetic::Float32;

    // ICQ, integer path (module constants tau_n = 50, tau_range = 0.1 -> 101 clip ratios).
    int icq_int_n = 50;
    double icq_int_range = 0.1;

    GptqSettings gptq; // method gptq only

    // Which linears to quantize: projection names ("q_proj", "mlp.down_proj") or full linear names
    // ("layers.0.self_attn.q_proj"). Default: the seven projections of every decoder layer.
    std::vector<std::string> targets = default_targets();

    static std::vector<std::string> default_targets();

    // Throws rilq::Error naming the field as a JSON path under `path` ("$.quant.bits") with
    // the allowed values and what was found.
    void validate(const std::string& path = "$") const;

    // True when `linear_name` ("layers.3.mlp.up_proj") is selected by `targets`.
    bool is_target(const std::string& linear_name) const;

    // "rtn w2 g64 omniquant", "icq-nf nf4 b64 bnb n=100 lambda=0.1 dq" (for logs and file names).
    std::string describe() const;

    // Number of code levels, 2^bits.
    int levels() const { return 1 << bits; }
};

// String forms used by the CLI and JSON.
std::string to_string(QuantMethod method);              // "rtn", "nf", "icq-nf", "icq-int", "gptq"
std::string to_string(RtnVariant variant);              // "omniquant", "gptq", "gptq-sym", "omniquant-sym"
std::string to_string(NfVariant variant);               // "bnb", "sym"
std::string to_string(IcqEntropyArithmetic arithmetic); // "float32", "exact"
QuantMethod parse_quant_method(const std::string& text, const std::string& where);
// Sets spec.rtn_variant or spec.nf_variant from `text` according to spec.method.
void set_variant(QuantSpec& spec, const std::string& text, const std::string& where);
// The variant string that applies to spec.method.
std::string variant_string(const QuantSpec& spec);
IcqEntropyArithmetic parse_icq_entropy(const std::string& text, const std::string& where);

// JSON form: {"method","bits","group_size","variant","double_quant",...,"icq":{...},"gptq":{...},
// "targets":[...]}.
// Missing keys keep their defaults; unknown keys are an error (typos should not pass silently).
void to_json(nlohmann::json& j, const QuantSpec& spec);
QuantSpec quant_spec_from_json(const nlohmann::json& j, const std::string& path = "$");

} // namespace rilq
