// Options shared by `rilq quantize` and `rilq qstats`: the quantization spec flags, the
// optional calibration windows (for the output error), progress with Ctrl-C, the summary.
#pragma once
#include <QCommandLineParser>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "app/cli/cli_support.h"
#include "core/quant/quantize_model.h"
#include "core/util/progress.h"

namespace rilq::cli {

// --method --bits --group --variant --double-quant --icq-* --targets --spec --no-spectrum
// --calib NAME=PATH --calib-samples --calib-seqlen (model options come from add_model_options).
void add_quant_options(QCommandLineParser& parser);

// Builds the spec from the options (--spec FILE.json first, flags override). Throws rilq::Error
// naming the option and the bad value.
QuantSpec quant_spec_from_options(const QCommandLineParser& parser);
MetricsOptions metrics_from_options(const QCommandLineParser& parser);

// (N, T) calibration windows drawn by RILQ's sampler (core/data, no validation split) from the
// --calib datasets, with GPTQ's counts and seed when spec is gptq; undefined when none is given.
torch::Tensor calibration_ids_from_options(const QCommandLineParser& parser, const LlamaModel& model,
                                           const std::string& model_path, const QuantSpec& spec,
                                           const ProgressSink& progress);

// A progress bar on stderr with Ctrl-C cancellation (interrupt_cancel_token).
class QuantProgress {
  public:
    explicit QuantProgress(bool enabled);
    const ProgressSink& sink() const { return sink_; }
    // Prints a note (GPTQ raising its damping) on its own line without breaking the bar.
    std::function<void(const std::string&)> log() const;
    void finish() { line_->finish(); }

  private:
    std::unique_ptr<ProgressLine> line_;
    ProgressSink sink_;
};

// Overall error, SQNR, entropy, ICQ gain, output error and time; then one line per projection type.
void print_quant_summary(const ModelQuantResult& result, std::ostream& out);

} // namespace rilq::cli
