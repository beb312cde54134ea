#include "app/cli/cli_support.h"

#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/util/stop_signals.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace rilq::cli {

std::string to_std(const QString& s) { return s.toStdString(); }

bool read_integer_option(const QCommandLineParser& parser, const char* name, int64_t& target, int64_t min) {
    const QString key = QString::fromLatin1(name);
    if (!parser.isSet(key)) return true;
    bool ok = false;
    const qlonglong v = parser.value(key).toLongLong(&ok);
    if (!ok || v < min) {
        std::cerr << "rilq: --" << name << " takes an integer >= " << min << ", found \""
                  << to_std(parser.value(key)) << "\"\n";
        return false;
    }
    target = v;
    return true;
}

bool read_number_option(const QCommandLineParser& parser, const char* name, double& target, double min) {
    const QString key = QString::fromLatin1(name);
    if (!parser.isSet(key)) return true;
    bool ok = false;
    const double v = parser.value(key).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < min) {
        std::cerr << "rilq: --" << name << " takes a number >= " << min << ", found \""
                  << to_std(parser.value(key)) << "\"\n";
        return false;
    }
    target = v;
    return true;
}

bool parse_args(QCommandLineParser& parser, const QStringList& args, const QString& description,
                int min_positional, int max_positional, int& exit_code) {
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    if (!parser.parse(args)) {
        std::cerr << "rilq: " << to_std(parser.errorText()) << "\n\n" << to_std(parser.helpText());
        exit_code = kExitUsage;
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::cout << to_std(parser.helpText());
        exit_code = kExitOk;
        return false;
    }
    const auto n = parser.positionalArguments().size();
    if (n < min_positional || (max_positional >= 0 && n > max_positional)) {
        std::cerr << "rilq: wrong number of arguments\n\n" << to_std(parser.helpText());
        exit_code = kExitUsage;
        return false;
    }
    return true;
}

void init_runtime(int threads) {
    configure_threads(threads);
    const auto warning = blas_warning(detect_blas());
    if (!warning.empty()) std::cerr << "rilq: " << warning << "\n";
}

const CancelToken* interrupt_cancel_token() {
    return &install_stop_signals();
}

int exit_code_after_stop(int code) {
    return stop_signal() != 0 ? 128 + stop_signal() : code;
}

int run_guarded(const std::function<int()>& body) {
    try {
        return body();
    } catch (const Cancelled&) {
        std::cerr << "rilq: cancelled" << (stop_signal() ? " by " + signal_name(stop_signal()) : "") << "\n";
        return exit_code_after_stop(kExitError);
    } catch (const std::exception& e) {
        std::cerr << "rilq: error: " << e.what() << "\n";
        return kExitError;
    }
}

namespace {
double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}
std::string format_eta(double s) {
    if (s < 0) return "--:--";
    char buf[32];
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
    return buf;
}
} // namespace

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled), redraw_(isatty(fileno(stderr)) != 0) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& stage, long long done, long long total, const std::string& unit,
                          double eta_s) {
    if (!enabled_) return;
    const double t = now_s();
    if (!redraw_) {
        // A log file: one plain line every few seconds (the first one at once).
        if (last_s_ >= 0 && t - last_s_ < kLogIntervalS) return;
        last_s_ = t;
        std::string line = stage + " " + std::to_string(done) + "/" + std::to_string(total) + " " + unit;
        if (eta_s >= 0) line += "  ETA " + format_eta(eta_s);
        std::fprintf(stderr, "%s\n", line.c_str());
        std::fflush(stderr);
        return;
    }
    if (done < total && last_s_ >= 0 && t - last_s_ < 0.1) return;
    last_s_ = t;
    const int width = 30;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %s  ETA %s ", stage.c_str(), bar.c_str(), done, total, unit.c_str(),
                 format_eta(eta_s).c_str());
    std::fflush(stderr);
    dirty_ = true;
}

void ProgressLine::finish() {
    if (dirty_) std::fputc('\n', stderr);
    dirty_ = false;
}

} // namespace rilq::cli
