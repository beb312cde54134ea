// IR-QLoRA's instruction fine-tuning as a trainer objective (core/rilq/objective.h): the student
// (quantized, with LoRA + IEC adapters attached) minimises sft_loss.h on Alpaca examples.
// The trainer's rows are example numbers, one column: rows(n) gives the tensor to hand it for n
// examples; the objective holds the tokenized examples and turns a batch of numbers into a
// padded micro-batch (sft_batch.h).
//   - training rows: reordered for every pass by length_grouped_order.h (data_seed, grouped by
//     micro-batch x accumulation rows, as HF's sampler gets train_batch_size x accumulation);
//   - losses: gt_loss = total = the masked CE (no discrepancy part, a_loss undefined); the
//     validation loss is the row-weighted mean over eval batches, as HF's eval_loss.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/finetune/sft_example.h"
#include "core/rilq/objective.h"

namespace rilq {

class LlamaModel;

struct SftObjectiveOptions {
    int64_t pad_id = 0; // fills the batches' padding (any id of the model; sft_batch.h)
    bool train_on_source = false;
    bool pad_class = true; // the [PAD] class in the softmax (sft_loss.h)
    bool group_by_length = true;
    uint64_t data_seed = 42;
    int64_t group_batch_size = 16; // micro-batch x accumulation
    std::string resume_key;        // what a resumed run must match (data file sha256, settings), JSON
    bool checkpoint_layers = false; // finetune.activation_checkpointing (ForwardOptions::checkpoint_layers)
};

class SftObjective final : public TrainObjective {
  public:
    // `student` must outlive the objective. Error when either list is empty, or when an example is
    // longer than the model's context.
    SftObjective(const LlamaModel& student, std::vector<SftExample> train, std::vector<SftExample> eval,
                 SftObjectiveOptions options);

    // (n, 1) int64: 0 .. n-1, the trainer's rows for n examples.
    static torch::Tensor rows(int64_t n);

    LossParts loss(DataSplit split, const torch::Tensor& ids, int64_t first) override;
    torch::Tensor train_order(int64_t epoch, int64_t rows) override;
    std::string resume_key() const override { return options_.resume_key; }
    double validation_loss(double /*a_loss*/, double gt_loss) const override { return gt_loss; }
    std::string name() const override { return "sft"; }

    const std::vector<SftExample>& examples(DataSplit split) const {
        return split == DataSplit::Train ? train_ : eval_;
    }

  private:
    const LlamaModel& student_;
    std::vector<SftExample> train_, eval_;
    std::vector<int64_t> train_lengths_;
    SftObjectiveOptions options_;
    torch::Tensor pad_row_;
};

} // namespace rilq
