#include "core/tokenize/spm_library.h"

#include "core/util/error.h"

#include <dlfcn.h> // dlopen, dlsym, RTLD_DEEPBIND (glibc)

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace rilq {

namespace {

constexpr const char* kShimName = "librilq_spm.so";

std::vector<std::string> candidate_paths() {
    std::vector<std::string> paths;
    if (const char* env = std::getenv("RILQ_SPM_SHIM"); env && *env) paths.emplace_back(env);
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path dir = exe.parent_path();
        paths.push_back((dir / ".." / "lib" / "rilq" / kShimName).lexically_normal().string());
        paths.push_back((dir / kShimName).string());
    }
#ifdef RILQ_SPM_SHIM_BUILD_PATH
    paths.emplace_back(RILQ_SPM_SHIM_BUILD_PATH);
#endif
    return paths;
}

template <class Fn> void resolve(void* handle, const std::string& path, const char* name, Fn& fn) {
    fn = reinterpret_cast<Fn>(dlsym(handle, name));
    if (!fn) throw Error("SentencePiece shim '" + path + "' lacks symbol " + name);
}

SpmApi load_api() {
    std::string tried;
    for (const std::string& path : candidate_paths()) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) {
            tried += "\n  " + path + ": not found";
            continue;
        }
        // DEEPBIND: the shim and its libsentencepiece resolve protobuf in their own copy first.
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!handle) {
            tried += "\n  " + path + ": " + dlerror();
            continue;
        }
        SpmApi api;
        api.library_path = path;
        decltype(&rilq_spm_abi_version) abi = nullptr;
        resolve(handle, path, "rilq_spm_abi_version", abi);
        if (abi() != RILQ_SPM_ABI_VERSION)
            throw Error("SentencePiece shim '" + path + "' has ABI version " + std::to_string(abi()) +
                        ", expected " + std::to_string(RILQ_SPM_ABI_VERSION) + " (rebuild target rilq_spm)");
        resolve(handle, path, "rilq_spm_load_from_bytes", api.load_from_bytes);
        resolve(handle, path, "rilq_spm_free", api.free_model);
        resolve(handle, path, "rilq_spm_piece_size", api.piece_size);
        resolve(handle, path, "rilq_spm_bos_id", api.bos_id);
        resolve(handle, path, "rilq_spm_eos_id", api.eos_id);
        resolve(handle, path, "rilq_spm_unk_id", api.unk_id);
        resolve(handle, path, "rilq_spm_encode", api.encode);
        resolve(handle, path, "rilq_spm_decode", api.decode);
        resolve(handle, path, "rilq_spm_free_buffer", api.free_buffer);
        resolve(handle, path, "rilq_spm_id_to_piece", api.id_to_piece);
        resolve(handle, path, "rilq_spm_piece_to_id", api.piece_to_id);
        resolve(handle, path, "rilq_spm_is_control", api.is_control);
        resolve(handle, path, "rilq_spm_is_unknown", api.is_unknown);
        resolve(handle, path, "rilq_spm_is_byte", api.is_byte);
        resolve(handle, path, "rilq_spm_train", api.train);
        return api; // the handle stays open for the life of the process
    }
    throw Error("SentencePiece support library " + std::string(kShimName) +
                " not found (set RILQ_SPM_SHIM to its path); tried:" + tried);
}

} // namespace

const SpmApi& spm_api() {
    // Not a function-local static initialised by load_api(): a failed load must be retried
    // and re-reported on the next call rather than leave a half-built table.
    static std::mutex mutex;
    static std::unique_ptr<SpmApi> api;
    std::lock_guard<std::mutex> lock(mutex);
    if (!api) api = std::make_unique<SpmApi>(load_api());
    return *api;
}

void train_sentencepiece(const std::string& args) {
    const SpmApi& api = spm_api();
    char err[1024] = {0};
    if (api.train(args.c_str(), err, sizeof err) != 0)
        throw Error("SentencePiece training failed: " + std::string(err));
}

} // namespace rilq
