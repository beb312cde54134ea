// HF model folders: sharded fixtures written by tests/reference/llama_reference.py, broken
// folders refused with the file and tensor named, and save_hf_model's folder contract
// (exact round trip, storage dtype, files carried over, atomic replacement).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/io/hf_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "tests/support/test_support.h"
#include "tests/support/test_errors.h"

using nlohmann::json;
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

const char* kSharded = "hf_llama3_gqa_sharded";
const char* kShard1 = "model-00001-of-00002.safetensors";
const char* kShard2 = "model-00002-of-00002.safetensors";

// A private copy of a fixture folder that a test may break.
std::string copy_fixture(const std::string& name) {
    const std::string dir = rilq::test::make_temp_dir("hf") + "/" + name;
    fs::copy(rilq::test::test_data(name), dir, fs::copy_options::recursive);
    return dir;
}

json read_json(const std::string& path) {
    return json::parse(rilq::test::read_file(path));
}
void write_json(const std::string& path, const json& j) {
    rilq::test::write_file(path, j.dump(2));
}

// All tensors of a safetensors file, in file order.
std::vector<std::pair<std::string, torch::Tensor>> all_tensors(const std::string& path) {
    rilq::SafetensorsFile file(path);
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& name : file.names())
        out.emplace_back(name, file.tensor(name));
    return out;
}

rilq::LlamaConfig small_config(bool tied) {
    rilq::LlamaConfig c;
    c.hidden_size = 16;
    c.intermediate_size = 24;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 4;
    c.vocab_size = 40;
    c.max_position_embeddings = 32;
    c.tie_word_embeddings = tied;
    c.bos_token_id = 5;
    c.eos_token_id = 6;
    return c;
}

torch::Tensor sample_ids() {
    return torch::tensor(std::vector<int64_t>{5, 1, 17, 39, 0, 22, 8, 8, 3}).view({1, -1});
}

} // namespace

class TestHfCheckpoint : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void reads_sharded_fixture();
    void rejects_missing_shard();
    void rejects_tensor_absent_from_its_shard();
    void rejects_duplicate_tensor_across_shards();
    void rejects_unlisted_tensor_and_bad_shard_names();
    void rejects_folders_without_weights();
    void rejects_missing_unexpected_and_misshapen_tensors();
    void save_then_load_gives_identical_logits();
    void save_writes_hf_files();
    void save_in_bf16_rounds_weights();
    void save_keeps_tokenizer_files_and_drops_stale_weights();
    void failed_save_leaves_folder_untouched();
    void load_reports_progress_and_cancels();
};

void TestHfCheckpoint::reads_sharded_fixture() {
    const rilq::HfCheckpoint ckpt(rilq::test::test_data(kSharded));
    QCOMPARE(ckpt.config().head_dim, int64_t{16});
    QCOMPARE(ckpt.config().num_key_value_heads, int64_t{2});
    // embed + 2 layers x 9 + norm + lm_head
    QCOMPARE(ckpt.tensor_names().size(), size_t{21});
    QVERIFY(ckpt.contains("lm_head.weight"));
    QVERIFY(ckpt.contains("model.embed_tokens.weight"));
    QCOMPARE(ckpt.tensor("model.layers.1.self_attn.q_proj.weight").sizes().vec(),
             (std::vector<int64_t>{128, 32}));
    // Tensors from both shards are reachable.
    const json index =
        read_json(rilq::test::test_data(std::string(kSharded) + "/model.safetensors.index.json"));
    std::set<std::string> shards;
    for (const auto& [name, shard] : index.at("weight_map").items()) {
        shards.insert(shard.get<std::string>());
        QVERIFY(ckpt.tensor(name).defined());
    }
    QCOMPARE(shards.size(), size_t{2});
    EXPECT_ERROR(ckpt.tensor("model.layers.7.mlp.up_proj.weight"), "model.layers.7.mlp.up_proj.weight");
}

void TestHfCheckpoint::rejects_missing_shard() {
    const std::string dir = copy_fixture(kSharded);
    fs::remove(dir + "/" + kShard2);
    EXPECT_ERROR(rilq::HfCheckpoint(dir), dir + "/model.safetensors.index.json",
                 std::string("shard \"") + kShard2, "missing");
    EXPECT_ERROR(rilq::load_hf_model(dir), kShard2, "missing");
}

void TestHfCheckpoint::rejects_tensor_absent_from_its_shard() {
    const std::string dir = copy_fixture(kSharded);
    const std::string index_path = dir + "/model.safetensors.index.json";
    json index = read_json(index_path);
    // Point a tensor that lives in shard 1 at shard 2.
    std::string moved;
    for (const auto& [name, shard] : index.at("weight_map").items())
        if (shard == kShard1) moved = name;
    QVERIFY(!moved.empty());
    index["weight_map"][moved] = kShard2;
    write_json(index_path, index);
    EXPECT_ERROR(rilq::HfCheckpoint(dir), index_path, "tensor \"" + moved + "\"", kShard2,
                 "does not contain it");
}

void TestHfCheckpoint::rejects_duplicate_tensor_across_shards() {
    const std::string dir = copy_fixture(kSharded);
    auto shard2 = all_tensors(dir + "/" + kShard2);
    const auto shard1 = all_tensors(dir + "/" + kShard1);
    shard2.push_back(shard1.front()); // now in both files; the index still names shard 1
    rilq::save_safetensors(dir + "/" + kShard2, shard2, {{"format", "pt"}});
    EXPECT_ERROR(rilq::HfCheckpoint(dir), "tensor \"" + shard1.front().first + "\"", "two shards", kShard1,
                 kShard2);
}

void TestHfCheckpoint::rejects_unlisted_tensor_and_bad_shard_names() {
    const std::string dir = copy_fixture(kSharded);
    auto shard2 = all_tensors(dir + "/" + kShard2);
    shard2.emplace_back("model.extra.weight", torch::ones({2}));
    rilq::save_safetensors(dir + "/" + kShard2, shard2, {{"format", "pt"}});
    EXPECT_ERROR(rilq::HfCheckpoint(dir), "tensor \"model.extra.weight\"", "weight_map does not list");

    const std::string dir2 = copy_fixture(kSharded);
    const std::string index_path = dir2 + "/model.safetensors.index.json";
    json index = read_json(index_path);
    index["weight_map"]["lm_head.weight"] = "../" + std::string(kShard1);
    write_json(index_path, index);
    EXPECT_ERROR(rilq::HfCheckpoint(dir2), index_path, "lm_head.weight",
                 "not a file name inside the model folder");

    index.erase("weight_map");
    write_json(index_path, index);
    EXPECT_ERROR(rilq::HfCheckpoint(dir2), index_path, "weight_map");
}

void TestHfCheckpoint::rejects_folders_without_weights() {
    const std::string dir = rilq::test::make_temp_dir("hf");
    EXPECT_ERROR(rilq::HfCheckpoint(dir), dir, "config.json");
    QVERIFY(!rilq::is_hf_model_dir(dir));
    fs::copy_file(rilq::test::test_data("hf_llama2_mha/config.json"), dir + "/config.json");
    QVERIFY(rilq::is_hf_model_dir(dir));
    EXPECT_ERROR(rilq::HfCheckpoint(dir), dir, "no model.safetensors");
    rilq::test::write_file(dir + "/pytorch_model.bin", "x");
    EXPECT_ERROR(rilq::HfCheckpoint(dir), dir, "pytorch_model.bin checkpoints are not supported");
}

void TestHfCheckpoint::rejects_missing_unexpected_and_misshapen_tensors() {
    const std::string dir = copy_fixture("hf_llama2_mha");
    const std::string weights = dir + "/model.safetensors";
    const auto original = all_tensors(weights);

    auto without = original;
    without.erase(
        std::remove_if(without.begin(), without.end(),
                       [](const auto& p) { return p.first == "model.layers.1.mlp.up_proj.weight"; }),
        without.end());
    rilq::save_safetensors(weights, without, {{"format", "pt"}});
    EXPECT_ERROR(rilq::load_hf_model(dir), dir, "missing tensor \"model.layers.1.mlp.up_proj.weight\"");

    auto extra = original;
    extra.emplace_back("model.layers.9.self_attn.q_proj.weight", torch::ones({2, 2}));
    rilq::save_safetensors(weights, extra, {{"format", "pt"}});
    EXPECT_ERROR(rilq::load_hf_model(dir), dir,
                 "unexpected tensor \"model.layers.9.self_attn.q_proj.weight\"");

    auto misshapen = original;
    for (auto& [name, t] : misshapen)
        if (name == "model.layers.0.self_attn.k_proj.weight") t = t.narrow(0, 0, 8).contiguous();
    rilq::save_safetensors(weights, misshapen, {{"format", "pt"}});
    EXPECT_ERROR(rilq::load_hf_model(dir), dir, "model.layers.0.self_attn.k_proj.weight", "[8, 32]",
                 "[32, 32]");
}

void TestHfCheckpoint::save_then_load_gives_identical_logits() {
    for (bool tied : {false, true}) {
        const auto model = rilq::LlamaModel::random(small_config(tied), tied ? 11 : 12);
        const std::string dir = rilq::test::make_temp_dir("hf") + "/saved";
        rilq::save_hf_model(model, dir);
        const auto loaded = rilq::load_hf_model(dir);
        QCOMPARE(loaded.config().tie_word_embeddings, tied);
        QCOMPARE(loaded.parameter_count(), model.parameter_count());
        QVERIFY(torch::equal(loaded.logits(sample_ids()), model.logits(sample_ids())));
        const auto state = loaded.hf_state();
        for (const auto& [name, t] : model.hf_state())
            QVERIFY2(torch::equal(state.at(name), t), name.c_str());
    }
}

void TestHfCheckpoint::save_writes_hf_files() {
    const auto model = rilq::LlamaModel::random(small_config(true), 3);
    const std::string dir = rilq::test::make_temp_dir("hf") + "/files";
    rilq::save_hf_model(model, dir);
    const json config = read_json(dir + "/config.json");
    QCOMPARE(config.at("model_type").get<std::string>(), std::string("llama"));
    QCOMPARE(config.at("torch_dtype").get<std::string>(), std::string("float32"));
    QCOMPARE(config.at("tie_word_embeddings").get<bool>(), true);
    const json generation = read_json(dir + "/generation_config.json");
    QCOMPARE(generation.at("bos_token_id").get<int64_t>(), int64_t{5});
    QCOMPARE(generation.at("eos_token_id").get<int64_t>(), int64_t{6});

    rilq::SafetensorsFile weights(dir + "/model.safetensors");
    // transformers refuses safetensors files without format=pt.
    QCOMPARE(weights.metadata().at("format"), std::string("pt"));
    QVERIFY(!weights.contains("lm_head.weight")); // tied: stored once, as HF does
    const auto names = weights.names();
    QCOMPARE(names.front(), std::string("model.embed_tokens.weight"));
    QCOMPARE(names.at(1), std::string("model.layers.0.self_attn.q_proj.weight"));
    QCOMPARE(names.back(), std::string("model.norm.weight"));
    QCOMPARE(names.size(), size_t{1 + 2 * 9 + 1});
    for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path()))
        QVERIFY2(e.path().filename() == "files", ("temp left behind: " + e.path().string()).c_str());
}

void TestHfCheckpoint::save_in_bf16_rounds_weights() {
    const auto model = rilq::LlamaModel::random(small_config(false), 4);
    const std::string dir = rilq::test::make_temp_dir("hf") + "/bf16";
    rilq::save_hf_model(model, dir, "bfloat16");
    QCOMPARE(read_json(dir + "/config.json").at("torch_dtype").get<std::string>(), std::string("bfloat16"));
    rilq::SafetensorsFile weights(dir + "/model.safetensors");
    QCOMPARE(weights.entry("lm_head.weight").dtype, std::string("BF16"));
    const auto loaded = rilq::load_hf_model(dir);
    QCOMPARE(loaded.config().torch_dtype, std::string("bfloat16"));
    QCOMPARE(loaded.embed_tokens().scalar_type(), torch::kFloat32); // compute dtype stays fp32
    const auto expected = model.embed_tokens().to(torch::kBFloat16).to(torch::kFloat32);
    QVERIFY(torch::equal(loaded.embed_tokens(), expected));
    QVERIFY(!torch::equal(loaded.embed_tokens(), model.embed_tokens()));

    // And saving that again in float32 gives a float32 file with the same (rounded) values.
    rilq::save_hf_model(loaded, dir, "float32");
    rilq::SafetensorsFile again(dir + "/model.safetensors");
    QCOMPARE(again.entry("lm_head.weight").dtype, std::string("F32"));
    QVERIFY(torch::equal(again.tensor("model.embed_tokens.weight"), expected));

    EXPECT_ERROR(rilq::save_hf_model(model, dir, "int8"), dir, "unsupported storage dtype \"int8\"");
}

void TestHfCheckpoint::save_keeps_tokenizer_files_and_drops_stale_weights() {
    const std::string dir = copy_fixture(kSharded);
    rilq::test::write_file(dir + "/tokenizer.model", "sentencepiece bytes");
    fs::create_directories(dir + "/original");
    rilq::test::write_file(dir + "/original/params.json", "{}");
    write_json(dir + "/generation_config.json", {{"temperature", 0.6}, {"bos_token_id", 99}});

    const auto model = rilq::load_hf_model(dir);
    rilq::save_hf_model(model, dir);

    QCOMPARE(rilq::test::read_file(dir + "/tokenizer.model"), std::string("sentencepiece bytes"));
    QCOMPARE(rilq::test::read_file(dir + "/original/params.json"), std::string("{}"));
    const json generation = read_json(dir + "/generation_config.json");
    QCOMPARE(generation.at("temperature").get<double>(), 0.6);
    QCOMPARE(generation.at("bos_token_id").get<int64_t>(), int64_t{1});
    // The old shards and index described the replaced weights: gone.
    QVERIFY(!fs::exists(dir + "/model.safetensors.index.json"));
    QVERIFY(!fs::exists(dir + "/" + kShard1));
    QVERIFY(fs::exists(dir + "/model.safetensors"));
    QVERIFY(torch::equal(rilq::load_hf_model(dir).logits(sample_ids()), model.logits(sample_ids())));
}

void TestHfCheckpoint::failed_save_leaves_folder_untouched() {
    const std::string dir = copy_fixture("hf_llama2_mha");
    const std::string before = rilq::test::read_file(dir + "/model.safetensors");
    const auto model = rilq::load_hf_model(dir);
    EXPECT_ERROR(rilq::save_hf_model(model, dir, "float64"), "unsupported storage dtype");
    QVERIFY(rilq::test::read_file(dir + "/model.safetensors") == before);

    const std::string file = rilq::test::make_temp_dir("hf") + "/plain_file";
    rilq::test::write_file(file, "keep me");
    EXPECT_ERROR(rilq::save_hf_model(model, file), file, "not a folder");
    QCOMPARE(rilq::test::read_file(file), std::string("keep me"));
}

void TestHfCheckpoint::load_reports_progress_and_cancels() {
    const std::string dir = rilq::test::test_data(kSharded);
    rilq::ProgressSink sink;
    int64_t last_done = 0, total = 0;
    sink.on_progress = [&](const rilq::ProgressInfo& p) {
        QVERIFY(p.done > last_done);
        last_done = p.done;
        total = p.total;
    };
    rilq::load_hf_model(dir, {}, sink);
    QCOMPARE(total, int64_t{21});
    QCOMPARE(last_done, total);

    rilq::CancelToken cancel;
    cancel.cancel();
    sink.cancel = &cancel;
    bool cancelled = false;
    try {
        rilq::load_hf_model(dir, {}, sink);
    } catch (const rilq::Cancelled&) {
        cancelled = true;
    }
    QVERIFY(cancelled);
}

RILQ_TEST_APPLESS_MAIN(TestHfCheckpoint)
#include "test_hf_checkpoint.moc"
