#include "core/cluster/slurm_client.h"

#include "core/util/error.h"

#include <cstdio>
#include <sstream>

namespace rilq::cluster {

namespace {

std::vector<std::string> split_fields(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::string field;
    std::istringstream in(text);
    while (std::getline(in, field, separator))
        out.push_back(field);
    if (!text.empty() && text.back() == separator) out.emplace_back();
    return out;
}

std::string trimmed_text(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// A task index, or -1 for anything else (a pending range "[2-5%2]", "N/A").
int task_index(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoi(text);
}

std::string node_or_empty(const std::string& nodes) {
    return nodes == "None assigned" || nodes == "(null)" ? std::string() : nodes;
}

} // namespace

int64_t parse_slurm_duration(const std::string& raw) {
    const std::string text = trimmed_text(raw);
    if (text.empty() || text.find_first_not_of("0123456789:-") != std::string::npos) return -1;
    int64_t days = 0;
    std::string clock = text;
    const size_t dash = text.find('-');
    if (dash != std::string::npos) {
        days = std::stoll(text.substr(0, dash));
        clock = text.substr(dash + 1);
    }
    std::vector<int64_t> parts;
    for (const auto& p : split_fields(clock, ':')) {
        if (p.empty()) return -1;
        parts.push_back(std::stoll(p));
    }
    if (parts.empty() || parts.size() > 3) return -1;
    int64_t seconds = 0;
    if (dash != std::string::npos) {
        // D-HH, D-HH:MM, D-HH:MM:SS
        const int64_t scale[] = {3600, 60, 1};
        for (size_t i = 0; i < parts.size(); ++i)
            seconds += parts[i] * scale[i];
    } else {
        // SS, MM:SS, HH:MM:SS
        for (const int64_t p : parts)
            seconds = seconds * 60 + p;
    }
    return days * 86400 + seconds;
}

std::string slurm_duration_text(int64_t s) {
    char buffer[48];
    if (s >= 86400)
        std::snprintf(buffer, sizeof buffer, "%lld-%02lld:%02lld:%02lld", static_cast<long long>(s / 86400),
                      static_cast<long long>(s / 3600 % 24), static_cast<long long>(s / 60 % 60),
                      static_cast<long long>(s % 60));
    else
        std::snprintf(buffer, sizeof buffer, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    return buffer;
}

std::vector<SlurmTaskState> parse_squeue(const std::string& out) {
    std::vector<SlurmTaskState> tasks;
    for (const auto& line : split_fields(out, '\n')) {
        const auto f = split_fields(trimmed_text(line), '|');
        if (f.size() < 5) continue;
        SlurmTaskState t;
        t.task = task_index(f[0]);
        if (t.task < 0) continue;
        t.state = f[1];
        t.node = node_or_empty(f[2]);
        t.elapsed_s = std::max<int64_t>(0, parse_slurm_duration(f[3]));
        t.reason = f[4];
        tasks.push_back(t);
    }
    return tasks;
}

std::vector<SlurmTaskState> parse_sacct(const std::string& out) {
    std::vector<SlurmTaskState> tasks;
    for (const auto& line : split_fields(out, '\n')) {
        const auto f = split_fields(trimmed_text(line), '|');
        if (f.size() < 6) continue;
        const size_t underscore = f[0].find('_');
        if (underscore == std::string::npos) continue;
        SlurmTaskState t;
        t.task = task_index(f[0].substr(underscore + 1));
        if (t.task < 0) continue;
        t.state =
            split_fields(f[1], ' ').empty() ? f[1] : split_fields(f[1], ' ').front(); // "CANCELLED by 0"
        t.node = node_or_empty(f[2]);
        t.elapsed_s = f[3].empty() ? 0 : std::max<int64_t>(0, parse_slurm_duration(f[3]));
        t.reason = f[4];
        t.exit_code = f[5];
        tasks.push_back(t);
    }
    return tasks;
}

ProcessResult SlurmClient::call(const std::vector<std::string>& argv, bool must_succeed) {
    ProcessResult r = runner_.run(argv);
    if (must_succeed && r.exit_code != 0)
        throw Error(command_line(argv) + " failed (exit " + std::to_string(r.exit_code) +
                    "): " + trimmed_text(r.err.empty() ? r.out : r.err));
    return r;
}

std::string SlurmClient::submit(const std::string& script, const std::vector<std::string>& options) {
    std::vector<std::string> argv = {"sbatch", "--parsable"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(script);
    const ProcessResult r = call(argv, true);
    // --parsable: "jobid" or "jobid;cluster".
    const std::string id = trimmed_text(split_fields(trimmed_text(r.out), ';').empty()
                                            ? r.out
                                            : split_fields(trimmed_text(r.out), ';').front());
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw Error(command_line(argv) + " printed no job id: \"" + trimmed_text(r.out) + "\"");
    return id;
}

std::map<int, SlurmTaskState> SlurmClient::tasks(const std::string& job_id,
                                                 const std::vector<int>& expected) {
    std::map<int, SlurmTaskState> out;
    // --array: one line per task, pending ones included; --states=all: finished ones too, while the
    // controller still holds them (MinJobAge).
    const ProcessResult q = call(
        {"squeue", "--array", "--noheader", "--states=all", "--jobs=" + job_id, "--format=%K|%T|%N|%M|%r"},
        false);
    // A job the controller has forgotten is "Invalid job id": not an error, sacct may know it.
    if (q.exit_code != 0 && q.err.find("Invalid job id") == std::string::npos)
        throw Error("squeue --jobs=" + job_id + " failed (exit " + std::to_string(q.exit_code) +
                    "): " + trimmed_text(q.err));
    for (const auto& t : parse_squeue(q.out))
        out[t.task] = t;
    bool missing = false;
    for (const int task : expected)
        missing = missing || !out.count(task);
    if (!missing) return out;
    const ProcessResult a = call({"sacct", "--jobs=" + job_id, "--allocations", "--noheader", "--parsable2",
                                  "--format=JobID,State,NodeList,ElapsedRaw,Reason,ExitCode"},
                                 false);
    if (a.exit_code == 0)
        for (const auto& t : parse_sacct(a.out))
            if (!out.count(t.task)) out[t.task] = t;
    return out;
}

void SlurmClient::cancel(const std::string& job_id) {
    call({"scancel", job_id}, true);
}

} // namespace rilq::cluster
