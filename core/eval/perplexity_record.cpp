#include "core/eval/perplexity_record.h"

namespace rilq {

store::EvalResult perplexity_record(const PerplexityResult& result, const EvalProtocol& protocol,
                                    const std::string& dataset, const std::string& stage) {
    store::EvalResult e;
    e.dataset = dataset;
    e.stage = stage;
    e.file_sha256 = protocol.file_sha256;
    e.tokenizer = protocol.tokenizer_kind + ":" + protocol.tokenizer_path;
    e.seqlen = static_cast<int>(result.seqlen);
    e.n_windows = result.n_windows;
    e.n_tokens = result.n_tokens;
    e.ppl = result.ppl;
    return e;
}

} // namespace rilq
