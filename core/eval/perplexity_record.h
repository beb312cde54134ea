// A perplexity measurement as the run store keeps it (store::EvalResult): the number with the
// protocol that makes it comparable (data hash, tokenizer, window length and count). Used by the
// runner's eval stages and by `rilq eval --record`.
#pragma once
#include <string>

#include "core/data/eval_windows.h"
#include "core/eval/perplexity.h"
#include "core/store/run_types.h"

namespace rilq {

// `dataset`: the name results are stored under (an experiment's dataset name, or the kind).
store::EvalResult perplexity_record(const PerplexityResult& result, const EvalProtocol& protocol,
                                    const std::string& dataset, const std::string& stage);

} // namespace rilq
