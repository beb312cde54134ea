#include "core/run/run_outputs.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/io/hf_checkpoint.h"
#include "core/lora/lora_set.h"
#include "core/lora/peft_adapter.h"
#include "core/model/llama_model.h"
#include "core/rilq/checkpoint.h"
#include "core/util/atomic_dir.h"
#include "core/util/atomic_file.h"
#include "core/util/checked_file.h"
#include "core/util/error.h"
#include "core/util/json_read.h"
#include "core/util/sha256.h"
#include "core/util/temp_sibling.h"

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

namespace {

bool is_empty_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

// A run is claiming `dir` right now, or has just claimed it: the folder holds nothing but the
// marker and temp siblings of it (create_marker writes it aside, then links it into place; those
// of dead processes were cleaned before). A user's folder always holds something else.
bool claim_in_progress(const fs::path& dir) {
    const std::string marker = kRunMarkerFile, marker_temp = marker + ".tmp-";
    std::error_code ec;
    bool any = false;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name != marker && name.rfind(marker_temp, 0) != 0) return false;
        any = true;
    }
    return any && !ec;
}

std::string marker_text(const std::string& uuid) {
    return uuid + "\n";
}

// Creates dir/.rilq-run holding `uuid` in one step (written aside, then hard-linked into place,
// which fails when the name exists): false when another marker got there first.
bool create_marker(const fs::path& dir, const std::string& uuid) {
    const fs::path marker = dir / kRunMarkerFile;
    const std::string tmp = temp_sibling(marker.string());
    write_file_checked(tmp, marker_text(uuid));
    int rc = ::link(tmp.c_str(), marker.c_str());
    int err = errno;
    std::error_code ec;
    if (rc != 0 && (err == EPERM || err == ENOTSUP || err == ENOSYS)) {
        // No hard links on this file system (FAT, some FUSE): create exclusively instead; a
        // reader may then briefly see an empty marker, which only makes it look elsewhere.
        const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        rc = fd >= 0 ? 0 : -1;
        err = errno;
        if (fd >= 0) {
            ::close(fd);
            write_file_checked(marker.string(), marker_text(uuid));
        }
    }
    fs::remove(tmp, ec);
    if (rc == 0) {
        sync_path(dir.string());
        return true;
    }
    if (err == EEXIST) return false;
    throw Error("cannot claim " + dir.string() + " for run " + uuid + ": " + std::strerror(err));
}

std::string not_a_run_folder(const fs::path& dir) {
    return "output folder " + dir.string() + " already exists and is not a run's output folder (no " +
           std::string(kRunMarkerFile) +
           " or run.json of a run in it); a run never replaces a folder it did not write: choose another "
           "rilq.output_dir or move the folder away";
}

std::string not_a_checkpoint(const fs::path& dir) {
    return "checkpoint folder " + dir.string() +
           " already exists and is not a training checkpoint (no checkpoint.json); a run never replaces a "
           "folder it did not write: choose another rilq.output_dir or move the folder away";
}

enum class Claim { Own, OtherRun };

// Claims `dir` for `uuid` if it is free or already this run's; Error for a folder of no run.
Claim try_claim(const fs::path& dir, const std::string& uuid, bool adopt_checkpoint, std::string& other) {
    const fs::path checkpoint = checkpoint_dir_of(dir.string());
    clean_stale_temp_siblings(dir.string());
    clean_stale_temp_siblings(checkpoint.string());
    clean_stale_temp_siblings((dir / kRunMarkerFile).string()); // a claim cut short by a kill
    std::error_code ec;
    if (fs::exists(fs::symlink_status(checkpoint, ec)) && !is_empty_dir(checkpoint)) {
        if (!is_checkpoint_dir(checkpoint.string())) throw Error(not_a_checkpoint(checkpoint));
        if (!adopt_checkpoint) {
            other = output_dir_owner(dir.string());
            if (other.empty()) other = "an earlier run";
            if (other != uuid) return Claim::OtherRun; // a checkpoint of that run: keep it
        }
    }
    fs::create_directories(dir.parent_path());
    fs::create_directory(dir, ec); // fails harmlessly when it exists
    if (!fs::is_directory(fs::symlink_status(dir, ec))) throw Error(not_a_run_folder(dir));
    for (int attempt = 0; attempt < 2; ++attempt) {
        other = output_dir_owner(dir.string());
        if (other == uuid) return Claim::Own;
        if (!other.empty()) return Claim::OtherRun;
        if (!is_empty_dir(dir)) {
            // Its marker is being written (or, without hard links, still empty): another run's.
            if (!claim_in_progress(dir)) throw Error(not_a_run_folder(dir));
            other = "a run starting now";
            return Claim::OtherRun;
        }
        if (create_marker(dir, uuid)) return Claim::Own;
        // Another run claimed it between our look and our marker: read whose it is now.
    }
    throw Error("cannot claim " + dir.string() + ": its marker keeps changing");
}

} // namespace

std::string output_dir_owner(const std::string& dir) {
    const fs::path root(dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return "";
    if (std::ifstream marker(root / kRunMarkerFile); marker) {
        std::string uuid;
        marker >> uuid;
        return uuid;
    }
    const fs::path summary = root / "run.json";
    if (!fs::is_regular_file(summary, ec)) return "";
    try { // folders written before markers existed: run.json names its run
        const nlohmann::json j = read_json_file(summary.string());
        const auto& id = j.at("run").at("uuid");
        return id.is_string() ? id.get<std::string>() : "";
    } catch (const std::exception&) {
        return "";
    }
}

std::string resolve_output_dir(const std::string& output_dir, const std::string& base) {
    // "/a/b/" and "/a/b" are one folder; a trailing '/' would put "<dir>.checkpoint" inside it.
    const auto without_trailing_slash = [](std::string text) {
        while (text.size() > 1 && text.back() == '/')
            text.pop_back();
        return text;
    };
    const fs::path given(output_dir);
    if (given.is_absolute()) return without_trailing_slash(given.lexically_normal().string());
    const fs::path root = fs::absolute(base.empty() ? fs::current_path() : fs::path(base)).lexically_normal();
    const fs::path resolved = (root / given).lexically_normal();
    const fs::path inside = resolved.lexically_relative(root);
    const std::string first = inside.empty() ? std::string() : inside.begin()->string();
    if (output_dir.empty() || inside.empty() || first == ".." || first == ".")
        throw Error("rilq.output_dir \"" + output_dir + "\" resolves to " +
                    without_trailing_slash(resolved.string()) + ", which is not inside " +
                    without_trailing_slash(root.string()) +
                    ": a relative output_dir must name a folder inside it (give an absolute path to write "
                    "elsewhere)");
    return without_trailing_slash(resolved.string());
}

std::string checkpoint_dir_of(const std::string& output_dir) {
    return output_dir + ".checkpoint";
}

void check_output_dir(const std::string& dir) {
    const fs::path root(dir);
    clean_stale_temp_siblings((root / kRunMarkerFile).string()); // a claim cut short by a kill
    std::error_code ec;
    if (fs::exists(fs::symlink_status(root, ec))) {
        if (!fs::is_directory(fs::symlink_status(root, ec))) throw Error(not_a_run_folder(root));
        const bool claimed = !output_dir_owner(dir).empty() || claim_in_progress(root);
        if (!is_empty_dir(root) && !claimed) throw Error(not_a_run_folder(root));
    }
    const fs::path checkpoint = checkpoint_dir_of(dir);
    if (fs::exists(fs::symlink_status(checkpoint, ec)) && !is_empty_dir(checkpoint) &&
        !is_checkpoint_dir(checkpoint.string()))
        throw Error(not_a_checkpoint(checkpoint));
}

std::string claim_output_dir(const std::string& dir, const std::string& uuid, bool may_move,
                             bool adopt_checkpoint) {
    if (uuid.size() < 8) throw Error("claim_output_dir: expected a run uuid, found \"" + uuid + "\"");
    const fs::path wanted = fs::absolute(dir).lexically_normal();
    std::string other;
    if (try_claim(wanted, uuid, adopt_checkpoint, other) == Claim::Own) return wanted.string();
    if (!may_move)
        throw Error("output folder " + wanted.string() + " belongs to run " + other + ", not to run " + uuid +
                    "; it is left alone");
    const fs::path beside = wanted.string() + "-" + uuid.substr(0, 8);
    std::string other_beside;
    if (try_claim(beside, uuid, false, other_beside) == Claim::Own) return beside.string();
    throw Error("output folders " + wanted.string() + " and " + beside.string() + " belong to other runs (" +
                other + ", " + other_beside + ")");
}

void release_output_dir(const std::string& dir, const std::string& uuid) {
    const fs::path root(dir);
    if (output_dir_owner(dir) != uuid) return;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec))
        if (entry.path().filename() != kRunMarkerFile) return; // outputs (or the user's files): keep
    fs::remove(root / kRunMarkerFile, ec);
    fs::remove(root, ec);
}

std::vector<store::Artifact> write_run_outputs(const std::string& output_dir,
                                               const RunOutputContent& content) {
    if (content.student == nullptr) throw Error("write_run_outputs: no model to save into " + output_dir);
    if (content.run_uuid.empty()) throw Error("write_run_outputs: no run owns " + output_dir);
    const fs::path final_dir = fs::absolute(output_dir);
    const std::string uuid = content.run_uuid;
    const ReplaceRule own{"the output folder of run " + uuid,
                          [uuid](const std::string& dir) { return output_dir_owner(dir) == uuid; }};
    std::vector<store::Artifact> artifacts;
    write_dir_atomic(final_dir.string(), own, [&](const std::string& tmp) {
        const fs::path dir(tmp);
        write_file_checked((dir / kRunMarkerFile).string(), marker_text(uuid));
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
                linear.weight = (linear.dense_weight().to(torch::kFloat32) + adapter->delta_weight())
                                    .to(merged.options().compute_dtype);
                linear.packed.reset();
            }
            save_hf_model(merged, (dir / "merged").string());
            copy_tokenizer(content.tokenizer_file, dir / "merged");
            artifacts.push_back(artifact_record("merged_model", final_dir / "merged", dir / "merged"));
        }
        if (content.quant_stats != nullptr) {
            write_file_checked((dir / "quant_stats.json").string(), content.quant_stats->dump(1));
            artifacts.push_back(
                artifact_record("quant_stats", final_dir / "quant_stats.json", dir / "quant_stats.json"));
        }
        if (content.run_summary != nullptr) {
            write_file_checked((dir / "run.json").string(), content.run_summary->dump(2));
            artifacts.push_back(artifact_record("run_summary", final_dir / "run.json", dir / "run.json"));
        }
    });
    return artifacts;
}

} // namespace rilq::run
