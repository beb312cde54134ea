#include "core/run/sweep_plan.h"

#include "core/run/config_document.h"
#include "core/run/experiment_config.h"
#include "core/run/run_outputs.h"

#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace rilq::run {

namespace {

// The path, marked when it is not there (a dry run checks, it does not fail: data may come later).
std::string existing(const std::string& path) {
    std::error_code ec;
    return path + (fs::exists(path, ec) ? "" : " (missing)");
}

// Where the point writes, resolved as the Runner resolves it (an output_dir leaving its root is
// an Error here too), marked when the folder exists: the run then writes beside another run's
// folder and refuses a folder of no run (core/run/run_outputs.h). Read only: nothing is claimed.
std::string output_line(const RunConfig& c, const std::string& output_base) {
    const std::string dir = resolve_output_dir(c.output_dir(), output_base);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(dir, ec))) return dir;
    if (!output_dir_owner(dir).empty()) return dir + " (another run's: this run writes beside it)";
    if (fs::is_directory(fs::symlink_status(dir, ec)) && fs::is_empty(dir, ec)) return dir;
    return dir + " (exists and is no run's output folder: the run will refuse it)";
}

std::string number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string dataset_line(const RunConfig& c, const DatasetEntry& d) {
    std::string line =
        d.name + " (" + dataset_kind_name(d.source.kind) + " " + existing(c.resolve(d.source.path));
    if (!d.source.whole())
        line += ", range [" + number(d.source.range_begin) + ", " + number(d.source.range_end) + ")";
    if (d.max_windows > 0) line += ", first " + std::to_string(d.max_windows) + " windows";
    return line + ")";
}

void describe_point(std::ostream& out, const RunConfig& c, const std::string& output_base) {
    const std::string pad = "      ";
    out << pad << "model      " << existing(c.resolve(c.model.base_model)) << ", " << c.model.dtype << " on "
        << c.device << ", tokenizer "
        << (c.model.tokenizer.empty() ? std::string("beside the model")
                                      : existing(c.resolve(c.model.tokenizer)))
        << "\n";
    if (c.quantizes())
        out << pad << "quantize   " << c.quant.describe() << "\n";
    else
        out << pad << "quantized  load " << existing(c.resolve(c.model.q_model)) << "\n";
    std::string calib;
    for (const auto& d : c.calib_datasets())
        calib += (calib.empty() ? "" : " + ") + dataset_line(c, d);
    out << pad << "calibrate  " << c.calib.num_samples << " windows x " << c.calib.options.seqlen
        << " tokens (validation ratio " << number(c.calib.options.val_ratio) << ", seed "
        << c.calib.options.seed << ") from " << calib << "\n";
    const TrainConfig& t = c.train;
    if (t.lora.r == 0) {
        out << pad << "train      nothing (rank 0: the uncompensated baseline)\n";
    } else {
        out << pad << "train      LoRA r " << t.lora.r << " alpha " << number(t.lora.alpha) << ", scope "
            << to_string(t.scope) << ", " << t.approx_total_steps << " micro-steps = " << t.total_updates()
            << " updates of " << t.approx_batch_size << " x " << t.gradient_accumulation_steps
            << " windows, lr " << number(t.approx_lr) << ", validation every " << t.approx_eval_steps
            << " updates"
            << (t.approx_early_stop ? ", early stop after " + std::to_string(t.approx_es_patience) : "")
            << "\n";
        if (t.lora.init == LoraInit::Loftq)
            out << pad << "init       LoftQ, " << t.lora.loftq_iter
                << " round(s) with the quantizer above; the base becomes the last Q\n";
        else if (is_closed_form(t.lora.init))
            out << pad << "init       " << to_string(t.lora.init)
                << " closed form on the Gram of each linear's FP inputs over the training windows\n";
    }
    if (c.finetunes()) {
        const TrainConfig& f = c.finetune.train;
        const SftDataConfig& d = c.finetune.sft;
        out << pad << "finetune   SFT on " << existing(c.resolve(c.finetune.data)) << " ("
            << (d.max_train_samples > 0
                    ? "first " + std::to_string(d.max_train_samples) + " training records, "
                    : std::string())
            << d.eval_dataset_size << " held out), "
            << (t.lora.r > 0 ? "continuing from the compensated adapters (r " + std::to_string(t.lora.r) + ")"
                             : "fresh LoRA r " + std::to_string(f.lora.r) + " alpha " + number(f.lora.alpha))
            << (f.lora.iec ? " + IEC" : "") << ", " << f.total_updates() << " updates of "
            << f.approx_batch_size << " x " << f.gradient_accumulation_steps << " examples, "
            << to_string(f.optimizer) << " lr " << number(f.approx_lr) << ", max grad-norm "
            << number(f.max_grad_norm) << ", eval loss every " << f.approx_eval_steps
            << " updates; curves sft.*\n";
    }
    std::string stages, sets, tasks;
    for (const EvalStage s : c.eval.stages) {
        if (s == EvalStage::Compensated && t.lora.r == 0) continue; // nothing compensated
        if (s == EvalStage::Finetuned && !c.finetunes()) continue;  // nothing fine-tuned
        stages += (stages.empty() ? "" : ", ") + to_string(s);
    }
    for (const auto& d : c.eval_datasets())
        sets += (sets.empty() ? "" : " + ") + dataset_line(c, d);
    for (const TaskSpec& spec : c.task_specs()) {
        const TaskInfo& info = task_info(spec.name);
        const int64_t shots = spec.shots >= 0 ? spec.shots : info.default_shots;
        tasks += (tasks.empty() ? "" : " + ") + spec.name + " (" + existing(spec.path) + ", " +
                 std::to_string(shots) + "-shot" +
                 (spec.limit > 0 ? ", first " + std::to_string(spec.limit) + " items" : std::string()) +
                 (spec.subjects.empty() ? "" : ", " + std::to_string(spec.subjects.size()) + " subjects") +
                 ", BOS " + (spec.bos.value_or(info.default_bos) ? "yes" : "no") + ")";
    }
    if (sets.empty())
        out << pad << "evaluate   nothing (eval.datasets is empty)\n";
    else
        out << pad << "evaluate   " << stages << " at seqlen " << c.eval.seqlen << " on " << sets << "\n";
    if (!tasks.empty()) out << pad << "tasks      " << stages << " on " << tasks << "\n";
    out << pad << "output     " << output_line(c, output_base) << "\n";
}

} // namespace

std::string describe_plan(const ExperimentConfig& experiment, const std::string& output_base) {
    std::ostringstream out;
    out << "experiment " << experiment.name << ": " << experiment.runs.size() << " point(s)";
    for (size_t i = 0; i < experiment.sweep.size(); ++i)
        out << (i ? " x " : ", sweeping ") << experiment.sweep[i].key << " ("
            << experiment.sweep[i].values.size() << ")";
    out << "\ndata root " << existing(experiment.data_root) << "\n";
    std::map<std::string, int> first_with; // preparation settings -> first point that has them
    for (const RunConfig& c : experiment.runs) {
        out << "[" << c.index + 1 << "/" << experiment.runs.size() << "] " << c.run_name << "  (settings "
            << c.config_hash.substr(0, 12) << ")\n";
        const auto [it, fresh] = first_with.emplace(phase_settings(c, config::Phase::Preparation), c.index);
        if (!fresh)
            out << "      shares model, quantization, calibration and FP / quantized evaluation with ["
                << it->second + 1 << "]\n";
        describe_point(out, c, output_base);
    }
    return out.str();
}

} // namespace rilq::run
