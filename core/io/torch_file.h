// torch::save without its failure mode: serialized into memory, then written through
// CheckedOutputFile. torch::save(value, path) writes through a stream writer whose destructor
// throws when the disk is full, which aborts the process (std::terminate) instead of failing
// the run; here a full disk is an ordinary Error naming the file.
#pragma once
#include <sstream>
#include <string>

#include <torch/serialize.h>

#include "core/util/checked_file.h"

namespace rilq {

template <class Value> void save_torch_file(const Value& value, const std::string& path) {
    std::ostringstream bytes;
    torch::save(value, bytes); // memory only: cannot fail for lack of disk
    write_file_checked(path, bytes.str());
}

} // namespace rilq
