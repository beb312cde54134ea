// The demo's corpus: Debian's `fortunes` package (plain English, ~2.5 MB), split
// deterministically by entry into train / validation / test text files.
#pragma once
#include <cstdint>
#include <string>

namespace rilq {

struct CorpusSplit {
    std::string train_path, val_path, test_path;
    int64_t train_entries = 0, val_entries = 0, test_entries = 0;
    int64_t train_bytes = 0, val_bytes = 0, test_bytes = 0;
};

// The folder fortunes installs its text into (override: env RILQ_FORTUNES_DIR).
std::string fortunes_dir();

// Reads every fortune file in `source_dir` (the files without an extension; entries are
// separated by lines holding "%"), in sorted file order. Entry i goes to validation when
// i % 20 == 18, to test when i % 20 == 19, else to train. Entries are written separated by
// a blank line. Files are written atomically into `out_dir`. Error naming the folder if
// there is no fortune text.
CorpusSplit split_fortunes(const std::string& source_dir, const std::string& out_dir);

} // namespace rilq
