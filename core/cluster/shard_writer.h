// The task's side of a store shard. A Slurm task records its run in a store on the node's local
// disk (SQLite's locks are not safe on the shared file system) and publishes it beside the run's
// outputs as a snapshot (core/store/store_snapshot.h) every few seconds while it runs and once at
// the end; the submitting side imports those snapshots into the main store as they change.
#pragma once
#include <chrono>
#include <memory>
#include <string>

namespace rilq::store {
class Database;
}

namespace rilq::cluster {

class ShardWriter {
  public:
    // `shard`: where snapshots are published. With `seed`, the local store starts as a copy of
    // that shard (a resubmitted run continues from what its shard holds).
    explicit ShardWriter(std::string shard, bool seed,
                         std::chrono::milliseconds interval = std::chrono::seconds(5));
    ~ShardWriter(); // removes the local store (publish() first: nothing is published here)
    ShardWriter(const ShardWriter&) = delete;
    ShardWriter& operator=(const ShardWriter&) = delete;

    const std::string& live_path() const { return live_path_; } // the store the Runner writes
    const std::string& shard() const { return shard_; }
    // Publishes when `interval` has passed since the last snapshot, and at least 20 times the
    // last snapshot's duration (a big store is not copied over and over).
    void maybe_publish();
    void publish();

  private:
    std::string shard_;
    std::string live_dir_, live_path_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point next_{};
    std::unique_ptr<store::Database> reader_; // a connection of its own: snapshots never disturb the Runner's
};

} // namespace rilq::cluster
