// llama2.c legacy "version 0" checkpoints -> LlamaModel under HF names.
//
// File layout (all little-endian, run.c's memory_map_weights order):
//   int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//   token_embedding (V, C)          rms_att (L, C)
//   wq (L, C, C)   wk (L, KVD, C)   wv (L, KVD, C)   wo (L, C, C)
//   rms_ffn (L, C)  w1 (L, F, C)    w2 (L, C, F)     w3 (L, F, C)
//   rms_final (C)   freq_cis_real (seq_len, HD/2)   freq_cis_imag (seq_len, HD/2)
//   [wcls (V, C) only when vocab_size < 0]
// Linear weights are row-major (out, in), like PyTorch.
#include "core/io/llama2c.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "llama2.c files are little-endian");

namespace fs = std::filesystem;

namespace rilq {

namespace {

constexpr uint64_t kHeaderBytes = 7 * sizeof(int32_t);
// llama2.c's newer exports (version 1, 2) start with this magic ("ak42" read as int32).
constexpr int32_t kVersionedMagic = 0x616b3432;
// Header values beyond this are not a model anyone could load (and would overflow sizes).
constexpr int64_t kMaxDimension = 1 << 22;

struct Llama2cHeader {
    int64_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;

    int64_t vocab() const { return vocab_size < 0 ? -vocab_size : vocab_size; }
    bool shared_classifier() const { return vocab_size > 0; }
    int64_t head_size() const { return dim / n_heads; }
    int64_t kv_dim() const { return dim * n_kv_heads / n_heads; }

    std::string describe() const {
        return "dim=" + std::to_string(dim) + " hidden_dim=" + std::to_string(hidden_dim) +
               " n_layers=" + std::to_string(n_layers) + " n_heads=" + std::to_string(n_heads) +
               " n_kv_heads=" + std::to_string(n_kv_heads) + " vocab_size=" + std::to_string(vocab_size) +
               " seq_len=" + std::to_string(seq_len);
    }

    // Empty when the header could describe a model; otherwise why not.
    std::string problem() const {
        if (dim == kVersionedMagic)
            return "this is a versioned llama2.c export (magic \"ak42\"); only the legacy version 0 format "
                   "is "
                   "supported";
        for (const auto& [value, field] : {std::pair{dim, "dim"},
                                           {hidden_dim, "hidden_dim"},
                                           {n_layers, "n_layers"},
                                           {n_heads, "n_heads"},
                                           {n_kv_heads, "n_kv_heads"},
                                           {vocab(), "vocab_size"},
                                           {seq_len, "seq_len"}})
            if (value <= 0 || value > kMaxDimension)
                return std::string("header field ") + field + " = " + std::to_string(value) +
                       " is implausible";
        if (dim % n_heads != 0) return "dim is not a multiple of n_heads";
        if (n_heads % n_kv_heads != 0) return "n_heads is not a multiple of n_kv_heads";
        if (head_size() % 2 != 0) return "head size dim/n_heads is odd (RoPE needs pairs)";
        return "";
    }

    // Floats after the header, in file order.
    uint64_t float_count() const {
        const auto C = static_cast<uint64_t>(dim), F = static_cast<uint64_t>(hidden_dim);
        const auto L = static_cast<uint64_t>(n_layers), V = static_cast<uint64_t>(vocab());
        const auto KVD = static_cast<uint64_t>(kv_dim()), T = static_cast<uint64_t>(seq_len);
        const auto HD = static_cast<uint64_t>(head_size());
        // Overflow-checked (saturating) so a lying header cannot wrap around to a small size.
        uint64_t total = 0;
        auto add = [&](std::initializer_list<uint64_t> factors) {
            uint64_t product = 1;
            for (uint64_t f : factors)
                if (__builtin_mul_overflow(product, f, &product)) product = UINT64_MAX;
            if (__builtin_add_overflow(total, product, &total)) total = UINT64_MAX;
        };
        add({V, C});                           // token_embedding
        add({L, C});                           // rms_att
        add({L, C, C});                        // wq
        add({L, KVD, C});                      // wk
        add({L, KVD, C});                      // wv
        add({L, C, C});                        // wo
        add({L, C});                           // rms_ffn
        add({L, F, C});                        // w1
        add({L, C, F});                        // w2
        add({L, F, C});                        // w3
        add({C});                              // rms_final
        add({T, HD / 2});                      // freq_cis_real
        add({T, HD / 2});                      // freq_cis_imag
        if (!shared_classifier()) add({V, C}); // wcls
        return total;
    }

    uint64_t expected_file_bytes() const {
        const uint64_t n = float_count();
        return n > (UINT64_MAX - kHeaderBytes) / 4 ? UINT64_MAX : kHeaderBytes + 4 * n;
    }
};

bool read_header(const std::string& path, Llama2cHeader& header, uint64_t& file_bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return false;
    file_bytes = fs::file_size(path, ec);
    if (ec || file_bytes < kHeaderBytes) return false;
    std::ifstream in(path, std::ios::binary);
    std::array<int32_t, 7> h{};
    in.read(reinterpret_cast<char*>(h.data()), kHeaderBytes);
    if (!in) return false;
    header = {h[0], h[1], h[2], h[3], h[4], h[5], h[6]};
    return true;
}

// HF convert_llama_weights_to_hf.py:
//   permute(w, n_heads, dim1, dim2) = w.view(n_heads, dim1 // n_heads // 2, 2, dim2)
//                                      .transpose(1, 2).reshape(dim1, dim2)
// Within each head, llama2.c rotates interleaved pairs (2i, 2i+1); HF rotates (i, i + HD/2).
// Reordering the rows of q/k makes the HF rotation act on the same pairs.
torch::Tensor permute_for_rotate_half(const torch::Tensor& w, int64_t n_heads, int64_t dim1, int64_t dim2) {
    return w.view({n_heads, dim1 / n_heads / 2, 2, dim2}).transpose(1, 2).reshape({dim1, dim2}).contiguous();
}

} // namespace

bool is_llama2c_file(const std::string& path) {
    Llama2cHeader header;
    uint64_t file_bytes = 0;
    return read_header(path, header, file_bytes) && header.problem().empty();
}

LlamaModel load_llama2c(const std::string& path, const ModelOptions& options) {
    Llama2cHeader h;
    uint64_t file_bytes = 0;
    if (!read_header(path, h, file_bytes)) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) throw Error(path + ": not a file");
        throw Error(path + ": too short for a llama2.c header (" + std::to_string(file_bytes) +
                    " bytes, need " + std::to_string(kHeaderBytes) + ")");
    }
    if (const auto problem = h.problem(); !problem.empty())
        throw Error(path + ": not a llama2.c version 0 checkpoint: " + problem + " (" + h.describe() + ")");
    const uint64_t expected = h.expected_file_bytes();
    if (file_bytes != expected)
        throw Error(path + ": file size does not match its llama2.c header (" + h.describe() +
                    "): expected " + std::to_string(expected) + " bytes, found " +
                    std::to_string(file_bytes) +
                    (file_bytes < expected ? " (truncated?)" : " (not a version 0 export?)"));

    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(kHeaderBytes));
    // Reads the next block of fp32 values as a tensor of `shape`.
    auto next = [&](const char* what, std::vector<int64_t> shape) {
        auto t = torch::empty(shape, torch::kFloat32);
        in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
        if (!in) throw Error(path + ": read failed in " + what);
        return t;
    };
    const int64_t C = h.dim, F = h.hidden_dim, L = h.n_layers, V = h.vocab();
    const int64_t KVD = h.kv_dim(), HD = h.head_size(), T = h.seq_len;

    auto token_embedding = next("token_embedding", {V, C});
    auto rms_att = next("rms_att", {L, C});
    auto wq = next("wq", {L, C, C});
    auto wk = next("wk", {L, KVD, C});
    auto wv = next("wv", {L, KVD, C});
    auto wo = next("wo", {L, C, C});
    auto rms_ffn = next("rms_ffn", {L, C});
    auto w1 = next("w1", {L, F, C});
    auto w2 = next("w2", {L, C, F});
    auto w3 = next("w3", {L, F, C});
    auto rms_final = next("rms_final", {C});
    // The RoPE tables are recomputed from the config; skip them.
    in.seekg(static_cast<std::streamoff>(2 * T * (HD / 2) * 4), std::ios::cur);
    torch::Tensor wcls = h.shared_classifier() ? torch::Tensor() : next("wcls", {V, C});

    LlamaConfig config;
    config.hidden_size = C;
    config.intermediate_size = F;
    config.num_hidden_layers = L;
    config.num_attention_heads = h.n_heads;
    config.num_key_value_heads = h.n_kv_heads;
    config.head_dim = HD;
    config.vocab_size = V;
    config.max_position_embeddings = T;
    config.rms_norm_eps = 1e-5;  // run.c's rmsnorm
    config.rope_theta = 10000.0; // run.c's RoPE
    config.tie_word_embeddings = h.shared_classifier();
    config.torch_dtype = "float32";
    config.bos_token_id = 1; // llama2.c's sentencepiece conventions
    config.eos_token_id = 2;

    std::map<std::string, torch::Tensor> state;
    state["model.embed_tokens.weight"] = token_embedding;
    for (int64_t i = 0; i < L; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        state[p + "input_layernorm.weight"] = rms_att[i];
        state[p + "self_attn.q_proj.weight"] = permute_for_rotate_half(wq[i], h.n_heads, C, C);
        state[p + "self_attn.k_proj.weight"] = permute_for_rotate_half(wk[i], h.n_kv_heads, KVD, C);
        state[p + "self_attn.v_proj.weight"] = wv[i];
        state[p + "self_attn.o_proj.weight"] = wo[i];
        state[p + "post_attention_layernorm.weight"] = rms_ffn[i];
        state[p + "mlp.gate_proj.weight"] = w1[i];
        state[p + "mlp.down_proj.weight"] = w2[i];
        state[p + "mlp.up_proj.weight"] = w3[i];
    }
    state["model.norm.weight"] = rms_final;
    if (!h.shared_classifier()) state["lm_head.weight"] = wcls;
    return LlamaModel(config, state, options, path);
}

} // namespace rilq
