#include "core/run/run_outputs.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/hf_checkpoint.h"
#include "core/lora/lora_set.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/sha256.h"

#include <torch/torch.h>

namespace fs = std::filesystem;

namespace rilq::run {

namespace {

void copy_tokenizer(const std::string& tokenizer_file, const fs::path& model_dir) {
    if (tokenizer_file.empty()) return;
    fs::copy_file(tokenizer_file, model_dir / fs::path(tokenizer_file).filename(),
                  fs::copy_options::overwrite_existing);
}

} // namespace

store::Artifact artifact_record(const std::string& kind, const fs::path& final_path,
                                const fs::path& written) {
    store::Artifact a;
    a.kind = kind;
    a.path = final_path.string();
    if (fs::is_regular_file(written)) {
        a.sha256 = sha256_file(written.string());
        a.size_bytes = static_cast<int64_t>(fs::file_size(written));
    } else {
        for (const auto& entry : fs::recursive_directory_iterator(written))
            if (entry.is_regular_file()) a.size_bytes += static_cast<int64_t>(entry.file_size());
    }
    return a;
}

std::vector<store::Artifact> write_run_outputs(const std::string& output_dir, const RunOutputContent& content) {
    if (content.student == nullptr) throw Error("write_run_outputs: no model to save into " + output_dir);
    const fs::path final_dir = fs::absolute(output_dir);
    fs::create_directories(final_dir.parent_path());
    std::vector<store::Artifact> artifacts;
    write_dir_atomic(final_dir.string(), [&](const std::string& tmp) {
        const fs::path dir(tmp);
        // The base without adapters: hf_state() holds the plain weights; LoRA lives beside it.
        save_hf_model(*content.student, (dir / "quantized").string());
        copy_tokenizer(content.tokenizer_file, dir / "quantized");
        artifacts.push_back(artifact_record("quantized_model", final_dir / "quantized", dir / "quantized"));
        if (!content.adapter_dir.empty()) {
            fs::copy(content.adapter_dir, dir / "adapter", fs::copy_options::recursive);
            artifacts.push_back(artifact_record("adapter", final_dir / "adapter", dir / "adapter"));
        } else if (content.adapters != nullptr && !content.adapters->empty()) {
            save_peft_adapter((dir / "adapter").string(), *content.adapters, (final_dir / "quantized").string());
            artifacts.push_back(artifact_record("adapter", final_dir / "adapter", dir / "adapter"));
        }
        if (content.finetuned != nullptr && !content.finetuned->empty()) {
            save_peft_adapter((dir / "finetuned_adapter").string(), *content.finetuned,
                              (final_dir / "quantized").string());
            artifacts.push_back(artifact_record("finetuned_adapter", final_dir / "finetuned_adapter",
                                                dir / "finetuned_adapter"));
        }
        const LoraSet* merge = content.finetuned != nullptr ? content.finetuned : content.adapters;
        if (content.save_merged && merge != nullptr && !merge->empty()) {
            LlamaModel merged = content.student->clone(); // clone() leaves the adapters out
            for (const auto& adapter : merge->adapters()) {
                Linear& linear = merged.linear(adapter->linear_name());
                linear.weight = (linear.weight.to(torch::kFloat32) + adapter->delta_weight())
                                    .to(linear.weight.scalar_type());
            }
            save_hf_model(merged, (dir / "merged").string());
            copy_tokenizer(content.tokenizer_file, dir / "merged");
            artifacts.push_back(artifact_record("merged_model", final_dir / "merged", dir / "merged"));
        }
        if (content.quant_stats != nullptr) {
            write_file_atomic((dir / "quant_stats.json").string(), content.quant_stats->dump(1));
            artifacts.push_back(
                artifact_record("quant_stats", final_dir / "quant_stats.json", dir / "quant_stats.json"));
        }
        if (content.run_summary != nullptr) {
            write_file_atomic((dir / "run.json").string(), content.run_summary->dump(2));
            artifacts.push_back(artifact_record("run_summary", final_dir / "run.json", dir / "run.json"));
        }
    });
    return artifacts;
}

} // namespace rilq::run
