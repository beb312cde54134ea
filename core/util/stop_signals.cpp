#include "core/util/stop_signals.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace rilq {

namespace {

CancelToken g_stop;
std::atomic<int> g_signal{0};
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Built before any handler runs: the handler may only call async-signal-safe functions.
char g_message[3][160];

void say_signal_safe(const char* text) {
    // write(2) is async-signal-safe; stdio is not. Nothing useful can be done if it fails.
    const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
    (void)ignored;
}

extern "C" void on_stop_signal(int signal) {
    int expected = 0;
    g_signal.compare_exchange_strong(expected, signal);
    g_stop.cancel();
    // The next one of these takes the default action: a user or scheduler can still insist.
    for (const int s : kStopSignals) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ::sigaction(s, &dfl, nullptr);
    }
    say_signal_safe(g_message[signal == SIGINT ? 0 : signal == SIGTERM ? 1 : 2]);
}

} // namespace

const CancelToken& install_stop_signals() {
    static const bool installed = [] {
        const char* name = program_invocation_short_name;
        std::snprintf(g_message[0], sizeof g_message[0],
                      "\n%s: interrupted: stopping cleanly (Ctrl-C again to stop at once)\n", name);
        std::snprintf(g_message[1], sizeof g_message[1],
                      "\n%s: SIGTERM: stopping cleanly (send it again to stop at once)\n", name);
        std::snprintf(g_message[2], sizeof g_message[2],
                      "\n%s: SIGHUP: stopping cleanly (send it again to stop at once)\n", name);
        for (const int s : kStopSignals) {
            struct sigaction current {};
            // An ignored signal stays ignored (nohup, background jobs of a non-interactive shell).
            if (::sigaction(s, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
            struct sigaction action {};
            action.sa_handler = on_stop_signal;
            sigemptyset(&action.sa_mask);
            action.sa_flags = SA_RESTART; // blocking reads and writes carry on; the work checks the token
            ::sigaction(s, &action, nullptr);
        }
        return true;
    }();
    (void)installed;
    return g_stop;
}

int stop_signal() {
    return g_signal.load();
}

std::string signal_name(int signal) {
    switch (signal) {
    case 0:
        return "";
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "signal " + std::to_string(signal);
    }
}

} // namespace rilq
