// Merging run stores: a Slurm task (or any other machine) records its run in a store of its own,
// a "shard", and shards come home into one main store, so the GUI and `rilq export` see every
// run in one place. SQLite must never be shared live over a network file system, so a task
// writes its store on the node's local disk and publishes snapshots of it beside its outputs
// (store_snapshot.h); import_shards() reads such files (or a live store on a local disk) and
// merges them by run uuid.
//
// Per run the shard is the authority on what it holds, unless it is older than the target:
//   absent in the target              -> added with everything it logged
//   other settings (config_hash)      -> Error: one uuid cannot name two different runs
//   last sign of life earlier than the
//   target's (max of start, end and
//   heartbeat time)                   -> skipped: the target knows more (a status set from
//                                        Slurm's verdict after the task died, or a later attempt)
//   otherwise                         -> the run row and every table keyed by run_uuid follow the
//                                        shard: metrics are appended when the target holds a
//                                        prefix of the shard's points, replaced otherwise; tags
//                                        are merged (the target's own tags stay); the rest is
//                                        replaced. Tables whose content is already equal are not
//                                        written, so re-importing a shard is a no-op.
// At equal times a terminal status in the target beats a non-terminal one in the shard (a run
// marked INTERRUPTED on the very heartbeat the shard still shows as RUNNING).
//
// Tables are found from the schema (every table with a run_uuid column), so a table added by a
// later migration is carried without changes here.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/store/run_store.h"
#include "core/store/sqlite.h"

namespace rilq::store {

struct ImportReport {
    int added = 0;                  // runs new to the target
    int updated = 0;                // runs the shard knew more about
    int unchanged = 0;              // runs whose content was already in the target
    int older = 0;                  // runs the target knew more about (left as they were)
    std::vector<std::string> uuids; // every run the shards held, shard by shard
};

// Opens `path` for reading a shard, after checking it: an SQLite file, intact (PRAGMA
// quick_check), a run store of this program's schema version. A snapshot (rollback journal) is
// read without locks; a live store (WAL) normally, which needs a local disk. Error naming the file.
std::unique_ptr<Database> open_shard(const std::string& path);

// Merges every run of every shard into `target` in one transaction: when any shard cannot be
// read or contradicts the target, the Error names it and the target is left exactly as it was.
ImportReport import_shards(RunStore& target, const std::vector<std::string>& shard_paths);

// Merges runs of `source` (all of them when `uuids` is empty) into `target` by the rules above,
// inside the caller's transaction on `target`. `source_name` names the source in errors.
ImportReport merge_runs(Database& source, Database& target, const std::vector<std::string>& uuids,
                        const std::string& source_name);

// Writes the given runs of `source` as a new shard at `shard_path` (a snapshot, replaced
// atomically): what a resubmitted task continues from.
void export_runs(RunStore& source, const std::vector<std::string>& uuids, const std::string& shard_path);

} // namespace rilq::store
