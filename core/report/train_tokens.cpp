#include "core/report/train_tokens.h"

#include <cmath>
#include <cstdlib>

namespace rilq::report {

namespace {
// A positive finite number stored under `key`; 0 otherwise.
double positive_train_param(const std::map<std::string, std::string>& params, const std::string& key) {
    const auto it = params.find(key);
    if (it == params.end() || it->second.empty()) return 0.0;
    char* end = nullptr;
    const double value = std::strtod(it->second.c_str(), &end);
    return end && *end == '\0' && std::isfinite(value) && value > 0.0 ? value : 0.0;
}
} // namespace

double train_tokens_per_update(const std::map<std::string, std::string>& params) {
    return positive_train_param(params, "rilq.approx_batch_size") *
           positive_train_param(params, "rilq.gradient_accumulation_steps") *
           positive_train_param(params, "rilq.calib_max_length");
}

} // namespace rilq::report
