#include "core/store/run_types.h"

#include "core/util/error.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace rilq::store {

const char* to_string(RunStatus status) {
    switch (status) {
    case RunStatus::Scheduled:
        return "SCHEDULED";
    case RunStatus::Running:
        return "RUNNING";
    case RunStatus::Finished:
        return "FINISHED";
    case RunStatus::Failed:
        return "FAILED";
    case RunStatus::Killed:
        return "KILLED";
    case RunStatus::Interrupted:
        return "INTERRUPTED";
    }
    return "?";
}

RunStatus run_status_from_string(const std::string& s) {
    std::string upper = s;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (auto status : {RunStatus::Scheduled, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                        RunStatus::Killed, RunStatus::Interrupted}) {
        if (upper == to_string(status)) return status;
    }
    throw Error("unknown run status \"" + s +
                "\" (expected SCHEDULED, RUNNING, FINISHED, FAILED, KILLED or INTERRUPTED)");
}

bool is_terminal(RunStatus status) {
    return status != RunStatus::Scheduled && status != RunStatus::Running;
}

bool is_allowed_transition(RunStatus from, RunStatus to) {
    switch (from) {
    case RunStatus::Scheduled:
        return to == RunStatus::Running || to == RunStatus::Failed || to == RunStatus::Killed;
    case RunStatus::Running:
        return to == RunStatus::Finished || to == RunStatus::Failed || to == RunStatus::Killed ||
               to == RunStatus::Interrupted;
    case RunStatus::Failed:
    case RunStatus::Killed:
    case RunStatus::Interrupted:
        return to == RunStatus::Running; // resumed
    case RunStatus::Finished:
        return false;
    }
    return false;
}

int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<ParamDiff> diff_params(const std::map<std::string, std::string>& a,
                                   const std::map<std::string, std::string>& b, bool include_equal) {
    std::map<std::string, ParamDiff> rows; // sorted by key
    for (const auto& [key, value] : a)
        rows[key] = {key, value, std::nullopt};
    for (const auto& [key, value] : b) {
        rows.emplace(key, ParamDiff{key, std::nullopt, std::nullopt});
        rows[key].b = value;
    }
    std::vector<ParamDiff> out;
    for (auto& [key, row] : rows)
        if (include_equal || row.differs()) out.push_back(std::move(row));
    return out;
}

} // namespace rilq::store
