// Running a command-line tool and collecting what it printed. The Slurm backend talks to Slurm
// only through its command-line tools (sbatch, squeue, sacct, scancel) and only through this
// interface, so a test can put a scripted fake in its place where no real cluster can show a
// state (a node failure, an out-of-memory kill, a time limit).
#pragma once
#include <string>
#include <vector>

namespace rilq::cluster {

struct ProcessResult {
    int exit_code = -1; // the program's exit status; -1 when it could not start or was killed
    std::string out;    // standard output
    std::string err;    // standard error (or why the program could not start)
};

class ProcessRunner {
  public:
    virtual ~ProcessRunner() = default;
    // Runs argv[0] (looked up in PATH) with the given arguments and this process's environment.
    virtual ProcessResult run(const std::vector<std::string>& argv) = 0;
};

// The real thing: posix_spawnp, both output streams read through pipes, a time limit after
// which the program is killed (a hung Slurm controller must not hang the submitting side).
class SystemProcessRunner final : public ProcessRunner {
  public:
    explicit SystemProcessRunner(int timeout_ms = 60000) : timeout_ms_(timeout_ms) {}
    ProcessResult run(const std::vector<std::string>& argv) override;

  private:
    int timeout_ms_;
};

// "sbatch --parsable job.sh": argv joined for messages, each word shell-quoted when needed.
std::string command_line(const std::vector<std::string>& argv);

// 'text' with single quotes escaped, for /bin/sh.
std::string shell_quote(const std::string& text);

} // namespace rilq::cluster
