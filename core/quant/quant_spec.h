// What to quantize and how: a method from the quantizer registry (quant_registry.h), bits,
// grouping, the method's variant and every knob a method reads. One plain struct with
// defaults (the official ones where a source has them, see METHODS.md §1); its table of
// fields is the experiment's `quant` section, what `rilq quantize --spec` reads and what
// quant_stats.json / quant_codes.json record.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/model/projections.h"
#include "core/util/config_fields_fwd.h"

namespace rilq {

// How the weights are cut into quantization groups (the unit of one scale / one entropy).
enum class GroupKind {
    RowGroups,  // RTN, ICQ-int: each row cut into runs of group_size along in_features; the last run of
                // a row is shorter when in_features % group_size != 0; group_size 0 = one group per row
    FlatBlocks, // NF, ICQ-NF: the row-major flattened weight cut into blocks of group_size (bitsandbytes);
                // blocks cross row boundaries when in_features % group_size != 0, the very last is shorter
};

// How ICQ compares block entropies while searching (only matters for near-ties).
enum class IcqEntropyArithmetic {
    Float32,   // like the official code: -f*log2(f) in fp32, summed over codes 0..K-1 in fp32 (default)
    ExactTies, // fixed-point sum: equal code-count multisets give equal entropy, so the first truly wins ties
};
const std::vector<std::pair<IcqEntropyArithmetic, std::string>>& icq_entropy_names(); // float32, exact

// How the quantized student holds a quantized linear in memory (core/quant/packed_quant_weight.h).
enum class QuantStorage {
    Dense,  // the dequantized weight as a dense tensor in the compute dtype (fake quantization)
    Packed, // bit-packed codes plus per-group grids, dequantized on the fly (same results bit for bit)
};
const std::vector<std::pair<QuantStorage, std::string>>& quant_storage_names(); // dense, packed

// quant.method of an experiment that loads the ready rilq.q_model instead of quantizing.
inline constexpr const char* kNoQuantization = "none";

struct QuantSpec {
    std::string method = "rtn"; // a registered method (quant_methods()); "none" only in experiments
    int bits = 2;
    // Row groups: run length along in_features, 0 = one group per output row (per channel).
    // Flat blocks: absmax block length over the row-major flattened weight (bitsandbytes: 64).
    int64_t group_size = 64;
    std::string variant; // one of the method's variants; "" = its default (the first)

    // Double quantization of the NF absmax values (bitsandbytes compress_statistics).
    bool double_quant = false;
    int64_t double_quant_block = 256; // absmax values per 8-bit block

    // ICQ, NF path (official training script: n = 100, lambda = 0.1, super-block of 256 blocks).
    int icq_tau_n = 100;             // 2n+1 candidates f in linspace(-lambda*sigma, +lambda*sigma)
    double icq_tau_lambda = 0.1;     // the candidates' range in units of sigma
    int64_t icq_superblock = 256;    // blocks sharing one tau2 scale
    bool icq_quantize_offset = true; // store tau as uint8 dynamic-map index * tau2 (official); false: fp32
    IcqEntropyArithmetic icq_entropy = IcqEntropyArithmetic::Float32;

    // ICQ, integer path (module constants tau_n = 50, tau_range = 0.1 -> 101 clip ratios).
    int icq_int_n = 50;
    double icq_int_range = 0.1;

    // GPTQ (core/quant/gptq.h): IST-DASLab llama.py arguments and fasterquant defaults, GPTQModel's
    // damping retry. Bits, group size and the symmetric grid are bits, group_size and variant.
    double gptq_damp_percent = 0.01;     // --percdamp: damping = damp_percent * mean(diag H)
    double gptq_damp_increment = 0.0025; // GPTQModel damp_auto_increment: added after a failed Cholesky
    int64_t gptq_block_size = 128;       // fasterquant blocksize: columns updated lazily together
    bool gptq_act_order = false;         // --act-order: columns by decreasing H_ii
    bool gptq_static_groups = false;     // --static-groups: group grids fit once on the original weights
    bool gptq_mse = false;               // quant.py mse=True: per-row clip search instead of plain min/max
    double gptq_mse_norm = 2.4;          // error |Q(x) - x|^norm of the clip search
    int gptq_mse_grid = 100;             // shrink steps p = 1 - k / grid ...
    double gptq_mse_max_shrink = 0.8;    // ... for k < max_shrink * grid

    // Dense or packed student linears; results are equal, memory is not.
    QuantStorage storage = QuantStorage::Dense;

    // Which linears to quantize: projection names ("q_proj", "mlp.down_proj") or full linear names
    // ("layers.0.self_attn.q_proj"). Default: the seven projections of every decoder layer.
    std::vector<std::string> targets = projection_names();

    // Every problem, each with its JSON path under `path` ("$.quant.bits"): field ranges and what
    // the method accepts (its variants, bits, grouping).
    std::vector<config::Problem> problems(const std::string& path = "$") const;
    // Throws rilq::Error listing problems().
    void validate(const std::string& path = "$") const;

    // The variant, or the method's default when empty.
    std::string resolved_variant() const;

    // True when `linear_name` ("layers.3.mlp.up_proj") is selected by `targets`.
    bool is_target(const std::string& linear_name) const;

    // "rtn w2 g64 omniquant", "icq-nf w2 g64 bnb icq_tau_n=50" (plus the knobs the method reads
    // that differ from their defaults), for logs and labels.
    std::string describe() const;

    // Number of code levels, 2^bits.
    int levels() const { return 1 << bits; }
};

// The experiment's quant.* keys, in order: method, bits, group_size, variant, then the knobs.
const std::vector<config::Field<QuantSpec>>& quant_spec_fields();

// Every field under its key (quant_stats.json's and quant_codes.json's "spec").
nlohmann::json quant_spec_json(const QuantSpec& spec);
// Missing keys keep their defaults; unknown keys, bad values and what the method does not accept
// are an Error naming every problem by its JSON path under `path`.
QuantSpec quant_spec_from_json(const nlohmann::json& j, const std::string& path = "$");

} // namespace rilq
