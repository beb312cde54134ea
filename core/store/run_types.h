// The records the run store reads and writes. Times are Unix milliseconds.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rilq::store {

enum class RunStatus { Scheduled, Running, Finished, Failed, Killed, Interrupted };

const char* to_string(RunStatus status);                // "SCHEDULED", ...
RunStatus run_status_from_string(const std::string& s); // case-insensitive; Error on unknown
bool is_terminal(RunStatus status);                     // FINISHED, FAILED, KILLED, INTERRUPTED
// SCHEDULED -> RUNNING | FAILED | KILLED; RUNNING -> FINISHED | FAILED | KILLED | INTERRUPTED;
// FAILED | KILLED | INTERRUPTED -> RUNNING (resume); FINISHED is final.
bool is_allowed_transition(RunStatus from, RunStatus to);

int64_t now_ms();

struct NewRun {
    std::string experiment;        // created on first use
    std::string experiment_config; // the experiment document (stored once per experiment)
    std::string name;              // "lora_r=16"
    std::string config_json;       // the run's full single-point document
    std::string config_hash;
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<std::pair<std::string, std::string>> tags;
    std::string uuid{}; // "" = a new one (new_run_uuid); set it when the id is needed before the record
};

struct MetricPoint {
    int64_t step = 0;
    double value = 0.0; // NaN when is_nan
    int64_t timestamp_ms = 0;
};

// What listing runs shows for one metric key, without scanning its history.
struct MetricSummary {
    double latest = 0.0; // NaN when the latest value was NaN
    int64_t latest_step = 0;
    bool has_best = false; // false while every value was NaN
    double min = 0.0;
    int64_t min_step = 0;
    double max = 0.0;
    int64_t max_step = 0;
};

struct LayerStat {
    std::string stage; // fp | quantized | compensated (the store refuses "finetuned" here)
    int layer = 0;
    std::string module; // "self_attn.q_proj"
    std::string metric; // "rel_error", "sqnr_db", ... (core/run/layer_stats.h)
    double value = 0.0;
};

// One perplexity measurement with its protocol, so numbers stay comparable.
struct EvalResult {
    std::string dataset; // the experiment's dataset name
    std::string stage;   // run_stages(): fp | quantized | compensated | finetuned
    std::string file_sha256;
    std::string tokenizer;
    int seqlen = 0;
    int64_t n_windows = 0;
    int64_t n_tokens = 0;
    double ppl = 0.0;
    int64_t timestamp_ms = 0; // 0 = now
};

// One downstream-task accuracy (core/eval/tasks) with the protocol it was measured under.
// Metrics a task does not define (acc_norm of MMLU, WinoGrande, BoolQ) are NaN (NULL in SQL).
struct TaskGroupScore {
    std::string kind; // "category" | "subcategory" | "subject" (MMLU)
    std::string name; // "STEM", "math", "abstract_algebra"
    int64_t n = 0;
    double acc = 0.0;
};

struct TaskScore {
    std::string task;  // "mmlu", "arc_easy", ... (core/eval/tasks/task.h task_infos)
    std::string stage; // run_stages(): fp | quantized | compensated | finetuned
    int64_t n = 0;
    double acc = 0.0;
    double acc_stderr = 0.0;
    double acc_norm = 0.0;
    double acc_norm_stderr = 0.0;
    int64_t shots = 0;
    std::string data_sha256;
    std::string tokenizer;
    std::string bos; // "bos" | "none"
    int64_t max_length = 0;
    std::string protocol_json; // the whole protocol record (files, limit, subjects, scoring, ...)
    std::vector<TaskGroupScore> groups;
    int64_t timestamp_ms = 0; // 0 = now
};

struct Artifact {
    std::string kind; // "adapter", "quantized_model", "run_summary", ...
    std::string path;
    std::string sha256;
    int64_t size_bytes = 0;
};

struct RunSummary {
    std::string uuid;
    std::string experiment;
    std::string name;
    RunStatus status = RunStatus::Scheduled;
    std::optional<int64_t> start_time_ms;
    std::optional<int64_t> end_time_ms;
    std::optional<int64_t> heartbeat_ms;
    std::string config_hash;
    std::string program_version;
    std::string host;
    int64_t pid = 0;
    std::string status_message;
    std::map<std::string, MetricSummary> metrics; // filled by list_runs / get_run
    std::map<std::string, std::string> params;    // filled when asked for
};

struct RunDetail {
    RunSummary summary;
    std::string config_json;
    std::map<std::string, std::string> tags;
    std::vector<EvalResult> eval_results;
    std::vector<TaskScore> task_scores;
    std::vector<Artifact> artifacts;
};

struct RunFilter {
    std::string experiment; // exact name; "" = all
    std::optional<RunStatus> status;
    std::string name_contains; // substring of the run name; "" = all
    bool with_params = false;
    int limit = 0; // 0 = no limit
};

// A param of two runs side by side (absent on one side = nullopt).
struct ParamDiff {
    std::string key;
    std::optional<std::string> a;
    std::optional<std::string> b;
    bool differs() const { return a != b; }
};

// The params of two runs by key, sorted; only those that differ unless `include_equal`. The one
// param diff: `rilq runs diff` (through RunStore::diff_params) and the GUI's run browser.
std::vector<ParamDiff> diff_params(const std::map<std::string, std::string>& a,
                                   const std::map<std::string, std::string>& b, bool include_equal = false);

struct ExperimentInfo {
    int64_t id = 0;
    std::string name;
    int64_t creation_time_ms = 0;
    int64_t run_count = 0;
};

} // namespace rilq::store
