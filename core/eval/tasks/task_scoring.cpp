#include "core/eval/tasks/task_scoring.h"

#include <cmath>
#include <limits>

namespace rilq {

int64_t argmax_first(const std::vector<double>& values) {
    int64_t best = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        if (std::isnan(values[i])) return static_cast<int64_t>(i);
        if (values[i] > values[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
    }
    return best;
}

double mean_of(const std::vector<double>& values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    for (double v : values)
        sum += v;
    return sum / static_cast<double>(values.size());
}

double mean_stderr(const std::vector<double>& values) {
    const size_t n = values.size();
    if (n < 2) return std::numeric_limits<double>::quiet_NaN();
    const double mu = mean_of(values);
    double ss = 0.0;
    for (double v : values)
        ss += (v - mu) * (v - mu);
    return std::sqrt(ss / static_cast<double>(n - 1)) / std::sqrt(static_cast<double>(n));
}

} // namespace rilq
