// Perplexity evaluation windows, the GPTQ / OmniQuant protocol (METHODS.md section 4):
//   wikitext2, text: the whole text tokenized once (BOS once at the start, as HF does),
//                    cut into n = floor(tokens / seqlen) non-overlapping windows.
//   c4:              random.seed(0); for each of 256 windows: draw documents with
//                    randint(0, D-1) until the document tokenized with BOS has >= seqlen
//                    tokens; then i = randint(0, len - seqlen - 1) and the window is
//                    ids[i, i + seqlen).
// Decision for a document of exactly seqlen tokens, where Python's randint(0, -1) raises
// ValueError and the reference script crashes: the whole document is the window and no
// offset is drawn (the fix later GPTQ forks adopted). For every input on which the
// reference script runs, the windows are identical.
// The protocol record says which file (and its SHA-256), tokenizer and sampling produced
// the windows, so a perplexity is never separated from what it was measured on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/data/text_sources.h"
#include "core/data/token_windows.h"
#include "core/util/progress.h"

namespace rilq {

class Tokenizer;

struct EvalWindowOptions {
    int64_t seqlen = 2048;    // L; upstream OmniQuant uses 2048
    int64_t c4_windows = 256; // windows drawn from c4 (GPTQ: 256)
    uint64_t c4_seed = 0;     // random.seed(0) in the reference
    int64_t max_windows = 0;  // keep only the first max_windows windows; 0 keeps all
};

struct EvalProtocol {
    std::string dataset; // "wikitext2" | "c4" | "text"
    std::string spec;    // the spec as given, "NAME=PATH"
    std::string file;    // the file actually read (after data-root resolution)
    std::string file_sha256;
    std::string tokenizer_kind; // Tokenizer::kind()
    std::string tokenizer_path; // Tokenizer::path()
    int64_t seqlen = 0;
    int64_t n_windows = 0;
    int64_t n_tokens = 0;      // n_windows * seqlen: the tokens perplexity is computed over
    int64_t stream_tokens = 0; // wikitext2/text: tokens in the whole stream; c4: 0
    int64_t documents = 0;     // c4: documents in the file; wikitext2: rows; text: 0
    std::string sampling;      // one paragraph describing how the windows were chosen
};

// nlohmann ADL hook: `nlohmann::json j = protocol;`
void to_json(nlohmann::json& j, const EvalProtocol& protocol);

struct EvalWindows {
    EvalProtocol protocol;
    TokenWindows windows; // (n_windows, seqlen)
};

// Resolves the spec (DataUse::Evaluation), reads, tokenizes and cuts the windows.
// Errors: unreadable/malformed files, a stream shorter than seqlen, a c4 file without any
// document of seqlen tokens. Reports progress per window and honours cancellation.
EvalWindows build_eval_windows(const DatasetSpec& spec, const Tokenizer& tokenizer,
                               const EvalWindowOptions& options, const ProgressSink& progress = {});

// The two sampling rules on already loaded data, for tests and other callers.
// Non-overlapping windows [k*seqlen, (k+1)*seqlen) of one stream, at most max_windows (0: all).
TokenWindows stream_windows(const std::vector<int64_t>& stream, int64_t seqlen, int64_t max_windows = 0);
// GPTQ c4 sampling over `documents` (see the header comment).
TokenWindows sample_c4_eval_windows(const DocumentSet& documents, const Tokenizer& tokenizer,
                                    const EvalWindowOptions& options, const ProgressSink& progress = {});

} // namespace rilq
