#include "core/io/random_checkpoint.h"

#include "core/io/safetensors.h"
#include "core/util/atomic_dir.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace rilq {

namespace {

// FNV-1a: a tensor's generator seed from its name, the same on every platform and build.
uint64_t random_tensor_seed(const std::string& name, uint64_t seed) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (const unsigned char c : name) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

bool is_norm_weight(const std::string& name) {
    return name.find("norm.weight") != std::string::npos;
}

// Rows generated at a time: the fp32 scratch of a 128k x 4096 embedding stays ~64 MB.
constexpr int64_t kRandomRowsPerChunk = 4096;

} // namespace

std::string shard_file_name(int64_t index, int64_t count) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05lld-of-%05lld.safetensors", static_cast<long long>(index + 1),
                  static_cast<long long>(count));
    return name;
}

torch::Tensor random_checkpoint_tensor(const std::string& name, const std::vector<int64_t>& shape,
                                       uint64_t seed, torch::Dtype storage_dtype) {
    auto gen = at::detail::createCPUGenerator(random_tensor_seed(name, seed));
    auto out = torch::empty(shape, torch::TensorOptions().dtype(storage_dtype));
    const bool norm = is_norm_weight(name);
    auto rows = out.dim() == 0 ? out.view({1}) : out;
    for (int64_t r = 0; r < rows.size(0); r += kRandomRowsPerChunk) {
        const int64_t n = std::min(kRandomRowsPerChunk, rows.size(0) - r);
        auto part = rows.narrow(0, r, n);
        auto values = torch::randn(part.sizes(), gen, torch::kFloat32);
        part.copy_(norm ? 1.0 + values * 0.1 : values * 0.02);
    }
    return out;
}

RandomCheckpointInfo write_random_checkpoint(const LlamaConfig& config_in, const std::string& dir,
                                             const RandomCheckpointOptions& options,
                                             const ProgressSink& progress) {
    config_in.validate("make-random");
    if (options.max_shard_bytes < 1) throw Error("make-random: the shard size must be at least 1 byte");
    if (!options.tokenizer_file.empty() && !fs::is_regular_file(options.tokenizer_file))
        throw Error(options.tokenizer_file + ": no such tokenizer file");
    LlamaConfig config = config_in;
    config.torch_dtype = options.storage_dtype == torch::kBFloat16  ? "bfloat16"
                         : options.storage_dtype == torch::kFloat16 ? "float16"
                                                                    : "float32";
    const auto start = std::chrono::steady_clock::now();
    const int64_t itemsize = static_cast<int64_t>(c10::elementSize(options.storage_dtype));

    // Shards in checkpoint order, each filled up to max_shard_bytes (a larger tensor gets its own).
    std::vector<std::vector<SafetensorsTensorSpec>> shards(1);
    int64_t shard_bytes = 0;
    RandomCheckpointInfo info;
    for (const auto& [name, shape] : config.hf_tensor_shapes()) {
        int64_t numel = 1;
        for (int64_t d : shape)
            numel *= d;
        const int64_t bytes = numel * itemsize;
        if (!shards.back().empty() && shard_bytes + bytes > options.max_shard_bytes) {
            shards.emplace_back();
            shard_bytes = 0;
        }
        shards.back().push_back({name, options.storage_dtype, shape});
        shard_bytes += bytes;
        info.total_bytes += bytes;
        info.parameters += numel;
    }
    info.shards = static_cast<int64_t>(shards.size());

    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    for (size_t s = 0; s < shards.size(); ++s)
        for (const auto& spec : shards[s])
            weight_map[spec.name] = shard_file_name(static_cast<int64_t>(s), info.shards);
    const nlohmann::ordered_json index = {{"metadata", {{"total_size", info.total_bytes}}},
                                          {"weight_map", weight_map}};

    const ReplaceRule nothing{"a folder make-random may replace", {}};
    write_dir_atomic(dir, nothing, [&](const std::string& tmp_dir) {
        const fs::path tmp(tmp_dir);
        int64_t written = 0;
        for (size_t s = 0; s < shards.size(); ++s) {
            const auto& specs = shards[s];
            save_safetensors_streamed(
                (tmp / shard_file_name(static_cast<int64_t>(s), info.shards)).string(), specs,
                [&](size_t i) {
                    progress.check_cancel();
                    auto t = random_checkpoint_tensor(specs[i].name, specs[i].shape, options.seed,
                                                      options.storage_dtype);
                    written += t.numel() * itemsize;
                    const double elapsed =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    progress.report({"make-random " + dir, written, info.total_bytes, "bytes", elapsed,
                                     elapsed / static_cast<double>(std::max<int64_t>(written, 1)) *
                                         static_cast<double>(info.total_bytes - written)});
                    return t;
                },
                {{"format", "pt"}});
        }
        write_file_atomic((tmp / "model.safetensors.index.json").string(), index.dump(2) + "\n");
        write_file_atomic((tmp / "config.json").string(), config.to_json().dump(2) + "\n");
        if (!options.tokenizer_file.empty())
            fs::copy_file(options.tokenizer_file, tmp / fs::path(options.tokenizer_file).filename());
    });
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return info;
}

} // namespace rilq
