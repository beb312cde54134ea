// safetensors reader (mmap, validated before use) and writer (byte-compatible with the
// Python `safetensors` library's layout: compact JSON header padded with spaces to 8 bytes).
#include "core/io/safetensors.h"
#include "core/util/shape_text.h"

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/json_read.h"

#include <nlohmann/json.hpp> // json (parse), ordered_json (write in the given order)
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>

#include <fcntl.h>    // open
#include <sys/mman.h> // mmap, munmap
#include <sys/stat.h> // fstat
#include <unistd.h>   // close

// Tensors are copied byte for byte; the format is little-endian, and so must the host be.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace rilq {

namespace {

using json = nlohmann::json;

// The Rust reference refuses headers above 100 MB; a larger length is a corrupt file, and
// refusing it early keeps us from parsing gigabytes of garbage as JSON.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeInfo {
    const char* name;
    torch::Dtype dtype;
    uint64_t itemsize;
};

const std::vector<DtypeInfo>& dtype_table() {
    static const std::vector<DtypeInfo> table = {
        {"F64", torch::kFloat64, 8},   {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
        {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
        {"I16", torch::kInt16, 2},     {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
        {"BOOL", torch::kBool, 1},
    };
    return table;
}

const DtypeInfo* find_dtype(const std::string& name) {
    for (const auto& d : dtype_table())
        if (name == d.name) return &d;
    return nullptr;
}

const DtypeInfo* find_dtype(torch::Dtype dtype) {
    for (const auto& d : dtype_table())
        if (dtype == d.dtype) return &d;
    return nullptr;
}

std::string known_dtypes() {
    std::string s;
    for (const auto& d : dtype_table())
        s += (s.empty() ? "" : ", ") + std::string(d.name);
    return s;
}

std::string range_str(uint64_t begin, uint64_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

// Parses one header entry {dtype, shape, data_offsets}; `where` = "file: tensor \"name\"".
SafetensorsEntry parse_entry(const std::string& name, const json& v, const std::string& where) {
    if (!v.is_object()) throw Error(where + ": entry must be a JSON object, found " + json_excerpt(v));
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!v.contains(field)) throw Error(where + ": missing field \"" + field + "\"");
    SafetensorsEntry e;
    e.name = name;
    const auto& dtype = v.at("dtype");
    if (!dtype.is_string()) throw Error(where + ": \"dtype\" must be a string, found " + json_excerpt(dtype));
    e.dtype = dtype.get<std::string>();
    if (!find_dtype(e.dtype))
        throw Error(where + ": unknown dtype \"" + clip_for_message(e.dtype, 40) +
                    "\" (known: " + known_dtypes() + ")");
    const auto& shape = v.at("shape");
    if (!shape.is_array()) throw Error(where + ": \"shape\" must be an array, found " + json_excerpt(shape));
    for (const auto& d : shape) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
            throw Error(where + ": \"shape\" must hold non-negative integers, found " + json_excerpt(shape));
        e.shape.push_back(d.get<int64_t>());
    }
    const auto& offsets = v.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        throw Error(where + ": \"data_offsets\" must be [begin, end] with non-negative integers, found " +
                    json_excerpt(offsets));
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.end < e.begin)
        throw Error(where + ": data_offsets " + json_excerpt(offsets) + " end before they begin");

    // numel * itemsize must equal the byte range: a lying shape would read someone else's bytes.
    uint64_t bytes = find_dtype(e.dtype)->itemsize;
    for (int64_t d : e.shape) {
        if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
            throw Error(where + ": shape " + shape_text(e.shape) + " overflows 64-bit byte counts");
    }
    if (bytes != e.end - e.begin)
        throw Error(where + ": dtype " + e.dtype + " and shape " + shape_text(e.shape) + " need " +
                    std::to_string(bytes) + " bytes but data_offsets " + range_str(e.begin, e.end) +
                    " hold " + std::to_string(e.end - e.begin));
    return e;
}

} // namespace

// ----------------------------------------------------------------------------
// reader

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": not a regular file");
    }
    file_size_ = static_cast<uint64_t>(st.st_size);
    if (file_size_ < 8) {
        ::close(fd);
        throw Error(path + ": truncated safetensors file: " + std::to_string(file_size_) +
                    " bytes, need at least 8 for the header length");
    }
    map_ = ::mmap(nullptr, file_size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd); // the mapping keeps the file alive
    if (map_ == MAP_FAILED) {
        map_ = nullptr;
        throw Error(path + ": mmap failed: " + std::strerror(errno));
    }
    try {
        const auto* bytes = static_cast<const unsigned char*>(map_);
        uint64_t header_len = 0;
        std::memcpy(&header_len, bytes, 8); // little-endian u64
        if (header_len > kMaxHeaderBytes)
            throw Error(path + ": header length " + std::to_string(header_len) + " is implausible (limit " +
                        std::to_string(kMaxHeaderBytes) + " bytes): not a safetensors file or corrupt");
        if (header_len > file_size_ - 8)
            throw Error(path + ": header length " + std::to_string(header_len) +
                        " runs past the end of the file (" + std::to_string(file_size_) +
                        " bytes): truncated or corrupt");
        data_start_ = 8 + header_len;
        const uint64_t data_size = file_size_ - data_start_;

        const char* header = reinterpret_cast<const char*>(bytes + 8);
        if (header_len == 0 || header[0] != '{')
            throw Error(path + ": invalid header: the JSON header must start with '{'");
        // Duplicate tensor names would silently keep one of two entries: collect top-level keys.
        std::set<std::string> seen;
        std::string duplicate;
        const json::parser_callback_t track_keys = [&](int depth, json::parse_event_t event, json& parsed) {
            if (depth == 1 && event == json::parse_event_t::key) {
                const auto key = parsed.get<std::string>();
                if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
            }
            return true;
        };
        json root;
        try {
            root = parse_json(header, header + header_len, path, track_keys);
        } catch (const JsonParseError& e) {
            throw Error(path + ": invalid JSON header: " + e.detail());
        }
        if (!root.is_object()) throw Error(path + ": invalid header: expected a JSON object");
        if (!duplicate.empty())
            throw Error(path + ": tensor \"" + clip_for_message(duplicate, 120) +
                        "\" appears twice in the header");

        for (const auto& [name, value] : root.items()) {
            if (name == "__metadata__") {
                if (!value.is_object())
                    throw Error(path + ": __metadata__ must be an object, found " + json_excerpt(value));
                for (const auto& [k, v] : value.items()) {
                    if (!v.is_string())
                        throw Error(path + ": __metadata__ \"" + clip_for_message(k, 80) +
                                    "\" must be a string, found " + json_excerpt(v));
                    metadata_[k] = v.get<std::string>();
                }
                continue;
            }
            entries_[name] =
                parse_entry(name, value, path + ": tensor \"" + clip_for_message(name, 120) + "\"");
        }

        // The data area must be tiled exactly: sorted by offsets, each tensor starts where the
        // previous one ended, the first at 0 and the last at the end of the file (as the
        // reference implementation requires). Overlaps and holes are both lies about the data.
        std::vector<const SafetensorsEntry*> sorted;
        for (const auto& [name, e] : entries_)
            sorted.push_back(&e);
        std::sort(sorted.begin(), sorted.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
            return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
        });
        uint64_t covered = 0;
        const SafetensorsEntry* previous = nullptr;
        for (const auto* e : sorted) {
            const std::string where = path + ": tensor \"" + e->name + "\"";
            if (e->end > data_size)
                throw Error(where + ": data_offsets " + range_str(e->begin, e->end) +
                            " lie outside the data area of " + std::to_string(data_size) +
                            " bytes (file truncated or offsets corrupt)");
            if (e->begin < covered)
                throw Error(where + ": data_offsets " + range_str(e->begin, e->end) + " overlap tensor \"" +
                            previous->name + "\" " + range_str(previous->begin, previous->end));
            if (e->begin > covered)
                throw Error(where + ": hole in the data area: bytes " + range_str(covered, e->begin) +
                            " before this tensor belong to no tensor");
            covered = e->end;
            previous = e;
        }
        if (covered != data_size)
            throw Error(path + ": hole in the data area: bytes " + range_str(covered, data_size) +
                        (previous ? " after tensor \"" + previous->name + "\"" : std::string()) +
                        " belong to no tensor");
    } catch (...) {
        ::munmap(map_, file_size_);
        map_ = nullptr;
        throw;
    }
}

SafetensorsFile::~SafetensorsFile() {
    if (map_) ::munmap(map_, file_size_);
}

std::vector<std::string> SafetensorsFile::names() const {
    std::vector<const SafetensorsEntry*> sorted;
    for (const auto& [name, e] : entries_)
        sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
        return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
    });
    std::vector<std::string> names;
    for (const auto* e : sorted)
        names.push_back(e->name);
    return names;
}

bool SafetensorsFile::contains(const std::string& name) const {
    return entries_.count(name) > 0;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) throw Error(path_ + ": no tensor \"" + name + "\"");
    return it->second;
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    const DtypeInfo* info = find_dtype(e.dtype);
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(info->dtype));
    const uint64_t nbytes = e.end - e.begin;
    if (nbytes == 0) return t;
    const auto* src = static_cast<const unsigned char*>(map_) + data_start_ + e.begin;
    if (info->dtype == torch::kBool) {
        // A bool byte other than 0/1 is undefined behaviour in torch: refuse it here.
        for (uint64_t i = 0; i < nbytes; ++i)
            if (src[i] > 1)
                throw Error(path_ + ": tensor \"" + name + "\": BOOL byte " + std::to_string(i) + " is " +
                            std::to_string(src[i]) + " (expected 0 or 1)");
    }
    // The data area need not be aligned (header lengths are not always multiples of 8), so copy
    // bytes rather than wrapping the mapping.
    std::memcpy(t.data_ptr(), src, nbytes);
    // The copy is owned: drop the mapped pages from this process (they stay in the page cache),
    // so a model read tensor by tensor is not counted twice in the resident set.
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t first = reinterpret_cast<uintptr_t>(src) & ~(page - 1);
    const uintptr_t last = reinterpret_cast<uintptr_t>(src) + nbytes;
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    return t;
}

namespace {

// The mapping behind a mapped tensor: unmapped when the tensor's storage is freed.
struct TensorMapping {
    void* base = nullptr;
    size_t length = 0;
};

void unmap_tensor_mapping(void* context) {
    auto* mapping = static_cast<TensorMapping*>(context);
    ::munmap(mapping->base, mapping->length);
    delete mapping;
}

} // namespace

torch::Tensor SafetensorsFile::mapped_tensor(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    const DtypeInfo* info = find_dtype(e.dtype);
    const uint64_t begin = data_start_ + e.begin, nbytes = e.end - e.begin;
    if (info->dtype == torch::kBool || nbytes == 0 || begin % info->itemsize != 0) return torch::Tensor();
    const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t offset = begin & ~(page - 1);
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path_ + ": cannot open: " + std::strerror(errno));
    auto* mapping = new TensorMapping{nullptr, static_cast<size_t>(begin + nbytes - offset)};
    mapping->base = ::mmap(nullptr, mapping->length, PROT_READ, MAP_PRIVATE, fd, static_cast<off_t>(offset));
    ::close(fd); // the mapping keeps the file
    if (mapping->base == MAP_FAILED) {
        delete mapping;
        throw Error(path_ + ": tensor \"" + name + "\": mmap failed: " + std::strerror(errno));
    }
    // Read where touched, not ahead: an embedding's lookups are scattered rows.
    ::madvise(mapping->base, mapping->length, MADV_RANDOM);
    void* data = static_cast<unsigned char*>(mapping->base) + (begin - offset);
    c10::DataPtr data_ptr(data, mapping, &unmap_tensor_mapping, c10::Device(c10::kCPU));
    c10::Storage storage(c10::Storage::use_byte_size_t(), static_cast<int64_t>(nbytes), std::move(data_ptr),
                         /*allocator=*/nullptr, /*resizable=*/false);
    std::vector<int64_t> strides(e.shape.size(), 1);
    for (size_t d = e.shape.size(); d-- > 1;)
        strides[d - 1] = strides[d] * e.shape[d];
    return torch::empty({0}, torch::TensorOptions().dtype(info->dtype)).set_(storage, 0, e.shape, strides);
}

bool is_file_mapped(const torch::Tensor& t) {
    return t.defined() && t.has_storage() && t.storage().data_ptr().get_deleter() == &unmap_tensor_mapping;
}

// ----------------------------------------------------------------------------
// writer

void save_safetensors_streamed(const std::string& path, const std::vector<SafetensorsTensorSpec>& specs,
                               const std::function<torch::Tensor(size_t)>& produce,
                               const std::map<std::string, std::string>& metadata) {
    // Header in the Python library's shape: "__metadata__" first, then tensors in file order,
    // each {"dtype", "shape", "data_offsets"}, compact JSON (no spaces).
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json meta = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata)
            meta[k] = v;
        header["__metadata__"] = meta;
    }
    std::set<std::string> names;
    uint64_t offset = 0;
    for (const auto& spec : specs) {
        const std::string where = path + ": tensor \"" + spec.name + "\"";
        if (spec.name == "__metadata__") throw Error(where + ": the name is reserved for metadata");
        if (!names.insert(spec.name).second) throw Error(where + " is listed twice");
        const DtypeInfo* info = find_dtype(spec.dtype);
        if (!info)
            throw Error(where + ": dtype " + std::string(c10::toString(spec.dtype)) +
                        " has no safetensors equivalent (supported: " + known_dtypes() + ")");
        uint64_t nbytes = info->itemsize;
        for (int64_t d : spec.shape)
            nbytes *= static_cast<uint64_t>(d);
        header[spec.name] = {
            {"dtype", info->name}, {"shape", spec.shape}, {"data_offsets", {offset, offset + nbytes}}};
        offset += nbytes;
    }
    std::string header_bytes = header.dump();
    // Pad with spaces so the data area starts 8-byte aligned (as the Python library does).
    header_bytes.append((8 - header_bytes.size() % 8) % 8, ' ');

    write_file_atomic(path, [&](std::ostream& out) {
        const uint64_t header_len = header_bytes.size();
        out.write(reinterpret_cast<const char*>(&header_len), 8);
        out.write(header_bytes.data(), static_cast<std::streamsize>(header_bytes.size()));
        for (size_t i = 0; i < specs.size(); ++i) {
            const torch::Tensor t = produce(i).detach().to(torch::kCPU).contiguous();
            if (t.scalar_type() != specs[i].dtype || t.sizes().vec() != specs[i].shape)
                throw Error(path + ": tensor \"" + specs[i].name + "\" was announced as " +
                            std::string(c10::toString(specs[i].dtype)) + " " + shape_text(specs[i].shape) +
                            " but is " + std::string(t.dtype().name()) + " " + shape_text(t.sizes()));
            const auto nbytes =
                static_cast<std::streamsize>(t.numel() * static_cast<int64_t>(t.element_size()));
            if (nbytes > 0) out.write(static_cast<const char*>(t.data_ptr()), nbytes);
        }
        if (!out) throw Error(path + ": write failed (disk full?)");
    });
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::vector<SafetensorsTensorSpec> specs;
    for (const auto& [name, tensor] : tensors) {
        if (!tensor.defined()) throw Error(path + ": tensor \"" + name + "\" is undefined");
        specs.push_back({name, tensor.scalar_type(), tensor.sizes().vec()});
    }
    save_safetensors_streamed(
        path, specs, [&](size_t i) { return tensors[i].second; }, metadata);
}

} // namespace rilq
