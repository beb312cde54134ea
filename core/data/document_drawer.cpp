#include "core/data/document_drawer.h"

#include <algorithm>
#include <utility>

#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

namespace rilq {

DocumentDrawer::DocumentDrawer(const DocumentSet& documents, const Tokenizer& tokenizer, int64_t min_tokens,
                               std::string file)
    : documents_(documents), tokenizer_(tokenizer), min_tokens_(min_tokens), file_(std::move(file)) {
    if (documents_.empty()) throw Error("no documents to draw from in '" + file_ + "'");
}

DrawnDocument DocumentDrawer::draw(PythonRandom& rng, const ProgressSink& progress) {
    DrawnDocument out;
    const int64_t last = static_cast<int64_t>(documents_.size()) - 1;
    for (;;) {
        if (static_cast<size_t>(short_lengths_.size()) == documents_.size())
            throw Error("no document in '" + file_ + "' has at least " + std::to_string(min_tokens_) +
                        " tokens (the longest has " + std::to_string(longest_short_) +
                        "): use a shorter sequence length or other data");
        progress.check_cancel();
        const int64_t index = rng.randint(0, last);
        ++out.draws;
        if (short_lengths_.count(index) != 0) continue; // known too short: same RNG call, no re-tokenizing
        std::vector<int64_t> ids =
            tokenizer_.encode(documents_.text(static_cast<size_t>(index)), /*add_bos=*/true);
        const int64_t length = static_cast<int64_t>(ids.size());
        if (length >= min_tokens_) {
            out.index = index;
            out.ids = std::move(ids);
            return out;
        }
        short_lengths_.emplace(index, length);
        longest_short_ = std::max(longest_short_, length);
    }
}

} // namespace rilq
