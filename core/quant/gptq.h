// GPTQ (Frantar et al. 2022) for one linear, with the semantics of IST-DASLab's gptq.py /
// quant.py (the loop AutoGPTQ and GPTQModel share) and GPTQModel's damping retry:
//
//   H = 2/N sum_x x x^T  as a running average over batches (GptqHessian::add_batch)
//   dead columns (H_ii = 0): H_ii = 1, W[:, i] = 0
//   act-order: columns sorted by H_ii descending, the order undone at the end
//   Hinv = upper Cholesky factor of (H + damp I)^-1, damp = damp_percent * mean(diag H)
//   for blocks of block_size columns, for each column i of the block:
//       at a group start: fit the min/max grid of the group (see below)
//       q = Q(w_i); loss += (w_i - q)^2 / Hinv_ii^2 / 2
//       e = (w_i - q) / Hinv_ii;  W1[:, i:] -= e Hinv[i, i:]            (inside the block)
//   after each block: W[:, end:] -= E Hinv[block, end:]                 (the rest of the matrix)
//
// The grid is quant.py's Quantizer (perchannel, weight): the range [min(x, 0), max(x, 0)] always
// holds 0; asymmetric zero = round(-min / scale), symmetric zero = (maxq + 1) / 2; optionally the
// MSE clip search (shrink p = 1 - k/grid, k < maxshrink * grid, error sum |Q(x) - x|^norm).
// Quirks kept on purpose, because every GPTQ implementation has them and results must match:
//   * per channel (group_size 0, gptq.py -1), the grid is fit on the weight *before* dead columns are zeroed;
//   * a dynamic group is fit on W[:, start:start+group_size] as updated by the blocks before the
//     current one - the current block's in-block updates live in its working copy and are not seen;
//   * static groups are fit once, after dead columns are zeroed, on the original column order.
// When a Cholesky factorization fails, damp_percent grows by damp_increment (GPTQModel's
// damp_auto_increment) and the factorization is retried; the record keeps the damping used
// and the retries, and each retry is logged.
//
// Registered as method "gptq" (gptq_method()): quantize_model feeds it each linear's inputs
// in llama.py's true-sequential order (core/quant/quantize_model.h) and it builds the Hessian.
//
// Legend: O rows (out_features), I columns (in_features), G groups per row, N calibration samples.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/util/tensor.h"

#include "core/quant/quantizer.h"

namespace rilq {

// The calibration Hessian of one linear (gptq.py GPTQ.add_batch).
class GptqHessian {
  public:
    GptqHessian() = default;
    explicit GptqHessian(int64_t columns);

    // x: (B, T, I) counts as B samples; (T, I) as one sample (gptq.py unsqueezes 2-D inputs).
    // Any floating dtype; the product is taken in fp32.
    void add_batch(const torch::Tensor& x);

    const torch::Tensor& matrix() const { return H_; } // (I, I) f32
    int64_t samples() const { return samples_; }
    int64_t columns() const { return H_.defined() ? H_.size(0) : 0; }

  private:
    torch::Tensor H_;
    int64_t samples_ = 0;
};

// What GPTQ records beside codes and grids (quant_stats.json "gptq", quant_codes' g_idx).
class GptqRecord : public QuantRecord {
  public:
    // (I) int64: the group of each column, w_hat[:, i] = (code - zeros[:, g]) * scales[:, g] with
    // g = group_index[i] (AutoGPTQ's g_idx). With act-order and dynamic groups a group is a run of
    // the permuted column order, so the common group metrics (runs of original columns) are not
    // the scale groups then.
    torch::Tensor group_index;
    torch::Tensor perm;               // (I) int64 act-order: position -> original column; undefined without
    bool groups_in_act_order = false; // act-order with dynamic groups
    double loss = 0.0;                // sum of (w - q)^2 / Hinv_ii^2 / 2 (the "error" gptq.py prints)
    double damp_percent = 0.0;        // the damping that made the Cholesky factorizations succeed
    int damp_retries = 0;             // how many times it was raised
    int64_t dead_columns = 0;         // columns whose calibration inputs are all 0
    int64_t samples = 0;              // calibration samples behind the Hessian
    double seconds = 0.0;

    // metrics gptq_loss, gptq_damp_percent, gptq_damp_retries, gptq_dead_columns.
    MethodStats stats(const QuantResult& result, const torch::Tensor& weight,
                      const torch::Tensor& group_entropy, const MetricsOptions& options) const override;
    void add_code_tensors(const QuantResult& result, const QuantSpec& spec, const std::string& prefix,
                          std::vector<std::pair<std::string, torch::Tensor>>& out) const override;
    torch::Tensor column_groups() const override { return group_index; }
};

// The result's GPTQ record; Error when it has none.
const GptqRecord& gptq_record(const QuantResult& result);

using GptqLog = std::function<void(const std::string& message)>;

// weight: (O, I) floating, finite; hessian: (I, I) from GptqHessian (not modified). The result
// holds a GptqRecord. Errors name `name`: a non-finite Hessian (NaN / Inf calibration inputs), a
// shape mismatch, or a Hessian that no damping below 1 makes positive definite. `log` gets one
// line per damping retry (the record keeps the damping used either way). spec: method gptq (bits,
// group_size with 0 = one grid per row as gptq.py's -1, variant gptq-sym = symmetric, the gptq_*
// knobs).
QuantResult gptq_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const QuantSpec& spec,
                          const std::string& name, const GptqLog& log = {});

// The registry entry of "gptq".
const QuantMethod& gptq_method();

} // namespace rilq
