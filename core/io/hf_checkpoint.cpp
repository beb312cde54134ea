// HF Llama folders: reading (single file or sharded, validated across shards) and writing
// (config.json + generation_config.json + model.safetensors, atomically, keeping tokenizer files).
#include "core/io/hf_checkpoint.h"

#include "core/io/safetensors.h"
#include "core/util/atomic_dir.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace rilq {

namespace {

using json = nlohmann::json;

constexpr const char* kConfigFile = "config.json";
constexpr const char* kGenerationConfigFile = "generation_config.json";
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// A shard name from an index must stay inside the model folder.
void check_shard_name(const std::string& shard, const fs::path& index_path, const std::string& tensor) {
    const fs::path p(shard);
    if (shard.empty() || p.is_absolute() || p.has_parent_path() || shard == "." || shard == "..")
        throw Error(index_path.string() + ": weight_map[\"" + clip_for_message(tensor, 120) + "\"] = \"" +
                    clip_for_message(shard, 120) + "\" is not a file name inside the model folder");
}

torch::Dtype storage_dtype_from_name(const std::string& name, const std::string& where) {
    if (name == "float32") return torch::kFloat32;
    if (name == "bfloat16") return torch::kBFloat16;
    if (name == "float16") return torch::kFloat16;
    throw Error(where + ": unsupported storage dtype \"" + name + "\" (float32, bfloat16, float16)");
}

// HF module order (embeddings, then each layer's attention, MLP and norms, final norm,
// head): what a reader expects to see first when it streams the file.
std::vector<std::string> checkpoint_order(const std::map<std::string, torch::Tensor>& state,
                                          int64_t n_layers) {
    std::vector<std::string> order = {"model.embed_tokens.weight"};
    for (int64_t i = 0; i < n_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        for (const auto& proj : projection_paths())
            order.push_back(p + proj + ".weight");
        order.push_back(p + "input_layernorm.weight");
        order.push_back(p + "post_attention_layernorm.weight");
    }
    order.push_back("model.norm.weight");
    order.push_back("lm_head.weight");
    std::vector<std::string> present;
    std::set<std::string> placed;
    for (const auto& name : order)
        if (state.count(name)) {
            present.push_back(name);
            placed.insert(name);
        }
    for (const auto& [name, t] : state) {
        (void)t;
        if (!placed.count(name)) present.push_back(name);
    }
    return present;
}

// Files of a previous checkpoint in the destination that describe weights we are replacing;
// keeping them would leave a folder that contradicts itself. Everything else is carried over.
bool is_replaced_by_save(const std::string& file_name) {
    auto ends_with = [&](const std::string& suffix) {
        return file_name.size() >= suffix.size() &&
               file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return file_name == kConfigFile || file_name == kGenerationConfigFile || ends_with(".safetensors") ||
           ends_with(".safetensors.index.json") || file_name.rfind("pytorch_model", 0) == 0;
}

} // namespace

// ----------------------------------------------------------------------------
// reading

HfCheckpoint::HfCheckpoint(const std::string& dir) : dir_(dir) {
    const fs::path root(dir);
    if (!fs::is_directory(root)) throw Error(dir + ": not a directory");
    const fs::path config_path = root / kConfigFile;
    if (!fs::exists(config_path)) throw Error(dir + ": no config.json (not an HF model folder)");
    config_ = LlamaConfig::from_file(config_path.string());

    const fs::path index_path = root / kIndexFile;
    if (fs::exists(index_path)) {
        const json index = read_json_file(index_path.string());
        if (!index.is_object() || !index.contains("weight_map") || !index.at("weight_map").is_object())
            throw Error(index_path.string() + ": missing object \"weight_map\" (tensor name -> shard file)");
        for (const auto& [tensor, shard] : index.at("weight_map").items()) {
            if (!shard.is_string())
                throw Error(index_path.string() + ": weight_map[\"" + tensor +
                            "\"] must be a file name, found " + json_excerpt(shard));
            check_shard_name(shard.get<std::string>(), index_path, tensor);
            weight_map_[tensor] = shard.get<std::string>();
        }
        // Open every shard now (header only; mmap is cheap) so a broken folder fails at load,
        // not halfway through a long job.
        for (const auto& [tensor, shard] : weight_map_) {
            if (shards_.count(shard)) continue;
            const fs::path shard_path = root / shard;
            if (!fs::exists(shard_path))
                throw Error(index_path.string() + ": shard \"" + shard + "\" (listed for tensor \"" + tensor +
                            "\") is missing from " + dir);
            shards_[shard] = std::make_unique<SafetensorsFile>(shard_path.string());
        }
        for (const auto& [tensor, shard] : weight_map_)
            if (!shards_.at(shard)->contains(tensor))
                throw Error(index_path.string() + ": tensor \"" + tensor + "\" is listed in shard \"" +
                            shard + "\" but " + (root / shard).string() + " does not contain it");
        // A tensor stored in two shards is ambiguous, and one absent from the index is invisible.
        std::map<std::string, std::string> found_in;
        for (const auto& [shard, file] : shards_) {
            for (const auto& tensor : file->names()) {
                auto [it, inserted] = found_in.emplace(tensor, shard);
                if (!inserted)
                    throw Error(dir + ": tensor \"" + tensor + "\" appears in two shards: \"" + it->second +
                                "\" and \"" + shard + "\"");
                if (!weight_map_.count(tensor))
                    throw Error(index_path.string() + ": shard \"" + shard + "\" holds tensor \"" + tensor +
                                "\" that weight_map does not list");
            }
        }
        return;
    }

    const fs::path single = root / kSingleFile;
    if (!fs::exists(single)) {
        std::string hint;
        if (fs::exists(root / "pytorch_model.bin") || fs::exists(root / "pytorch_model.bin.index.json"))
            hint = " (pytorch_model.bin checkpoints are not supported: convert them to safetensors)";
        throw Error(dir + ": no " + kSingleFile + " or " + kIndexFile + hint);
    }
    auto file = std::make_unique<SafetensorsFile>(single.string());
    for (const auto& name : file->names())
        weight_map_[name] = kSingleFile;
    shards_[kSingleFile] = std::move(file);
}

HfCheckpoint::~HfCheckpoint() = default;

std::vector<std::string> HfCheckpoint::tensor_names() const {
    std::vector<std::string> names;
    for (const auto& [name, shard] : weight_map_)
        names.push_back(name);
    return names;
}

bool HfCheckpoint::contains(const std::string& name) const {
    return weight_map_.count(name) > 0;
}

// The shard holding `name`, opened on first use.
static const SafetensorsFile& shard_of(const std::string& dir,
                                       const std::map<std::string, std::string>& weight_map,
                                       std::map<std::string, std::unique_ptr<SafetensorsFile>>& shards,
                                       const std::string& name) {
    auto it = weight_map.find(name);
    if (it == weight_map.end()) throw Error(dir + ": no tensor \"" + name + "\"");
    auto& shard = shards[it->second];
    if (!shard) shard = std::make_unique<SafetensorsFile>((fs::path(dir) / it->second).string());
    return *shard;
}

torch::Tensor HfCheckpoint::tensor(const std::string& name) const {
    return shard_of(dir_, weight_map_, shards_, name).tensor(name);
}

torch::Tensor HfCheckpoint::mapped_tensor(const std::string& name) const {
    return shard_of(dir_, weight_map_, shards_, name).mapped_tensor(name);
}

std::vector<int64_t> HfCheckpoint::tensor_shape(const std::string& name) const {
    return shard_of(dir_, weight_map_, shards_, name).entry(name).shape;
}

std::string HfCheckpoint::tensor_dtype(const std::string& name) const {
    return shard_of(dir_, weight_map_, shards_, name).entry(name).dtype;
}

bool is_hf_model_dir(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec) && fs::exists(fs::path(path) / kConfigFile, ec);
}

LlamaModel load_hf_model(const std::string& dir, const ModelOptions& options, const ProgressSink& progress) {
    const HfCheckpoint checkpoint(dir);
    const auto names = checkpoint.tensor_names();
    const auto start = std::chrono::steady_clock::now();
    std::map<std::string, torch::Tensor> state;
    int64_t done = 0;
    for (const auto& name : names) {
        progress.check_cancel();
        auto t = checkpoint.tensor(name);
        // Convert while loading so a bf16 file computed in fp32 never holds both copies at once.
        // Non-float tensors are left alone for the model to reject by name.
        if (t.is_floating_point()) t = t.to(options.compute_dtype);
        state.emplace(name, std::move(t));
        ++done;
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.report({"load " + dir, done, static_cast<int64_t>(names.size()), "tensors", elapsed_s,
                         elapsed_s / static_cast<double>(done) * static_cast<double>(names.size() - done)});
    }
    return LlamaModel(checkpoint.config(), state, options, dir);
}

// ----------------------------------------------------------------------------
// writing

void save_hf_model(const LlamaModel& model, const std::string& dir, const std::string& storage_dtype) {
    LlamaConfig config = model.config();
    if (!storage_dtype.empty()) config.torch_dtype = storage_dtype;
    const torch::Dtype dtype = storage_dtype_from_name(config.torch_dtype, dir);
    if (fs::exists(dir) && !fs::is_directory(dir))
        throw Error(dir + ": exists and is not a folder; not replacing it");

    const auto state = model.hf_state();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& name : checkpoint_order(state, config.num_hidden_layers))
        tensors.emplace_back(name, state.at(name).to(torch::kCPU, dtype));

    // Keep the generation settings a user already had (sampling defaults), only bos/eos follow the model.
    json generation = json::object();
    const fs::path old_generation = fs::path(dir) / kGenerationConfigFile;
    if (fs::exists(old_generation)) {
        try {
            generation = read_json_file(old_generation.string());
        } catch (const Error&) {
            generation = json::object(); // unreadable: replaced by a fresh one
        }
        if (!generation.is_object()) generation = json::object();
    }
    generation["_from_model_config"] = generation.value("_from_model_config", true);
    generation["bos_token_id"] = config.bos_token_id;
    generation["eos_token_id"] = config.eos_token_id;

    // An existing folder is updated, not lost: everything in it but the files this save replaces
    // is carried into the new folder (a tokenizer, a README), so any folder may be the target.
    const ReplaceRule any_folder{"a folder", [](const std::string&) { return true; }};
    write_dir_atomic(dir, any_folder, [&](const std::string& tmp_dir) {
        const fs::path tmp(tmp_dir);
        if (fs::is_directory(dir)) {
            for (const auto& entry : fs::directory_iterator(dir)) {
                const std::string file_name = entry.path().filename().string();
                if (is_replaced_by_save(file_name)) continue;
                fs::copy(entry.path(), tmp / file_name, fs::copy_options::recursive);
            }
        }
        // TF/HF "format": "pt" metadata: transformers refuses safetensors files without it.
        save_safetensors((tmp / kSingleFile).string(), tensors, {{"format", "pt"}});
        write_file_atomic((tmp / kConfigFile).string(), config.to_json().dump(2) + "\n");
        write_file_atomic((tmp / kGenerationConfigFile).string(), generation.dump(2) + "\n");
    });
}

} // namespace rilq
