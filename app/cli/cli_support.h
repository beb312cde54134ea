// Shared plumbing for the subcommands: argument parsing with usage on error, the
// start-up checks every command runs, and turning core errors into exit codes.
#pragma once
#include <QCommandLineParser>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <functional>
#include <string>

#include "core/util/progress.h"

namespace rilq::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// Parses `args` (args[0] = program + subcommand). Handles --help (prints, returns kExitOk
// through `exit_code`) and errors (usage on stderr, kExitUsage). Returns true to go on.
bool parse_args(QCommandLineParser& parser, const QStringList& args, const QString& description,
                int min_positional, int max_positional, int& exit_code);

// Sets threads (--threads or RILQ_THREADS) and prints the BLAS warning if any.
void init_runtime(int threads = 0);

// A cancel token that SIGINT (Ctrl-C), SIGTERM and SIGHUP set, so long work stops cleanly (runs
// end KILLED with their best adapters saved, not half-written; core/util/stop_signals.h). A
// second one kills the process the usual way.
const CancelToken* interrupt_cancel_token();

// 128 + the signal that stopped the work (130 for SIGINT, 143 for SIGTERM, the shell's
// convention), else `code`.
int exit_code_after_stop(int code);

// Runs `body`; rilq::Error and std::exception become one line "rilq: error: ..." and exit 1.
int run_guarded(const std::function<int()>& body);

std::string to_std(const QString& s);

// Reads --NAME into `target` when it is given. False, with a line on stderr naming the option and
// the value, when it is not an integer >= min / a finite number >= min.
bool read_integer_option(const QCommandLineParser& parser, const char* name, int64_t& target, int64_t min);
bool read_number_option(const QCommandLineParser& parser, const char* name, double& target, double min);

// Progress on stderr. On a terminal: one carriage-return line redrawn ~10 times a second. Else
// (a Slurm job log, CI, `2> file`): a plain line every kLogIntervalS seconds, never a redraw, so
// logs stay readable and small.
class ProgressLine {
public:
    static constexpr double kLogIntervalS = 5.0;
    explicit ProgressLine(bool enabled = true);
    ~ProgressLine();
    void update(const std::string& stage, long long done, long long total, const std::string& unit, double eta_s);
    void finish();

private:
    bool enabled_;
    bool redraw_; // stderr is a terminal
    bool dirty_ = false;
    double last_s_ = -1.0;
};

} // namespace rilq::cli
