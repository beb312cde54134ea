#include "core/bench/eval_bench.h"

#include "core/bench/bench_shape.h"
#include "core/bench/gemm_bench.h"
#include "core/eval/perplexity.h"
#include "core/model/llama_model.h"

#include <torch/torch.h>

namespace rilq {

EvalBenchFigures run_eval_bench(const EvalBenchOptions& o) {
    const LlamaConfig c = bench_llama_config(o, o.seqlen);
    ModelOptions mo;
    mo.compute_dtype = o.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    const LlamaModel model = LlamaModel::random(c, 1234, mo);
    auto gen = at::detail::createCPUGenerator(7);
    auto windows = torch::randint(o.vocab, {o.windows, o.seqlen}, gen, torch::kInt64);

    (void)evaluate_perplexity(model, windows.narrow(0, 0, 1));  // warm-up
    const PerplexityResult r = evaluate_perplexity(model, windows);

    EvalBenchFigures f;
    f.seconds = r.seconds;
    f.tokens_per_s = r.tokens_per_s;
    f.flops_per_token = llama_forward_flops_per_token(c.hidden_size, c.intermediate_size, c.num_hidden_layers,
                                                      c.q_dim(), c.kv_dim(), c.vocab_size, o.seqlen);
    f.gflops = f.tokens_per_s * f.flops_per_token / 1e9;
    return f;
}

} // namespace rilq
