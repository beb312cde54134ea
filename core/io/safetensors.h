// The safetensors format: 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// raw little-endian data. The reader memory-maps the file and validates everything before
// any tensor is touched; a truncated or lying file is an Error naming the file and tensor.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/util/tensor.h"

namespace rilq {

struct SafetensorsEntry {
    std::string name;
    std::string dtype; // "F32", "BF16", "F16", "I64", "I32", "I8", "U8", ...
    std::vector<int64_t> shape;
    uint64_t begin = 0; // byte offsets relative to the data area
    uint64_t end = 0;
};

class SafetensorsFile {
  public:
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return path_; }
    std::vector<std::string> names() const; // in data-offset order
    bool contains(const std::string& name) const;
    const SafetensorsEntry& entry(const std::string& name) const; // Error if absent
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    // An owned copy of the tensor (the mapping may be closed afterwards).
    torch::Tensor tensor(const std::string& name) const;
    // The tensor read in place from a read-only mapping of its own (it outlives this object):
    // only the pages a computation touches become resident, e.g. the rows an embedding looks up.
    // Writing to it faults. Undefined when the data is not aligned to its element size, or BOOL.
    torch::Tensor mapped_tensor(const std::string& name) const;

  private:
    std::string path_;
    void* map_ = nullptr;
    uint64_t file_size_ = 0;
    uint64_t data_start_ = 0;
    std::map<std::string, SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
};

// Whether `t` reads a file mapping made by SafetensorsFile::mapped_tensor.
bool is_file_mapped(const torch::Tensor& t);

// One tensor of a file written by save_safetensors_streamed: what the header announces.
struct SafetensorsTensorSpec {
    std::string name;
    torch::Dtype dtype;
    std::vector<int64_t> shape;
};

// Writes the header from `specs`, then tensor i = produce(i) in order, atomically: only one tensor
// is held at a time, so a file larger than memory can be written. A produced tensor whose dtype or
// shape differs from its spec is an Error naming it.
void save_safetensors_streamed(const std::string& path, const std::vector<SafetensorsTensorSpec>& specs,
                               const std::function<torch::Tensor(size_t)>& produce,
                               const std::map<std::string, std::string>& metadata = {});

// Writes tensors (contiguous, CPU copies made as needed) in the given order, atomically.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace rilq
