#include "core/util/temp_sibling.h"

#include "core/store/process_identity.h"

#include <filesystem>
#include <random>
#include <vector>

namespace fs = std::filesystem;

namespace rilq {

namespace {

bool consists_of_chars(const std::string& s, const char* allowed) {
    return !s.empty() && s.find_first_not_of(allowed) == std::string::npos;
}

struct ParsedSibling {
    bool is_old = false;
    store::ProcessIdentity owner;
};

std::vector<std::string> split_sibling_fields(const std::string& s, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(sep, start);
        parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

// `name` = "<target>.tmp-<host>-<pid>-<start>-<random>" (or ".old-"), or the format before
// process start times were recorded: "<target>.tmp-<pid>-<random>[.old]".
bool parse_sibling(const std::string& name, const std::string& target_name, ParsedSibling& out) {
    for (const char* kind : {".tmp-", ".old-"}) {
        const std::string prefix = target_name + kind;
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        std::string rest = name.substr(prefix.size());
        out.is_old = kind[1] == 'o';
        if (!out.is_old && rest.size() > 4 && rest.compare(rest.size() - 4, 4, ".old") == 0) {
            out.is_old = true; // legacy "<target>.tmp-<pid>-<random>.old"
            rest.resize(rest.size() - 4);
        }
        const auto parts = split_sibling_fields(rest, '-');
        constexpr const char* digits = "0123456789";
        try {
            if (parts.size() == 4 && consists_of_chars(parts[0], "0123456789abcdef") &&
                parts[0].size() == 8 && consists_of_chars(parts[1], digits) &&
                consists_of_chars(parts[2], digits) && consists_of_chars(parts[3], digits)) {
                out.owner.host_tag = parts[0];
                out.owner.pid = std::stoll(parts[1]);
                out.owner.start_ticks = std::stoll(parts[2]);
                return true;
            }
            if (parts.size() == 2 && consists_of_chars(parts[0], digits) &&
                consists_of_chars(parts[1], digits)) {
                out.owner = store::ProcessIdentity::current(); // legacy names carry no host
                out.owner.pid = std::stoll(parts[0]);
                out.owner.start_ticks = 0;
                return true;
            }
        } catch (const std::exception&) {
            return false; // numbers out of range: not ours
        }
    }
    return false;
}

} // namespace

std::string temp_sibling(const std::string& target, const char* kind) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const store::ProcessIdentity self = store::ProcessIdentity::current();
    std::string path = target;
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path + "." + kind + "-" + self.host_tag + "-" + std::to_string(self.pid) + "-" +
           std::to_string(self.start_ticks) + "-" + std::to_string(rng() % 1000000007ULL);
}

int clean_stale_temp_siblings(const std::string& target) {
    fs::path path = fs::path(target).lexically_normal();
    if (path.filename().empty()) path = path.parent_path();
    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    const std::string target_name = path.filename().string();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) return 0;
    std::vector<fs::path> dead_temps, dead_olds;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        ParsedSibling sibling;
        if (!parse_sibling(it->path().filename().string(), target_name, sibling)) continue;
        if (sibling.owner.alive()) continue;
        (sibling.is_old ? dead_olds : dead_temps).push_back(it->path());
    }
    int cleaned = 0;
    // A swap cut short between "target -> old" and "tmp -> target": the old version comes back.
    if (!fs::exists(path, ec) && !dead_olds.empty()) {
        fs::rename(dead_olds.front(), path, ec);
        if (!ec) {
            ++cleaned;
            dead_olds.erase(dead_olds.begin());
        }
    }
    for (const auto& list : {dead_temps, dead_olds}) {
        for (const auto& p : list) {
            fs::remove_all(p, ec);
            if (!ec) ++cleaned;
        }
    }
    return cleaned;
}

} // namespace rilq
