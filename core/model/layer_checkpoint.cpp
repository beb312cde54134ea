#include "core/model/layer_checkpoint.h"

#include "core/model/llama_model.h"
#include "core/model/rope.h"

#include <torch/torch.h>

#include <vector>

namespace rilq {

namespace {

// What the backward needs besides tensors: the layer (the model outlives its graph) and the
// adapters' random sources with their states before the forward drew from them.
struct CheckpointedLayerHolder : torch::CustomClassHolder {
    const LlamaModel* model = nullptr;
    size_t layer = 0;
    std::vector<at::Generator> sources;
    std::vector<torch::Tensor> states;
};

const Linear* layer_linears(const DecoderLayer& l, size_t k) {
    const Linear* all[] = {&l.q_proj,    &l.k_proj,  &l.v_proj,   &l.o_proj,
                           &l.gate_proj, &l.up_proj, &l.down_proj};
    return all[k];
}
constexpr size_t kLayerLinears = 7;

class CheckpointedLayerFunction : public torch::autograd::Function<CheckpointedLayerFunction> {
  public:
    // Runs with grad mode off (Function::apply turns it off): nothing of the layer is kept.
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& rope_cos, const torch::Tensor& rope_sin,
                                 c10::intrusive_ptr<CheckpointedLayerHolder> holder,
                                 const at::TensorList& trainable) {
        (void)trainable; // inputs so that their gradients flow back through this Function
        ctx->save_for_backward({x, rope_cos, rope_sin});
        ctx->saved_data["layer"] = c10::IValue::make_capsule(holder);
        return holder->model->layer_forward(holder->layer, x, RopeTables{rope_cos, rope_sin}, {}, nullptr,
                                            nullptr);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto capsule = ctx->saved_data["layer"].toCapsule();
        auto* holder = static_cast<CheckpointedLayerHolder*>(capsule.get());
        const auto saved = ctx->get_saved_variables();
        const bool x_needs_grad = ctx->needs_input_grad(0);
        const auto x = saved[0].detach().requires_grad_(x_needs_grad);

        // Replay the random sources from where the forward found them, and leave them where they are now.
        std::vector<torch::Tensor> now;
        for (size_t k = 0; k < holder->sources.size(); ++k) {
            now.push_back(holder->sources[k].get_state());
            holder->sources[k].set_state(holder->states[k]);
        }
        torch::Tensor y;
        {
            torch::AutoGradMode grad_on(true);
            y = holder->model->layer_forward(holder->layer, x, RopeTables{saved[1], saved[2]}, {}, nullptr,
                                             nullptr);
        }
        for (size_t k = 0; k < holder->sources.size(); ++k)
            holder->sources[k].set_state(now[k]);

        std::vector<torch::Tensor> trainable;
        const DecoderLayer& layer = holder->model->layers()[holder->layer];
        for (size_t k = 0; k < kLayerLinears; ++k)
            if (const auto& adapter = layer_linears(layer, k)->adapter)
                for (const auto& t : adapter->trainable_tensors())
                    trainable.push_back(t);
        std::vector<torch::Tensor> inputs;
        if (x_needs_grad) inputs.push_back(x);
        inputs.insert(inputs.end(), trainable.begin(), trainable.end());
        std::vector<torch::Tensor> input_grads;
        if (!inputs.empty())
            input_grads = torch::autograd::grad({y}, inputs, {grads[0]}, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true);
        // One gradient per forward argument: x, cos, sin, the holder, then each trainable tensor.
        torch::autograd::variable_list out = {x_needs_grad ? input_grads[0] : torch::Tensor(),
                                              torch::Tensor(), torch::Tensor(), torch::Tensor()};
        out.insert(out.end(), input_grads.begin() + (x_needs_grad ? 1 : 0), input_grads.end());
        return out;
    }
};

} // namespace

torch::Tensor checkpointed_layer_forward(const LlamaModel& model, size_t i, const torch::Tensor& x,
                                         const RopeTables& rope) {
    auto holder = c10::make_intrusive<CheckpointedLayerHolder>();
    holder->model = &model;
    holder->layer = i;
    std::vector<torch::Tensor> trainable;
    const DecoderLayer& layer = model.layers()[i];
    for (size_t k = 0; k < kLayerLinears; ++k) {
        const auto& adapter = layer_linears(layer, k)->adapter;
        if (!adapter) continue;
        for (const auto& t : adapter->trainable_tensors())
            trainable.push_back(t);
        auto source = adapter->random_source();
        if (source.defined()) {
            holder->sources.push_back(source);
            holder->states.push_back(source.get_state());
        }
    }
    // As a TensorList (not a std::vector, which the Function would take for one non-tensor argument).
    return CheckpointedLayerFunction::apply(x, rope.cos, rope.sin, holder, at::TensorList(trainable));
}

} // namespace rilq
