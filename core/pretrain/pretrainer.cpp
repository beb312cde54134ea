#include "core/pretrain/pretrainer.h"

#include "core/eval/perplexity.h"
#include "core/io/safetensors.h"
#include "core/io/torch_file.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace rilq {

double pretrain_lr(const PretrainConfig& c, int64_t step) {
    if (c.warmup_steps > 0 && step < c.warmup_steps)
        return c.lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
    const double span = static_cast<double>(std::max<int64_t>(1, c.max_steps - c.warmup_steps));
    const double progress = std::min(1.0, static_cast<double>(step - c.warmup_steps) / span);
    return c.min_lr + 0.5 * (c.lr - c.min_lr) * (1.0 + std::cos(M_PI * progress));
}

LlamaConfig pretrain_model_config(const PretrainConfig& p, int64_t vocab_size, int64_t bos_id, int64_t eos_id) {
    LlamaConfig c;
    c.hidden_size = p.hidden_size;
    c.intermediate_size = p.intermediate_size;
    c.num_hidden_layers = p.num_layers;
    c.num_attention_heads = p.num_heads;
    c.num_key_value_heads = p.num_kv_heads;
    c.head_dim = p.hidden_size / p.num_heads;
    c.vocab_size = vocab_size;
    c.max_position_embeddings = p.seqlen;
    c.tie_word_embeddings = true;
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 10000.0;
    c.bos_token_id = bos_id;
    c.eos_token_id = eos_id;
    c.validate("pretrain config");
    return c;
}

namespace {

// Batch of `batch` random windows of seqlen+1 tokens; the generator is seeded by (seed, step)
// so a resumed run draws exactly the batches an uninterrupted one would.
torch::Tensor sample_batch(const torch::Tensor& stream, int64_t batch, int64_t seqlen, uint64_t seed, int64_t step) {
    auto gen = at::detail::createCPUGenerator(seed * 1000003ULL + static_cast<uint64_t>(step));
    const int64_t max_start = stream.size(0) - (seqlen + 1);
    auto starts = torch::randint(max_start + 1, {batch}, gen, torch::kInt64);
    auto offsets = torch::arange(seqlen + 1, torch::kInt64);
    return stream.index({starts.unsqueeze(1) + offsets.unsqueeze(0)});   // (B, T+1)
}

double validation_loss(const LlamaModel& model, const torch::Tensor& val_windows) {
    torch::NoGradGuard no_grad;
    return evaluate_perplexity(model, val_windows, {}, 4).mean_nll;
}

std::vector<std::pair<std::string, torch::Tensor>> ordered_state(const LlamaModel& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& [name, t] : model.hf_state()) out.emplace_back(name, t.detach());
    return out;
}

struct Checkpoint {
    fs::path dir;
    fs::path weights() const { return dir / "model.safetensors"; }
    fs::path optimizer() const { return dir / "optimizer.pt"; }
    fs::path state() const { return dir / "state.json"; }
    bool exists() const { return fs::exists(state()) && fs::exists(weights()) && fs::exists(optimizer()); }
};

} // namespace

PretrainResult pretrain(LlamaModel& model, const std::vector<int64_t>& train_tokens,
                        const std::vector<int64_t>& val_tokens, const PretrainConfig& c,
                        const std::string& checkpoint_dir, const std::function<void(const PretrainEvent&)>& on_event,
                        const CancelToken* cancel) {
    if (static_cast<int64_t>(train_tokens.size()) < c.seqlen + 2)
        throw Error("pretrain: the training text has " + std::to_string(train_tokens.size()) +
                    " tokens, fewer than seqlen + 2 = " + std::to_string(c.seqlen + 2));
    if (static_cast<int64_t>(val_tokens.size()) < c.seqlen)
        throw Error("pretrain: the validation text has " + std::to_string(val_tokens.size()) +
                    " tokens, fewer than seqlen = " + std::to_string(c.seqlen));
    const auto train = torch::tensor(train_tokens, torch::kInt64);
    const int64_t n_val = std::min<int64_t>(c.eval_windows, static_cast<int64_t>(val_tokens.size()) / c.seqlen);
    const auto val_windows = torch::tensor(val_tokens, torch::kInt64).narrow(0, 0, n_val * c.seqlen).view({n_val, c.seqlen});

    // AdamW with decay on matrices only (norm weights are scales, decaying them shrinks the model).
    std::vector<torch::Tensor> decay, no_decay;
    for (auto& p : model.parameters()) {
        p.set_requires_grad(true);
        (p.dim() >= 2 ? decay : no_decay).push_back(p);
    }
    auto opts = torch::optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).weight_decay(c.weight_decay);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(opts));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).weight_decay(0.0)));
    torch::optim::AdamW optimizer(std::move(groups));

    PretrainResult result;
    result.best_val_loss = std::numeric_limits<double>::infinity();
    int64_t step = 0;
    const Checkpoint ckpt{checkpoint_dir};
    if (!checkpoint_dir.empty() && ckpt.exists()) {
        // Resume: weights, optimizer moments and the step counter; batches depend on (seed, step) only.
        SafetensorsFile weights(ckpt.weights().string());
        auto state = model.hf_state();
        torch::NoGradGuard no_grad;
        for (auto& [name, t] : state) t.copy_(weights.tensor(name));
        torch::load(optimizer, ckpt.optimizer().string());
        std::ifstream in(ckpt.state());
        const auto j = nlohmann::json::parse(in);
        step = j.at("step").get<int64_t>();
        result.best_val_loss = j.value("best_val_loss", result.best_val_loss);
        result.resumed = true;
    }

    auto save_checkpoint = [&] {
        if (checkpoint_dir.empty()) return;
        fs::create_directories(ckpt.dir);
        save_safetensors(ckpt.weights().string(), ordered_state(model));
        const std::string tmp = ckpt.optimizer().string() + ".tmp";
        save_torch_file(optimizer, tmp); // a full disk: an Error, not an abort from torch::save
        fs::rename(tmp, ckpt.optimizer());
        // state.json last: a checkpoint counts only once its step is written.
        write_file_atomic(ckpt.state().string(), nlohmann::json{{"step", step}, {"best_val_loss", result.best_val_loss}}.dump(2));
    };

    const auto start = std::chrono::steady_clock::now();
    const int64_t first_step = step;
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    while (step < c.max_steps) {
        if (cancel && cancel->cancelled()) throw Cancelled();
        const double lr = pretrain_lr(c, step);
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

        auto batch = sample_batch(train, c.batch_size, c.seqlen, c.seed, step);     // (B, T+1)
        auto inputs = batch.narrow(1, 0, c.seqlen), targets = batch.narrow(1, 1, c.seqlen);
        auto logits = model.forward(inputs).logits;                                   // (B, T, V)
        auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32),
                                                         targets.reshape({-1}));
        optimizer.zero_grad();
        loss.backward();
        if (c.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), c.grad_clip);
        optimizer.step();
        ++step;

        const double train_loss = loss.item<double>();
        if (!std::isfinite(train_loss))
            throw Error("pretrain: loss became " + std::to_string(train_loss) + " at step " + std::to_string(step) +
                        " (lower --lr?)");
        const double t = elapsed();
        PretrainEvent e;
        e.step = step;
        e.max_steps = c.max_steps;
        e.train_loss = train_loss;
        e.lr = lr;
        e.tokens_per_s = static_cast<double>((step - first_step) * c.batch_size * c.seqlen) / t;
        e.eta_s = t / static_cast<double>(step - first_step) * static_cast<double>(c.max_steps - step);
        if (on_event) on_event(e);

        if (step % c.eval_every == 0 || step == c.max_steps) {
            e.kind = PretrainEvent::Kind::Validation;
            e.val_loss = validation_loss(model, val_windows);
            result.final_val_loss = e.val_loss;
            result.best_val_loss = std::min(result.best_val_loss, e.val_loss);
            if (on_event) on_event(e);
            save_checkpoint();
        }
    }
    for (auto& p : model.parameters()) p.set_requires_grad(false);
    result.steps = step;
    result.seconds = elapsed();
    if (result.final_val_loss == 0.0) result.final_val_loss = validation_loss(model, val_windows);
    if (on_event) {
        PretrainEvent e;
        e.kind = PretrainEvent::Kind::Finished;
        e.step = step;
        e.max_steps = c.max_steps;
        e.val_loss = result.final_val_loss;
        on_event(e);
    }
    return result;
}

} // namespace rilq
