#include "core/tokenize/sentencepiece_model_info.h"

#include "core/util/error.h"

#include <cstdint>

namespace rilq {

namespace {

// A cursor over protobuf wire format: (field, wire type) keys followed by their values.
class WireReader {
  public:
    WireReader(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}

    bool done() const { return pos_ >= bytes_.size(); }

    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= bytes_.size()) fail("truncated varint");
            const auto b = static_cast<unsigned char>(bytes_[pos_++]);
            value |= static_cast<uint64_t>(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        fail("varint longer than 10 bytes");
    }

    std::string_view length_delimited() {
        const uint64_t n = varint();
        if (n > bytes_.size() - pos_) fail("field longer than the message");
        const std::string_view out = bytes_.substr(pos_, static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        return out;
    }

    void skip(int wire_type) {
        switch (wire_type) {
        case 0:
            varint();
            return;
        case 1:
            advance(8);
            return;
        case 2:
            length_delimited();
            return;
        case 5:
            advance(4);
            return;
        default:
            fail("unsupported wire type " + std::to_string(wire_type));
        }
    }

  private:
    void advance(size_t n) {
        if (n > bytes_.size() - pos_) fail("truncated fixed-size field");
        pos_ += n;
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw Error("tokenizer file '" + path_ + "': malformed SentencePiece model at byte " +
                    std::to_string(pos_) + ": " + what);
    }

    std::string_view bytes_;
    const std::string& path_;
    size_t pos_ = 0;
};

// Calls on_field(field, wire_type, reader) for each field; on_field returns false to skip it.
template <class OnField>
void for_each_field(std::string_view message, const std::string& path, OnField&& on_field) {
    WireReader r(message, path);
    while (!r.done()) {
        const uint64_t key = r.varint();
        const int field = static_cast<int>(key >> 3);
        const int wire_type = static_cast<int>(key & 7);
        if (!on_field(field, wire_type, r)) r.skip(wire_type);
    }
}

} // namespace

SentencePieceModelInfo read_sentencepiece_model_info(const std::string& path, std::string_view bytes) {
    SentencePieceModelInfo info;
    for_each_field(bytes, path, [&](int field, int wire_type, WireReader& r) {
        if (wire_type != 2 || (field != 2 && field != 3)) return false;
        const std::string_view message = r.length_delimited();
        if (field == 2) { // TrainerSpec
            for_each_field(message, path, [&](int f, int w, WireReader& t) {
                if (w != 0) return false;
                if (f == 3)
                    info.model_type = static_cast<int>(t.varint());
                else if (f == 24)
                    info.treat_whitespace_as_suffix = t.varint() != 0;
                else
                    return false;
                return true;
            });
        } else { // NormalizerSpec
            for_each_field(message, path, [&](int f, int w, WireReader& n) {
                if (w == 2 && f == 1)
                    info.normalizer_name = std::string(n.length_delimited());
                else if (w == 2 && f == 2)
                    info.has_precompiled_charsmap = !n.length_delimited().empty();
                else if (w == 0 && f == 3)
                    info.add_dummy_prefix = n.varint() != 0;
                else if (w == 0 && f == 4)
                    info.remove_extra_whitespaces = n.varint() != 0;
                else if (w == 0 && f == 5)
                    info.escape_whitespaces = n.varint() != 0;
                else
                    return false;
                return true;
            });
        }
        return true;
    });
    return info;
}

} // namespace rilq
