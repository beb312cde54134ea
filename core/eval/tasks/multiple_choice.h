// Zero-shot multiple choice as lm-evaluation-harness scores it (shared/data/tasks/README.md;
// lm_eval/api/task.py construct_requests and process_results, lm_eval/api/model.py _encode_pair):
//   requests   one (context, continuation) pair per choice: the context is doc_to_text and the
//              continuation " " + choice (winogrande: one context per option, one shared
//              continuation);
//   encoding   trailing whitespace of the context moves to the continuation; the context is
//              tokenized alone, the continuation's tokens are those of the joined string after
//              the context's count; input = (context + continuation)[-(max_length+1):][:-1];
//              BOS before both when the rule is "bos" (lm-eval >= 0.4.9.2 for Llama), none by
//              default (0.4.0 - 0.4.9.1); an empty context becomes [BOS];
//   score      sum of the continuation tokens' log-softmax; acc = argmax == gold, acc_norm =
//              argmax(ll / len(choice)) == gold with len in code points, first index on ties.
// Fast path: the requests of one doc share their context, so the common token prefix runs
// once and every choice continues from its keys/values in one batch (prefix_cache.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/tasks/task.h"

namespace rilq {

struct McRequest {
    std::string context;
    std::string continuation;
};

struct McDoc {
    std::string id;
    std::vector<McRequest> requests;  // one per choice
    std::vector<std::string> choices; // doc_to_choice: acc_norm divides by their length
    int64_t gold = 0;
};

// A task's documents and the files they came from (name relative to the task path, sha256).
struct McData {
    std::vector<McDoc> docs;
    std::vector<std::pair<std::string, std::string>> files;
};

struct EncodedPair {
    std::vector<int64_t> context;
    std::vector<int64_t> continuation;
};
EncodedPair encode_pair(const Tokenizer& tokenizer, const std::string& context,
                        const std::string& continuation, bool bos);

// The readers, one source file each, of one data file (a folder is resolved to the task's
// TaskInfo::default_file before). Errors name the file and line of the offending record.
McData read_arc(const std::string& file);        // arc.cpp (arc_easy and arc_challenge)
McData read_piqa(const std::string& file);       // piqa.cpp
McData read_hellaswag(const std::string& file);  // hellaswag.cpp
McData read_winogrande(const std::string& file); // winogrande.cpp
McData read_boolq(const std::string& file);      // boolq.cpp

// hellaswag's utils.preprocess (exposed for tests).
std::string hellaswag_preprocess(const std::string& text);

std::unique_ptr<Task> make_multiple_choice_task(const TaskInfo& info, const TaskSpec& spec, McData data);

} // namespace rilq
