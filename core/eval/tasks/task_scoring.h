// The arithmetic of task scores, as the reference code does it:
//   prediction  numpy.argmax: the first maximum wins a tie, and a NaN counts as the maximum
//               (an acc_norm over a zero-length choice divides by zero, as lm-eval does);
//   accuracy    the mean of the per-item 0/1 scores;
//   stderr      lm-eval's mean_stderr: sample standard deviation (n - 1) / sqrt(n), NaN below 2 items.
#pragma once
#include <cstdint>
#include <vector>

namespace rilq {

int64_t argmax_first(const std::vector<double>& values);
double mean_of(const std::vector<double>& values);
double mean_stderr(const std::vector<double>& values);

} // namespace rilq
