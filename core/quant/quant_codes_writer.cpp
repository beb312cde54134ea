// The file side of quant_codes.h, apart so code that only builds the tensors does not link the
// safetensors writer.
#include "core/quant/quant_codes.h"

#include "core/io/safetensors.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace rilq {

void write_quant_codes(const ModelQuantResult& result, const std::string& dir,
                       const std::string& model_source) {
    std::filesystem::create_directories(dir);
    const auto tensors = quant_code_tensors(result);
    save_safetensors((std::filesystem::path(dir) / "quant_codes.safetensors").string(), tensors,
                     {{"format", "rilq.quant_codes"}, {"version", std::to_string(kQuantCodesFormatVersion)}});
    write_file_atomic((std::filesystem::path(dir) / "quant_codes.json").string(),
                      quant_codes_manifest(result, model_source).dump(2) + "\n");
}

} // namespace rilq
