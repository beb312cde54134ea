// The document-drawing loop shared by GPTQ's c4 evaluation and RILQ's c4 calibration:
//     while True:
//         i = random.randint(0, len(docs) - 1)
//         ids = tokenizer(docs[i])            # BOS added, as HF does
//         if len(ids) >= min_tokens: break    # eval: >= seqlen; RILQ calibration: > L
// Lengths of documents already found too short are remembered, so a redraw costs no
// tokenization (the RNG sees exactly the same calls). When every document has been found
// too short the Python loop would spin forever; here it is an Error.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/data/python_random.h"
#include "core/data/text_sources.h"
#include "core/util/progress.h"

namespace rilq {

class Tokenizer;

struct DrawnDocument {
    int64_t index = -1;       // document index in the set
    std::vector<int64_t> ids; // its tokens, BOS first
    int64_t draws = 0;        // randint calls made, the accepted one included
};

class DocumentDrawer {
  public:
    // `file` only labels error messages.
    DocumentDrawer(const DocumentSet& documents, const Tokenizer& tokenizer, int64_t min_tokens,
                   std::string file);
    DrawnDocument draw(PythonRandom& rng, const ProgressSink& progress);

  private:
    const DocumentSet& documents_;
    const Tokenizer& tokenizer_;
    int64_t min_tokens_;
    std::string file_;
    std::unordered_map<int64_t, int64_t> short_lengths_; // document -> token count (< min_tokens_)
    int64_t longest_short_ = 0;
};

} // namespace rilq
