// A store as one self-contained file that another machine may read while the store goes on
// being written. SQLite's locks and WAL index do not work across a network file system, so a
// store there must have one writer on one machine and readers elsewhere must never open it
// live. A snapshot is what travels instead:
//   - consistent: VACUUM INTO copies one read transaction of the live store;
//   - self-contained: rollback-journal mode, no -wal / -shm beside it;
//   - never seen half-written: written under a temporary name beside the target, flushed to
//     disk, then renamed over the target, so a reader sees the previous snapshot or this one.
// Readers open a snapshot without locks (Database::Mode::Immutable, see shard_import.h).
#pragma once
#include <string>

#include "core/store/sqlite.h"

namespace rilq::store {

// Writes a snapshot of `live` (any open connection to a WAL or rollback store, not inside a
// transaction) to `target`, replacing it atomically. Error naming the target when the folder
// cannot be written.
void write_store_snapshot(Database& live, const std::string& target);

// True when the file's header says rollback-journal mode (a snapshot, or a store that never
// switched to WAL); false for WAL mode. Error when the file is not an SQLite database.
bool is_snapshot_file(const std::string& path);

} // namespace rilq::store
