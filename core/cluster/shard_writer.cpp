#include "core/cluster/shard_writer.h"

#include "core/store/run_store.h"
#include "core/store/sqlite.h"
#include "core/store/store_snapshot.h"
#include "core/util/error.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace rilq::cluster {

ShardWriter::ShardWriter(std::string shard, bool seed, std::chrono::milliseconds interval)
    : shard_(std::move(shard)), interval_(interval) {
    // TMPDIR is the node's scratch space where a site sets one; /tmp otherwise.
    live_dir_ = (fs::temp_directory_path() / ("rilq-shard-" + store::new_run_uuid().substr(0, 16))).string();
    fs::create_directories(live_dir_);
    live_path_ = live_dir_ + "/runs.sqlite";
    if (seed) {
        if (!fs::exists(shard_)) throw Error(shard_ + ": the shard to continue from is missing");
        fs::copy_file(shard_, live_path_);
    }
}

ShardWriter::~ShardWriter() {
    reader_.reset();
    std::error_code ec;
    fs::remove_all(live_dir_, ec);
}

void ShardWriter::maybe_publish() {
    if (std::chrono::steady_clock::now() < next_) return;
    publish();
}

void ShardWriter::publish() {
    if (!fs::exists(live_path_)) return; // nothing recorded yet
    const auto start = std::chrono::steady_clock::now();
    if (!reader_) {
        reader_ = std::make_unique<store::Database>(live_path_, store::Database::Mode::ReadWrite);
        reader_->set_busy_timeout(10000);
    }
    store::write_store_snapshot(*reader_, shard_);
    const auto took = std::chrono::steady_clock::now() - start;
    next_ = std::chrono::steady_clock::now() +
            std::max<std::chrono::steady_clock::duration>(interval_, 20 * took);
}

} // namespace rilq::cluster
