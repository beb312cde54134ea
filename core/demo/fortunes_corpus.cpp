#include "core/demo/fortunes_corpus.h"

#include "core/util/atomic_file.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace rilq {

std::string fortunes_dir() {
    const char* env = std::getenv("RILQ_FORTUNES_DIR");
    if (env && *env) return env;
    return "/usr/share/games/fortunes";
}

namespace {

std::vector<std::string> read_entries(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(file.string() + ": cannot open");
    std::vector<std::string> entries;
    std::string line, entry;
    auto flush = [&] {
        // Trim trailing blank lines; skip empty entries.
        while (!entry.empty() && (entry.back() == '\n' || entry.back() == ' ')) entry.pop_back();
        if (!entry.empty()) entries.push_back(entry);
        entry.clear();
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "%") {
            flush();
        } else {
            entry += line;
            entry += '\n';
        }
    }
    flush();
    return entries;
}

} // namespace

CorpusSplit split_fortunes(const std::string& source_dir, const std::string& out_dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(source_dir, ec)) {
        // Text files have no extension; .dat are strfile indexes and .u8 symlinks duplicate the text.
        if (e.is_regular_file() && !e.is_symlink() && e.path().extension().empty() &&
            e.path().filename() != "ascii-art")   // pictures, not language
            files.push_back(e.path());
    }
    if (ec) throw Error(source_dir + ": cannot read the fortunes folder (" + ec.message() + "); install the 'fortunes' package");
    std::sort(files.begin(), files.end());
    std::ostringstream train, val, test;
    CorpusSplit split;
    int64_t index = 0;
    for (const auto& f : files) {
        for (const auto& entry : read_entries(f)) {
            const int64_t slot = index++ % 20;
            std::ostringstream& out = slot == 18 ? val : slot == 19 ? test : train;
            int64_t& count = slot == 18 ? split.val_entries : slot == 19 ? split.test_entries : split.train_entries;
            if (count++ > 0) out << "\n\n";
            out << entry;
        }
    }
    if (index == 0) throw Error(source_dir + ": no fortune text found; install the 'fortunes' package");
    fs::create_directories(out_dir);
    split.train_path = (fs::path(out_dir) / "train.txt").string();
    split.val_path = (fs::path(out_dir) / "valid.txt").string();
    split.test_path = (fs::path(out_dir) / "test.txt").string();
    const std::string t = train.str() + "\n", v = val.str() + "\n", s = test.str() + "\n";
    write_file_atomic(split.train_path, t);
    write_file_atomic(split.val_path, v);
    write_file_atomic(split.test_path, s);
    split.train_bytes = static_cast<int64_t>(t.size());
    split.val_bytes = static_cast<int64_t>(v.size());
    split.test_bytes = static_cast<int64_t>(s.size());
    return split;
}

} // namespace rilq
