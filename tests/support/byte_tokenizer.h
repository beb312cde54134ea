// A toy tokenizer for sampler tests: one id per UTF-8 byte (id = byte + 3), BOS = 1, EOS = 2,
// exactly the tokenizer tests/reference/windows_reference.py uses, so the data samplers are
// tested independently of the real tokenizers.
#pragma once
#include <string>
#include <vector>

#include "core/tokenize/tokenizer.h"

namespace rilq::test {

class ByteTokenizer : public rilq::Tokenizer {
  public:
    std::vector<int64_t> encode(const std::string& text, bool add_bos) const override {
        std::vector<int64_t> ids;
        ids.reserve(text.size() + 1);
        if (add_bos) ids.push_back(bos_id());
        for (unsigned char c : text)
            ids.push_back(static_cast<int64_t>(c) + 3);
        return ids;
    }
    std::string decode(const std::vector<int64_t>& ids) const override {
        std::string text;
        for (int64_t id : ids)
            if (id >= 3) text.push_back(static_cast<char>(id - 3));
        return text;
    }
    int64_t vocab_size() const override { return 259; }
    int64_t bos_id() const override { return 1; }
    int64_t eos_id() const override { return 2; }
    std::string kind() const override { return "toy-bytes"; }
    std::string path() const override { return "(test)"; }
};

} // namespace rilq::test
