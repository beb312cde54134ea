// The order in which training examples are batched, as HF Trainer's LengthGroupedSampler draws it
// for group_by_length (transformers 4.35 trainer_pt_utils.get_length_grouped_indices):
//   - a random permutation of the rows (torch.randperm);
//   - cut into megabatches of mega_batch_mult * batch_size rows, mega_batch_mult =
//     min(rows / (4 * batch_size), 50), at least 1; batch_size = micro-batch x accumulation;
//   - each megabatch sorted by length, longest first (a stable sort: ties keep the draw's order);
//   - the first element swapped with the longest megabatch's first (argmax: the first maximum).
// One draw per pass over the data (the sampler is iterated once per epoch).
//
// Seeding: HF draws from torch's global generator, seeded with TrainingArguments.seed and then
// advanced by whatever else used it before the loader (model init, DataLoader's base seed, ...),
// which no other program can replay. Here pass e is the (e+1)-th draw of a CPU torch::Generator
// seeded with data_seed: the same algorithm on a stated, reproducible stream.
#pragma once
#include <cstdint>
#include <vector>

namespace rilq {

// get_length_grouped_indices for one draw. lengths: one per row (characters for Alpaca).
std::vector<int64_t> length_grouped_indices(const std::vector<int64_t>& lengths, int64_t batch_size,
                                            const std::vector<int64_t>& permutation);

// The order of pass `epoch` (0-based): length-grouped, or (group_by_length false) the plain
// permutation, as HF's RandomSampler would use it.
std::vector<int64_t> epoch_order(const std::vector<int64_t>& lengths, int64_t batch_size, uint64_t seed,
                                 int64_t epoch, bool group_by_length);

} // namespace rilq
