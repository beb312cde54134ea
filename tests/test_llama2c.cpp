// llama2.c checkpoints on the real stories260K model: header and size checks, the q/k row
// permutation, the untied-classifier layout, the HF round trip, and the known greedy story.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <QElapsedTimer>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/io/hf_checkpoint.h"
#include "core/io/llama2c.h"
#include "core/io/model_loader.h"
#include "core/util/error.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"

namespace fs = std::filesystem;

namespace {
using rilq::test::error_of;

#define EXPECT_ERROR(expr, ...)                                                                              \
    do {                                                                                                     \
        const std::string message_ = error_of([&] { (void)(expr); });                                        \
        QVERIFY2(!message_.empty(), "expected rilq::Error from " #expr);                                     \
        for (const std::string& fragment_ : std::vector<std::string>{__VA_ARGS__})                           \
            QVERIFY2(message_.find(fragment_) != std::string::npos,                                          \
                     ("message lacks \"" + fragment_ + "\": " + message_).c_str());                          \
    } while (0)

std::string stories_bin() {
    return rilq::test::shared_data("stories260K/stories260K.bin");
}

// stories260K: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512, seq_len 512.
constexpr int64_t C = 64, F = 172, L = 5, NH = 8, NKV = 4, V = 512, T_MAX = 512, HD = C / NH, KVD = NKV * HD;

// The fp32 values of the file, after the 7-int header.
torch::Tensor file_floats(const std::string& bytes) {
    const int64_t n = static_cast<int64_t>((bytes.size() - 28) / 4);
    auto t = torch::empty({n}, torch::kFloat32);
    std::memcpy(t.data_ptr(), bytes.data() + 28, static_cast<size_t>(n) * 4);
    return t;
}

// llama2.c tokenizer.bin pieces: int32 max_len, then per token {float score, int32 len, bytes}.
std::vector<std::string> read_pieces(const std::string& path) {
    const std::string bytes = rilq::test::read_file(path);
    std::vector<std::string> pieces;
    size_t pos = 4;
    for (int i = 0; i < V; ++i) {
        int32_t len = 0;
        std::memcpy(&len, bytes.data() + pos + 4, 4);
        pieces.push_back(bytes.substr(pos + 8, static_cast<size_t>(len)));
        pos += 8 + static_cast<size_t>(len);
    }
    return pieces;
}

// run.c's decode(): the space that sentencepiece puts before the first word goes after BOS,
// and <0xXX> pieces are raw bytes.
std::string decode(const std::vector<std::string>& pieces, const std::vector<int64_t>& ids) {
    std::string text;
    int64_t prev = 1;
    for (int64_t id : ids) {
        std::string piece = pieces.at(static_cast<size_t>(id));
        if (prev == 1 && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
        unsigned int byte = 0;
        if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X>", &byte) == 1)
            piece = std::string(1, char(byte));
        text += piece;
        prev = id;
    }
    return text;
}

} // namespace

class TestLlama2c : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void loads_stories260K();
    void permutes_q_and_k_rows_for_rotate_half();
    void untied_classifier_is_read_after_rope_tables();
    void hf_round_trip_gives_identical_logits();
    void rejects_truncated_and_foreign_files();
    void greedy_decoding_tells_the_known_story();
};

void TestLlama2c::loads_stories260K() {
    QVERIFY(rilq::is_llama2c_file(stories_bin()));
    QElapsedTimer timer;
    timer.start();
    const auto model = rilq::load_llama2c(stories_bin());
    qInfo("stories260K.bin load time: %.2f ms", static_cast<double>(timer.nsecsElapsed()) / 1e6);
    const auto& c = model.config();
    QCOMPARE(c.hidden_size, C);
    QCOMPARE(c.intermediate_size, F);
    QCOMPARE(c.num_hidden_layers, L);
    QCOMPARE(c.num_attention_heads, NH);
    QCOMPARE(c.num_key_value_heads, NKV);
    QCOMPARE(c.head_dim, HD);
    QCOMPARE(c.vocab_size, V);
    QCOMPARE(c.max_position_embeddings, T_MAX);
    QCOMPARE(c.rms_norm_eps, 1e-5);
    QCOMPARE(c.rope_theta, 10000.0);
    QVERIFY(c.tie_word_embeddings);
    QCOMPARE(c.bos_token_id, int64_t{1});
    QCOMPARE(c.eos_token_id, int64_t{2});
    // Parameters as PROVENANCE.md counts them: everything but the RoPE tables.
    const int64_t per_layer = 2 * C + C * C + 2 * KVD * C + C * C + 3 * F * C;
    QCOMPARE(model.parameter_count(), V * C + L * per_layer + C);
    QCOMPARE(model.parameter_count() + 2 * T_MAX * HD / 2, int64_t{264128});

    // load_model dispatches the same file the same way.
    const auto again = rilq::load_model(stories_bin());
    const auto ids = torch::tensor(std::vector<int64_t>{1, 400, 30, 77}).view({1, -1});
    QVERIFY(torch::equal(again.logits(ids), model.logits(ids)));
}

void TestLlama2c::permutes_q_and_k_rows_for_rotate_half() {
    const auto floats = file_floats(rilq::test::read_file(stories_bin()));
    const auto model = rilq::load_llama2c(stories_bin());
    // Offsets (in floats) of layer 2's wq and wk in run.c's layout.
    const int64_t layer = 2;
    const int64_t wq_at = V * C + L * C + layer * C * C;
    const int64_t wk_at = V * C + L * C + L * C * C + layer * KVD * C;
    const auto wq = floats.narrow(0, wq_at, C * C).view({C, C});
    const auto wk = floats.narrow(0, wk_at, KVD * C).view({KVD, C});
    const auto& q = model.layers()[layer].q_proj.weight;
    const auto& k = model.layers()[layer].k_proj.weight;
    // Within head h, llama2.c pairs rows (2i, 2i+1); HF pairs rows (i, i + HD/2).
    for (int64_t h = 0; h < NH; ++h)
        for (int64_t i = 0; i < HD / 2; ++i) {
            QVERIFY(torch::equal(q[h * HD + i], wq[h * HD + 2 * i]));
            QVERIFY(torch::equal(q[h * HD + HD / 2 + i], wq[h * HD + 2 * i + 1]));
        }
    for (int64_t h = 0; h < NKV; ++h)
        for (int64_t i = 0; i < HD / 2; ++i) {
            QVERIFY(torch::equal(k[h * HD + i], wk[h * HD + 2 * i]));
            QVERIFY(torch::equal(k[h * HD + HD / 2 + i], wk[h * HD + 2 * i + 1]));
        }
    // v is not rotated, so it is taken as is.
    const int64_t wv_at = wk_at + L * KVD * C;
    QVERIFY(
        torch::equal(model.layers()[layer].v_proj.weight, floats.narrow(0, wv_at, KVD * C).view({KVD, C})));
}

void TestLlama2c::untied_classifier_is_read_after_rope_tables() {
    // stories260K with its vocab_size negated and a classifier appended (2 * embedding + 1).
    std::string bytes = rilq::test::read_file(stories_bin());
    const int32_t negative_vocab = -static_cast<int32_t>(V);
    std::memcpy(bytes.data() + 5 * 4, &negative_vocab, 4);
    const auto embedding = file_floats(bytes).narrow(0, 0, V * C).view({V, C});
    const auto classifier = (embedding * 2 + 1).contiguous();
    bytes.append(static_cast<const char*>(classifier.data_ptr()), static_cast<size_t>(V * C * 4));
    const std::string path = rilq::test::make_temp_dir("l2c") + "/untied.bin";
    rilq::test::write_file(path, bytes);

    const auto model = rilq::load_llama2c(path);
    QVERIFY(!model.config().tie_word_embeddings);
    QCOMPARE(model.config().vocab_size, V);
    QVERIFY(torch::equal(model.embed_tokens(), embedding));
    QVERIFY(torch::equal(model.lm_head_weight(), classifier));

    // Without the appended classifier the size no longer matches the header.
    rilq::test::write_file(path, bytes.substr(0, bytes.size() - static_cast<size_t>(V * C * 4)));
    EXPECT_ERROR(rilq::load_llama2c(path), path, "expected " + std::to_string(bytes.size()) + " bytes",
                 "found " + std::to_string(bytes.size() - static_cast<size_t>(V * C * 4)));
}

void TestLlama2c::hf_round_trip_gives_identical_logits() {
    const auto model = rilq::load_llama2c(stories_bin());
    const std::string dir = rilq::test::make_temp_dir("l2c") + "/stories260K-hf";
    rilq::save_hf_model(model, dir);
    const auto size_bytes = fs::file_size(dir + "/model.safetensors");
    qInfo("stories260K as HF folder: model.safetensors %llu bytes (llama2.c .bin %llu bytes)",
          static_cast<unsigned long long>(size_bytes),
          static_cast<unsigned long long>(fs::file_size(stories_bin())));
    // fp32 weights minus the RoPE tables, plus a header of a few KB.
    const auto weight_bytes = static_cast<uintmax_t>(model.parameter_count() * 4);
    QVERIFY(size_bytes > weight_bytes && size_bytes < weight_bytes + 8192);

    QVERIFY(rilq::is_hf_model_dir(dir));
    QElapsedTimer timer;
    timer.start();
    const auto reloaded = rilq::load_model(dir);
    qInfo("stories260K HF folder load time: %.2f ms", static_cast<double>(timer.nsecsElapsed()) / 1e6);
    QCOMPARE(reloaded.config().max_position_embeddings, T_MAX);
    QCOMPARE(reloaded.config().rms_norm_eps, 1e-5);
    torch::manual_seed(7);
    const auto ids = torch::randint(0, V, {2, 48}, torch::kInt64);
    const auto a = model.logits(ids);
    const auto b = reloaded.logits(ids);
    qInfo("llama2.c vs HF round trip: max |diff| = %g", rilq::test::max_abs_diff(a, b));
    QVERIFY(torch::equal(a, b));
}

void TestLlama2c::rejects_truncated_and_foreign_files() {
    const std::string dir = rilq::test::make_temp_dir("l2c");
    const std::string bytes = rilq::test::read_file(stories_bin());
    const std::string cut = dir + "/stories260K.bin";
    rilq::test::write_file(cut, bytes.substr(0, bytes.size() - 1000));
    EXPECT_ERROR(rilq::load_llama2c(cut), cut, "expected 1056540 bytes", "found 1055540", "truncated");
    EXPECT_ERROR(rilq::load_model(cut), cut, "expected 1056540 bytes");

    const std::string longer = dir + "/longer.bin";
    rilq::test::write_file(longer, bytes + std::string(4, '\0'));
    EXPECT_ERROR(rilq::load_llama2c(longer), longer, "expected 1056540 bytes", "found 1056544");

    const std::string tiny = dir + "/tiny.bin";
    rilq::test::write_file(tiny, bytes.substr(0, 12));
    EXPECT_ERROR(rilq::load_llama2c(tiny), tiny, "too short");

    // llama2.c's newer exports start with the magic "ak42".
    const std::string versioned = dir + "/v1.bin";
    std::string v1 = bytes;
    const int32_t magic = 0x616b3432;
    std::memcpy(v1.data(), &magic, 4);
    rilq::test::write_file(versioned, v1);
    QVERIFY(!rilq::is_llama2c_file(versioned));
    EXPECT_ERROR(rilq::load_llama2c(versioned), versioned, "version 0");

    const std::string text = dir + "/notes.txt";
    rilq::test::write_file(text, "Once upon a time there was a text file that was not a model.");
    QVERIFY(!rilq::is_llama2c_file(text));
    EXPECT_ERROR(rilq::load_model(text), text, "not a model");
    EXPECT_ERROR(rilq::load_model(dir + "/absent"), dir + "/absent", "no such file");
    EXPECT_ERROR(rilq::load_model(dir), dir, "no config.json");
}

void TestLlama2c::greedy_decoding_tells_the_known_story() {
    const auto model = rilq::load_llama2c(stories_bin());
    const auto pieces = read_pieces(rilq::test::shared_data("stories260K/tok512.bin"));
    std::vector<int64_t> ids = {1}; // BOS
    torch::NoGradGuard no_grad;
    for (int step = 0; step < 60; ++step) {
        const auto input = torch::tensor(ids).view({1, -1});
        const auto logits = model.logits(input); // (1, T, V)
        ids.push_back(logits[0][-1].argmax().item<int64_t>());
    }
    const std::string story = decode(pieces, std::vector<int64_t>(ids.begin() + 1, ids.end()));
    qInfo("greedy: %s", story.c_str());
    const std::string expected =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    QVERIFY2(story.rfind(expected, 0) == 0, story.c_str());
}

RILQ_TEST_APPLESS_MAIN(TestLlama2c)
#include "test_llama2c.moc"
