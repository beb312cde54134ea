// One Alpaca record as IR-QLoRA's DataCollatorForCausalLM tokenizes it (irlora.py l. 464-515;
// shared/data/mmlu/PROTOCOL.md section 2):
//   source = "<s>" + prompt     (the BOS token's text, then alpaca_prompt.h's prompt)
//   target = output + "</s>"    (the EOS token's text)
// Each string is tokenized on its own with add_special_tokens=False and truncated from the
// right: the source to source_max_len tokens (an over-long prompt loses its tail, "### Response: "
// included), the target to target_max_len (an over-long output loses its tail, EOS included).
// input_ids = source + target; labels = -100 on the source, the target ids after it.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/finetune/alpaca_data.h"

namespace rilq {

class Tokenizer;

constexpr int64_t kIgnoreIndex = -100; // labels the loss skips (HF's IGNORE_INDEX)

struct SftExample {
    std::vector<int64_t> ids;      // source tokens, then target tokens
    int64_t source_tokens = 0;     // the first this many ids are the source
    int64_t length_chars = 0;      // group_by_length's length (alpaca_prompt.h)
    bool source_truncated = false; // the source was cut at source_max_len
    bool target_truncated = false; // the target was cut at target_max_len (its EOS is gone)

    // -100 on the source (unless train_on_source), the ids elsewhere.
    std::vector<int64_t> labels(bool train_on_source) const;
    int64_t target_tokens() const { return static_cast<int64_t>(ids.size()) - source_tokens; }
};

// A tokenizer as irlora.py's slow LlamaTokenizer (transformers 4.35, legacy mode) reads text with
// add_special_tokens=False: the special tokens' texts inside the string ("<s>", "</s>", "<unk>")
// become their ids, leftmost first; the text between them goes through the model's tokenizer
// without BOS, each piece with its own SentencePiece dummy prefix. So "<s>Below" is BOS + "▁Below"
// and "Hi!</s>" is "▁Hi", "!", EOS. The [PAD] token irlora.py adds has no id in the model's
// vocabulary, so a literal "[PAD]" in the data stays ordinary text here.
class SftTokenizer {
  public:
    // Error when the tokenizer has no BOS or EOS token.
    explicit SftTokenizer(const Tokenizer& tokenizer);

    std::vector<int64_t> encode(const std::string& text) const;
    SftExample example(const AlpacaRecord& record, int64_t source_max_len, int64_t target_max_len) const;

    const std::string& bos_text() const { return bos_text_; }
    const std::string& eos_text() const { return eos_text_; }
    const Tokenizer& tokenizer() const { return tokenizer_; }

  private:
    const Tokenizer& tokenizer_;
    std::string bos_text_, eos_text_;
    std::vector<std::pair<std::string, int64_t>> specials_; // text -> id
};

} // namespace rilq
