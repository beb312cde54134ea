#include "core/rilq/trainer.h"

#include "core/rilq/checkpoint.h"
#include "core/util/error.h"
#include "core/util/heap_trim.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <sstream>

namespace rilq {

namespace {

std::string fmt(double v) {
    std::ostringstream s;
    s.precision(6);
    s << v;
    return s.str();
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c,
                                                        const std::vector<torch::Tensor>& params) {
    // torch.optim.Adam defaults (betas 0.9/0.999, eps 1e-8), as the official code uses them.
    if (c.optimizer == OptimizerKind::Adam)
        return std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(c.approx_lr).weight_decay(c.weight_decay));
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(c.approx_lr).weight_decay(c.weight_decay));
}

// The config a checkpoint records: the TrainConfig, plus the objective's resume key when it has one.
nlohmann::json checkpoint_config_json(const TrainConfig& config, const TrainObjective& objective) {
    auto j = train_config_json(config);
    const auto key = objective.resume_key();
    if (!key.empty()) j["objective"] = nlohmann::json::parse(key);
    return j;
}

} // namespace

struct Trainer::Clock {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double elapsed_s() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
};

Trainer::Trainer(TrainConfig config, LoraSet& adapters, TrainObjective& objective, torch::Tensor train_ids,
                 torch::Tensor val_ids, TrainerOptions options)
    : config_(std::move(config)), adapters_(adapters), objective_(objective),
      train_ids_(std::move(train_ids)), val_ids_(std::move(val_ids)), options_(std::move(options)),
      early_stop_(config_.approx_early_stop, config_.approx_es_patience, config_.approx_es_delta),
      clock_(std::make_unique<Clock>()) {}

Trainer::~Trainer() = default;

// ----------------------------------------------------------------------------
// pieces

void Trainer::emit(TrainEvent e) {
    e.update_step = update_step_;
    e.micro_step = micro_step_;
    e.total_micro_steps = config_.approx_total_steps;
    e.lr = last_lr_;
    e.es_counter = early_stop_.counter();
    e.best_v_loss = early_stop_.best();
    e.best_update_step = best_update_step_;
    e.elapsed_s = clock_->elapsed_s();
    e.tokens_per_s = train_seconds_ > 0 ? static_cast<double>(train_tokens_) / train_seconds_ : 0.0;
    const int64_t done = micro_step_ - session_start_micro_;
    if (done > 0) {
        const int64_t left = std::max<int64_t>(0, config_.approx_total_steps - micro_step_);
        e.eta_s = e.elapsed_s / static_cast<double>(done) * static_cast<double>(left);
    }
    if (options_.on_event) options_.on_event(e);
}

void Trainer::set_learning_rate(double lr) {
    for (auto& group : optimizer_->param_groups()) {
        if (config_.optimizer == OptimizerKind::Adam)
            static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        else
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    last_lr_ = lr;
}

ValidationLosses Trainer::validate(int64_t update_step) {
    if (options_.validate_override) return options_.validate_override(update_step);
    return evaluate();
}

ValidationLosses Trainer::evaluate() {
    const bool was_training = adapters_.empty() ? false : adapters_.adapters().front()->training();
    adapters_.set_training(false);
    torch::NoGradGuard no_grad;
    const int64_t n = val_ids_.size(0), bs = config_.validation_batch_size();
    double sum_a = 0.0, sum_gt = 0.0, weight = 0.0;
    bool a_measured = true, gt_measured = true;
    for (int64_t b = 0; b < n; b += bs) {
        if (options_.cancel) options_.cancel->throw_if_cancelled();
        const auto parts =
            objective_.loss(DataSplit::Validation, val_ids_.slice(0, b, std::min(n, b + bs)), b);
        if (parts.a_loss.defined())
            sum_a += parts.weight * parts.a_loss.item<double>();
        else
            a_measured = false;
        if (parts.gt_loss.defined())
            sum_gt += parts.weight * parts.gt_loss.item<double>();
        else
            gt_measured = false;
        weight += parts.weight;
    }
    adapters_.set_training(was_training);
    ValidationLosses v;
    // The official RILQ code averages the per-batch means (weight 1 per batch; equal to the
    // window mean at batch size 1); SFT weighs each batch by its rows, as HF's eval_loss does.
    v.a_loss = a_measured ? sum_a / weight : kNotMeasured;
    v.gt_loss = gt_measured ? sum_gt / weight : kNotMeasured;
    v.loss = objective_.validation_loss(v.a_loss, v.gt_loss);
    return v;
}

void Trainer::save_checkpoint() {
    if (options_.checkpoint_dir.empty()) return;
    TrainingCheckpoint c;
    c.micro_step = micro_step_;
    c.update_step = update_step_;
    c.validations = validations_;
    c.es_counter = early_stop_.counter();
    c.best_v_loss = early_stop_.best();
    c.best_v_a_loss = best_losses_.a_loss;
    c.best_v_gt_loss = best_losses_.gt_loss;
    c.best_update_step = best_update_step_;
    c.config_json = checkpoint_config_json(config_, objective_).dump();
    c.adapters = adapters_.snapshot();
    c.best_adapters = best_snapshot_;
    c.dropout_rng_state = adapters_.dropout_rng_state();
    write_checkpoint(options_.checkpoint_dir, c, *optimizer_);
}

void Trainer::resume() {
    const auto c = read_checkpoint(options_.resume_from);
    const auto saved = nlohmann::json::parse(c.config_json);
    const auto now = checkpoint_config_json(config_, objective_);
    const auto defaults = train_config_json(TrainConfig{});
    for (const auto& [key, value] : now.items()) {
        if (!must_match_on_resume(key)) continue;
        // A field added after the checkpoint was written matches when it has its default value.
        if (!saved.contains(key) && defaults.contains(key) && defaults.at(key) == value) continue;
        if (!saved.contains(key) || saved.at(key) != value)
            throw Error("cannot resume from " + options_.resume_from + ": config field \"" + key + "\" was " +
                        (saved.contains(key) ? saved.at(key).dump() : std::string("absent")) + ", now " +
                        value.dump());
    }
    adapters_.restore(c.adapters);
    best_snapshot_ = c.best_adapters;
    if (c.dropout_rng_state.defined()) adapters_.set_dropout_rng_state(c.dropout_rng_state);
    load_optimizer_state(options_.resume_from, *optimizer_);
    micro_step_ = c.micro_step;
    update_step_ = c.update_step;
    validations_ = c.validations;
    early_stop_.restore(c.best_v_loss, c.es_counter);
    best_update_step_ = c.best_update_step;
    best_losses_ = {c.best_v_a_loss, c.best_v_gt_loss, c.best_v_loss};
    session_start_micro_ = micro_step_;
    last_lr_ = learning_rate_at(config_, std::max<int64_t>(0, update_step_ - 1));
}

// ----------------------------------------------------------------------------
// the loop

TrainResult Trainer::run() {
    clock_ = std::make_unique<Clock>();
    TrainResult result;
    TrainStatus status = TrainStatus::Running;
    std::string message;

    auto fail_non_finite = [&](const std::string& what) {
        status = TrainStatus::Failed;
        message = what;
    };

    try {
        config_.validate();
        for (const auto* ids : {&train_ids_, &val_ids_})
            if (ids->dim() != 2 || ids->scalar_type() != torch::kLong)
                throw Error("trainer: token windows must be (N, T) int64, found " +
                            std::string(c10::str(ids->sizes())) + " " +
                            std::string(c10::toString(ids->scalar_type())));
        if (val_ids_.size(0) == 0 && !options_.validate_override)
            throw Error("trainer: no validation windows");
        const auto params = adapters_.parameters();
        const bool trains = !params.empty() && config_.approx_total_steps > 0;
        if (trains && train_ids_.size(0) == 0) throw Error("trainer: no training windows");
        if (!params.empty()) optimizer_ = make_optimizer(config_, params);
        last_lr_ = learning_rate_at(config_, 0);

        if (!options_.resume_from.empty()) {
            if (!optimizer_) throw Error("cannot resume: the run has no trainable adapters");
            resume();
        } else {
            const auto v = validate(0);
            ++validations_;
            result.initial_v_loss = v.loss;
            TrainEvent e;
            e.kind = TrainEventKind::Validation;
            e.v_a_loss = v.a_loss;
            e.v_gt_loss = v.gt_loss;
            e.v_loss = v.loss;
            emit(e);
            if (!std::isfinite(v.loss))
                fail_non_finite("non-finite validation loss before training: v_loss=" + fmt(v.loss) +
                                " (v_a_loss=" + fmt(v.a_loss) + ", v_gt_loss=" + fmt(v.gt_loss) + ")");
        }

        if (status == TrainStatus::Running && !trains) {
            status = TrainStatus::Finished;
            message = params.empty() ? "no trainable adapters (rank 0): validation only"
                                     : "approx_total_steps is 0: validation only";
        }

        const int64_t n_train = train_ids_.size(0), bs = config_.approx_batch_size;
        const int64_t n_batches = (n_train + bs - 1) / std::max<int64_t>(1, bs);
        const int64_t accum = config_.gradient_accumulation_steps;
        PeriodicHeapRelease release_heap; // the updates' freed activations around the adapters' state
        double win_a = 0.0, win_gt = 0.0, win_total = 0.0;
        int64_t win_steps = 0;
        int64_t order_epoch = -1;
        torch::Tensor order; // the rows of the current pass when the objective reorders them
        adapters_.set_training(true);

        for (int64_t step = micro_step_ + 1;
             status == TrainStatus::Running && step <= config_.approx_total_steps; ++step) {
            if (options_.cancel) options_.cancel->throw_if_cancelled();
            const auto t0 = std::chrono::steady_clock::now();
            const int64_t epoch = (step - 1) / n_batches;
            const int64_t batch = (step - 1) % n_batches;
            const int64_t first = batch * bs;
            const int64_t last = std::min(n_train, first + bs);
            if (epoch != order_epoch) {
                order = objective_.train_order(epoch, n_train);
                order_epoch = epoch;
                if (order.defined() && (order.dim() != 1 || order.size(0) != n_train))
                    throw Error(objective_.name() + ": train_order must be a permutation of the " +
                                std::to_string(n_train) + " training rows");
            }
            const auto ids = order.defined() ? train_ids_.index_select(0, order.slice(0, first, last))
                                             : train_ids_.slice(0, first, last); // (b, T)

            const auto parts = objective_.loss(DataSplit::Train, ids, first);
            const double a = parts.a_loss.defined() ? parts.a_loss.item<double>() : kNotMeasured;
            const double gt = parts.gt_loss.defined() ? parts.gt_loss.item<double>() : kNotMeasured;
            const double total = parts.total.item<double>();
            if (!std::isfinite(total)) {
                fail_non_finite("non-finite training loss at micro-step " + std::to_string(step) +
                                " (after update " + std::to_string(update_step_) + "): loss=" + fmt(total) +
                                " (a_loss=" + fmt(a) + ", gt_loss=" + fmt(gt) + ")");
                break;
            }
            (parts.total / static_cast<double>(accum)).backward();
            micro_step_ = step;
            win_a += a;
            win_gt += gt;
            win_total += total;
            ++win_steps;

            double grad_norm = kNotMeasured;
            if (step % accum == 0) {
                // HF Trainer order: clip the accumulated gradient, then step (torch clip_grad_norm_:
                // scale by max_norm / (norm + 1e-6) when that is below 1).
                if (config_.max_grad_norm > 0.0)
                    grad_norm = torch::nn::utils::clip_grad_norm_(params, config_.max_grad_norm);
                set_learning_rate(learning_rate_at(config_, update_step_));
                optimizer_->step();
                optimizer_->zero_grad();
                release_heap();
                ++update_step_;
            }
            train_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            train_tokens_ += parts.tokens > 0 ? parts.tokens : ids.numel();
            if (step % accum != 0) continue;

            TrainEvent u;
            u.kind = TrainEventKind::Update;
            u.grad_norm = grad_norm;
            u.t_a_loss = win_a / static_cast<double>(win_steps);
            u.t_gt_loss = win_gt / static_cast<double>(win_steps);
            u.t_loss = win_total / static_cast<double>(win_steps);
            win_a = win_gt = win_total = 0.0;
            win_steps = 0;
            emit(u);

            if (update_step_ % config_.approx_eval_steps != 0) continue;
            const auto v = validate(update_step_);
            ++validations_;
            if (!std::isfinite(v.loss)) {
                fail_non_finite("non-finite validation loss at update " + std::to_string(update_step_) +
                                ": v_loss=" + fmt(v.loss) + " (v_a_loss=" + fmt(v.a_loss) +
                                ", v_gt_loss=" + fmt(v.gt_loss) + ")");
            }
            const auto verdict = early_stop_.observe(v.loss);
            if (verdict.improved) {
                if (config_.restore_best) best_snapshot_ = adapters_.snapshot();
                best_update_step_ = update_step_;
                best_losses_ = v;
            }
            TrainEvent e = u;
            e.kind = TrainEventKind::Validation;
            e.v_a_loss = v.a_loss;
            e.v_gt_loss = v.gt_loss;
            e.v_loss = v.loss;
            e.is_best = verdict.improved;
            emit(e);
            if (status != TrainStatus::Running) break;
            save_checkpoint();
            if (verdict.stop) {
                status = TrainStatus::EarlyStopped;
                message = "early stop: " + std::to_string(early_stop_.counter()) +
                          " validations without improvement (patience " +
                          std::to_string(config_.approx_es_patience) + ")";
                TrainEvent s;
                s.kind = TrainEventKind::EarlyStop;
                s.status = status;
                s.message = message;
                emit(s);
            }
        }
        if (status == TrainStatus::Running) {
            status = TrainStatus::Finished;
            message = "ran " + std::to_string(config_.approx_total_steps) + " micro-steps";
        }
    } catch (const Cancelled&) {
        status = TrainStatus::Killed;
        message = "cancelled after micro-step " + std::to_string(micro_step_);
    } catch (const c10::Error& e) {
        status = TrainStatus::Failed;
        message = e.what_without_backtrace();
    } catch (const std::exception& e) {
        status = TrainStatus::Failed;
        message = e.what();
    }

    // Leave no half-accumulated gradient and no dropout behind.
    adapters_.set_training(false);
    for (auto& p : adapters_.parameters())
        if (p.grad().defined()) p.mutable_grad() = torch::Tensor();

    if (!best_snapshot_.empty()) {
        try {
            adapters_.restore(best_snapshot_);
            result.best_restored = true;
            message += "; restored the best adapters (update " + std::to_string(best_update_step_) + ")";
        } catch (const std::exception& e) {
            status = TrainStatus::Failed;
            message += "; restoring the best adapters failed: " + std::string(e.what());
        }
    } else if (!adapters_.empty() && micro_step_ > 0) {
        message += config_.restore_best
                       ? "; no validation after training improved: the adapters are the last ones"
                       : "; kept the last adapters (restore_best is off)";
    }

    result.status = status;
    result.message = message;
    result.micro_steps = micro_step_;
    result.updates = update_step_;
    result.validations = validations_;
    result.best_v_loss = early_stop_.best();
    result.best_update_step = best_update_step_;
    result.elapsed_s = clock_->elapsed_s();
    result.tokens_per_s = train_seconds_ > 0 ? static_cast<double>(train_tokens_) / train_seconds_ : 0.0;

    TrainEvent f;
    f.kind = TrainEventKind::Finished;
    f.status = status;
    f.message = message;
    f.v_a_loss = best_losses_.a_loss;
    f.v_gt_loss = best_losses_.gt_loss;
    f.v_loss = best_losses_.loss;
    try {
        emit(f);
    } catch (...) {
        // The run is over; a failing observer must not lose the result.
    }
    return result;
}

} // namespace rilq
