#include "core/store/run_stages.h"

#include "core/util/error.h"

#include <algorithm>

namespace rilq::store {

const std::vector<std::string>& run_stages() {
    static const std::vector<std::string> stages = {"fp", "quantized", "compensated"};
    return stages;
}

void check_run_stage(const std::string& stage, const char* what) {
    const auto& stages = run_stages();
    if (std::find(stages.begin(), stages.end(), stage) != stages.end()) return;
    std::string expected;
    for (size_t i = 0; i < stages.size(); ++i)
        expected += (i == 0 ? "" : i + 1 == stages.size() ? " or " : ", ") + stages[i];
    throw Error(std::string(what) + " stage \"" + stage + "\": expected " + expected);
}

} // namespace rilq::store
