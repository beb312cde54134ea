// Options shared by `rilq quantize` and `rilq qstats`: the quantization spec flags, the
// optional calibration windows (for the output error), progress with Ctrl-C, the summary.
#pragma once
#include <QCommandLineParser>
#include <memory>
#include <ostream>
#include <string>

#include "app/cli/cli_support.h"
#include "core/quant/quantize_model.h"
#include "core/util/progress.h"

namespace rilq::cli {

// --method --bits --group --variant --set KEY=VALUE --targets --spec: what quant_spec_from_options
// reads.
void add_quant_spec_options(QCommandLineParser& parser);
// The spec options plus --no-spectrum --calib NAME=PATH --calib-samples --calib-seqlen
// (model options come from add_model_options).
void add_quant_options(QCommandLineParser& parser);

// Builds the spec from the options (--spec FILE.json first, options override), read like an
// experiment's quant section. Throws rilq::Error naming the JSON path and the bad value.
QuantSpec quant_spec_from_options(const QCommandLineParser& parser);
MetricsOptions metrics_from_options(const QCommandLineParser& parser);

// (N, T) calibration windows drawn as RILQ does (core/data, seed 42, no validation split) from
// the --calib datasets; undefined when none is given.
torch::Tensor calibration_ids_from_options(const QCommandLineParser& parser, const LlamaModel& model,
                                           const std::string& model_path, const ProgressSink& progress);

// A progress bar on stderr with Ctrl-C cancellation (interrupt_cancel_token).
class QuantProgress {
  public:
    explicit QuantProgress(bool enabled);
    const ProgressSink& sink() const { return sink_; }
    void finish() { line_->finish(); }

  private:
    std::unique_ptr<ProgressLine> line_;
    ProgressSink sink_;
};

// Overall error, SQNR, entropy, ICQ gain, output error and time; then one line per projection type.
void print_quant_summary(const ModelQuantResult& result, std::ostream& out);

} // namespace rilq::cli
