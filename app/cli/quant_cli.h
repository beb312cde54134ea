// Options shared by `rilq quantize` and `rilq qstats`: the quantization spec flags, Ctrl-C
// cancellation and the one-screen summary.
#pragma once
#include <QCommandLineParser>
#include <memory>
#include <ostream>
#include <string>

#include "app/cli/cli_support.h"

#include "core/quant/quantize_model.h"
#include "core/util/progress.h"

namespace rilq::cli {

// --method --bits --group --variant --double-quant --icq-* --targets --spec --no-spectrum --threads
void add_quant_options(QCommandLineParser& parser);

// Builds the spec from the options (--spec FILE.json first, flags override). Throws rilq::Error
// naming the option and the bad value.
QuantSpec quant_spec_from_options(const QCommandLineParser& parser);
MetricsOptions metrics_from_options(const QCommandLineParser& parser);
int threads_from_options(const QCommandLineParser& parser);

// A progress sink drawing `line` and cancelled by Ctrl-C (SIGINT) while it lives.
class InterruptibleProgress {
public:
    explicit InterruptibleProgress(bool enabled);
    ~InterruptibleProgress();
    InterruptibleProgress(const InterruptibleProgress&) = delete;
    InterruptibleProgress& operator=(const InterruptibleProgress&) = delete;
    const ProgressSink& sink() const { return sink_; }

private:
    std::unique_ptr<ProgressLine> line_;
    ProgressSink sink_;
    void (*previous_)(int) = nullptr;
};

// Overall error, SQNR, entropy, ICQ gain, output error and time; then one line per projection type.
void print_quant_summary(const ModelQuantResult& result, std::ostream& out);

} // namespace rilq::cli
