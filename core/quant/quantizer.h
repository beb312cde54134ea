// The one quantizer interface: an FP weight (out, in) in, its fake-quantized (dequantized)
// values plus everything needed to explain them (integer codes, scales, zeros, and the method's
// own record: ICQ's searches, NF's double quantization) out. Each method lives in its own unit
// (rtn.cpp, nf.cpp, icq_nf.cpp, icq_int.cpp) and is registered in quant_registry.h.
//
// Legend for shape comments: O out_features (rows), I in_features (cols), G groups per row,
// NB absmax blocks over the flattened weight, NS ICQ super-blocks, ND double-quant blocks,
// C candidates of a search.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

#include <nlohmann/json.hpp>

#include "core/quant/quant_registry.h"
#include "core/quant/quant_spec.h"

namespace rilq {

struct GroupLayout {
    GroupKind kind = GroupKind::RowGroups;
    int64_t rows = 0;       // O
    int64_t cols = 0;       // I
    int64_t group_size = 0; // nominal length (per channel: = cols)

    static GroupLayout row_groups(int64_t rows, int64_t cols,
                                  int64_t group_size); // group_size 0 = per channel
    static GroupLayout flat_blocks(int64_t rows, int64_t cols, int64_t block_size);

    int64_t numel() const { return rows * cols; }
    int64_t groups_per_row() const;  // RowGroups only
    int64_t num_groups() const;      // RowGroups: O*G; FlatBlocks: NB
    int64_t last_group_size() const; // length of a row's last group (RowGroups) or of the last block
    bool has_partial_group() const { return last_group_size() != group_size; }
    int64_t partial_groups() const; // how many groups are shorter than group_size
    // Length of group g (0-based, in num_groups() order).
    int64_t group_length(int64_t g) const;

    // Pads into (num_groups, group_size) with `pad` in the missing tail slots (a view-free copy).
    torch::Tensor to_padded(const torch::Tensor& flat_or_2d, double pad) const;
    // (num_groups) int64 lengths.
    torch::Tensor lengths() const;
};

struct QuantResult;
struct MetricsOptions;

// A method's own measurements of one linear, beside the common ones (metrics.h).
struct MethodStats {
    std::string key; // its object's key in quant_stats.json's linear entry ("icq"); "" = none
    nlohmann::json detail = nlohmann::json::object(); // that object
    // Scalars: one layer_stats row each (stage "quantized"), weight-averaged in the summaries.
    std::vector<std::pair<std::string, double>> metrics;
    double metric(const std::string& name, double fallback = std::numeric_limits<double>::quiet_NaN()) const;
};

// What a method records beyond codes and the common dequantization parameters: ICQ's search,
// NF's double quantization, a Hessian-based method's statistics. Everything that reads results
// (metrics, quant_codes, quant_stats.json, the run's layer stats) goes through this interface.
class QuantRecord {
  public:
    virtual ~QuantRecord() = default;
    // The method's own stats of one linear. `group_entropy`: (num_groups) f64 code entropy in bits.
    virtual MethodStats stats(const QuantResult& result, const torch::Tensor& weight,
                              const torch::Tensor& group_entropy, const MetricsOptions& options) const;
    // Tensors for quant_codes.safetensors under the linear's `prefix`, after codes, scales, zeros
    // and table (a method with a record writes its absmax itself).
    virtual void add_code_tensors(const QuantResult& result, const QuantSpec& spec, const std::string& prefix,
                                  std::vector<std::pair<std::string, torch::Tensor>>& out) const;
    virtual bool uses_dynamic_map() const { return false; }
    // What a packed weight (packed_quant_weight.h) needs beyond codes, grids and absmax:
    // (NB) f32 offsets added after the NF product (ICQ-NF's tau as dequantized), undefined = none;
    virtual torch::Tensor block_offsets() const { return {}; }
    // (I) int64 scale group of each column (GPTQ's g_idx), undefined = column / group_size.
    virtual torch::Tensor column_groups() const { return {}; }
    // Frees what only the stats needed before the result is kept (quantize_model keep_states).
    virtual void drop_working_copies() {}
};

struct QuantResult {
    GroupLayout layout;
    int bits = 0;
    torch::Tensor dequantized; // (O, I) f32: the fake-quantized weight
    torch::Tensor codes;       // (O, I) uint8 in [0, 2^bits)
    // Integer grids: per-group affine parameters, w_hat = (code - zero) * scale.
    torch::Tensor scales; // (O, G) f32
    torch::Tensor zeros;  // (O, G) f32 (integer valued)
    // NormalFloat grids: w_hat = table[code] * absmax (+ the method's offsets).
    torch::Tensor table;                 // (2^bits) f32 the NF code table
    torch::Tensor absmax;                // (NB) f32 absmax as used to dequantize (after double quant, if any)
    std::shared_ptr<QuantRecord> record; // the method's own; null when it keeps nothing more
};

// What a quantizer may see of a linear besides its weight.
struct QuantContext {
    std::string name; // "layers.3.mlp.up_proj", for errors
    // f32 calibration inputs X of this linear: (N, T, I) for N windows from quantize_model, which
    // feeds it the model as quantized so far, or (rows, I) as one sample from quantize_weight; given
    // to methods that need_calibration, undefined for the others.
    torch::Tensor inputs;
};

class Quantizer {
  public:
    explicit Quantizer(QuantSpec spec) : spec_(std::move(spec)) {}
    virtual ~Quantizer() = default;
    // weight: (O, I) f32 contiguous CPU, finite (quantize_weight checks).
    virtual QuantResult quantize(const torch::Tensor& weight, const QuantContext& context) const = 0;
    // Estimated storage per weight in bits (codes plus stored parameters in the formats the
    // sources use), with a note saying what is counted.
    virtual double bits_per_weight(std::string* note) const = 0;
    // How quant_codes.json's tensors turn back into weights.
    virtual std::string dequant_formula() const = 0;
    const QuantSpec& spec() const { return spec_; }

  protected:
    QuantSpec spec_; // validated, variant resolved
};

// The result's record as method type R (NfRecord, IcqNfRecord, ...); Error naming `what` when the
// result holds another method's record or none.
[[noreturn]] void throw_missing_record(const std::string& what);
template <class R> const R& record_as(const QuantResult& result, const std::string& what) {
    if (const auto* record = dynamic_cast<const R*>(result.record.get())) return *record;
    throw_missing_record(what);
}

// QuantMethod::make for quantizer class Q.
template <class Q> std::unique_ptr<Quantizer> make_quantizer_of(const QuantSpec& spec) {
    return std::make_unique<Q>(spec);
}

// The registered method's quantizer; Error listing the spec's problems.
std::unique_ptr<Quantizer> make_quantizer(const QuantSpec& spec);

// The checked entry point: validates the spec, requires a 2-D floating tensor with only finite
// values (a NaN/Inf is an Error naming the linear, the count and the first position), converts
// to f32 contiguous CPU and runs the method's quantizer. `inputs` (rows, I): QuantContext::inputs,
// required by methods that need calibration.
QuantResult quantize_weight(const torch::Tensor& weight, const QuantSpec& spec, const std::string& name,
                            const torch::Tensor& inputs = {});

// Throws rilq::Error if `weight` holds NaN or Inf: "<name>: 3 non-finite values, first nan at [2, 17]".
void check_finite(const torch::Tensor& weight, const std::string& name);

} // namespace rilq
