#include "core/store/shard_import.h"

#include "core/store/schema.h"
#include "core/store/store_snapshot.h"
#include "core/util/error.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace rilq::store {

namespace {

constexpr int kSqliteInteger = 1, kSqliteFloat = 2, kSqliteText = 3, kSqliteBlob = 4;

std::string sql_name(const std::string& name) {
    return "\"" + name + "\"";
}

std::string sql_name_list(const std::vector<std::string>& names, const std::string& prefix = "") {
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : ", ") + prefix + sql_name(n);
    return out;
}

std::string sql_placeholders(size_t n, size_t first = 1) {
    std::string out;
    for (size_t i = 0; i < n; ++i)
        out += (i ? ", ?" : "?") + std::to_string(first + i);
    return out;
}

// FNV-1a over the storage class and bytes of columns [first, end) of the current row.
uint64_t row_hash(const Statement& row, int first = 0) {
    uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](const void* data, size_t n) {
        const auto* bytes = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < n; ++i)
            h = (h ^ bytes[i]) * 1099511628211ull;
    };
    for (int c = first; c < row.column_count(); ++c) {
        const int type = row.column_type(c);
        mix(&type, sizeof type);
        if (type == kSqliteInteger) {
            const int64_t v = row.column_int64(c);
            mix(&v, sizeof v);
        } else if (type == kSqliteFloat) {
            const double v = row.column_double(c);
            mix(&v, sizeof v);
        } else if (type == kSqliteText || type == kSqliteBlob) {
            const std::string bytes = row.column_text(c);
            const size_t n = bytes.size();
            mix(&n, sizeof n);
            mix(bytes.data(), n);
        }
    }
    return h;
}

// A run's rows of one table, order-independently: the count and the sum of the row hashes.
struct RowsDigest {
    int64_t rows = 0;
    uint64_t sum = 0;
    bool operator==(const RowsDigest& o) const { return rows == o.rows && sum == o.sum; }
};

struct RunTable {
    std::string name;
    std::vector<std::string> columns; // those both stores have, in the target's order
    bool has_rowid = true;            // rowid order is the order the points were logged in
};

std::vector<std::string> columns_of(Database& db, const std::string& table) {
    std::vector<std::string> out;
    Statement s(db, "SELECT name FROM pragma_table_info(?1)");
    s.bind(1, table);
    while (s.step())
        out.push_back(s.column_text(0));
    return out;
}

std::vector<std::string> shared_columns(Database& source, Database& target, const std::string& table) {
    const std::vector<std::string> theirs = columns_of(source, table);
    std::vector<std::string> out;
    for (const auto& c : columns_of(target, table))
        if (std::find(theirs.begin(), theirs.end(), c) != theirs.end()) out.push_back(c);
    return out;
}

// Every table keyed by run_uuid except runs itself.
std::vector<RunTable> run_tables(Database& source, Database& target) {
    std::vector<RunTable> out;
    Statement s(target, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name <> 'runs' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name");
    while (s.step()) {
        RunTable t;
        t.name = s.column_text(0);
        t.columns = shared_columns(source, target, t.name);
        if (std::find(t.columns.begin(), t.columns.end(), "run_uuid") == t.columns.end()) continue;
        std::string sql = s.column_text(1);
        std::transform(sql.begin(), sql.end(), sql.begin(), [](unsigned char c) { return std::toupper(c); });
        t.has_rowid = sql.find("WITHOUT ROWID") == std::string::npos;
        out.push_back(std::move(t));
    }
    return out;
}

std::string select_rows(const RunTable& t, int64_t limit, int64_t offset) {
    std::string sql =
        "SELECT " + sql_name_list(t.columns) + " FROM " + sql_name(t.name) + " WHERE run_uuid = ?1";
    if (t.has_rowid) sql += " ORDER BY rowid";
    if (limit >= 0 || offset > 0)
        sql += " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
    return sql;
}

RowsDigest rows_digest(Database& db, const RunTable& t, const std::string& uuid, int64_t limit = -1) {
    RowsDigest d;
    Statement s(db, select_rows(t, limit, 0));
    s.bind(1, uuid);
    while (s.step()) {
        ++d.rows;
        d.sum += row_hash(s);
    }
    return d;
}

void copy_rows(Database& source, Database& target, const RunTable& t, const std::string& uuid, int64_t offset,
               const char* insert_verb) {
    Statement read(source, select_rows(t, -1, offset));
    read.bind(1, uuid);
    Statement write(target, std::string(insert_verb) + " INTO " + sql_name(t.name) + " (" +
                                sql_name_list(t.columns) + ") VALUES (" + sql_placeholders(t.columns.size()) +
                                ")");
    while (read.step()) {
        for (int c = 0; c < read.column_count(); ++c)
            write.bind_column(c + 1, read, c);
        write.run();
    }
}

void delete_rows(Database& target, const RunTable& t, const std::string& uuid) {
    Statement(target, "DELETE FROM " + sql_name(t.name) + " WHERE run_uuid = ?1").bind(1, uuid).run();
}

// Brings one table of one run in `target` to the source's content; false when it already was.
bool sync_table(Database& source, Database& target, const RunTable& t, const std::string& uuid) {
    if (t.name == "tags") {
        // Merged, not replaced: the target may carry tags of its own (a Slurm job id, a node).
        const auto read_tags = [&uuid](Database& db) {
            std::map<std::string, std::string> tags;
            Statement s(db, "SELECT key, value FROM tags WHERE run_uuid = ?1");
            s.bind(1, uuid);
            while (s.step())
                tags[s.column_text(0)] = s.column_text(1);
            return tags;
        };
        const auto theirs = read_tags(source);
        const auto ours = read_tags(target);
        bool changed = false;
        for (const auto& [key, value] : theirs) {
            const auto it = ours.find(key);
            changed = changed || it == ours.end() || it->second != value;
        }
        if (changed) copy_rows(source, target, t, uuid, 0, "INSERT OR REPLACE");
        return changed;
    }
    const RowsDigest ours = rows_digest(target, t, uuid);
    const RowsDigest theirs = rows_digest(source, t, uuid);
    if (ours == theirs) return false;
    // A curve that grew: the target holds the first points already, in the same order.
    if (t.has_rowid && ours.rows > 0 && ours.rows < theirs.rows &&
        rows_digest(source, t, uuid, ours.rows) == ours) {
        copy_rows(source, target, t, uuid, ours.rows, "INSERT");
        return true;
    }
    delete_rows(target, t, uuid);
    copy_rows(source, target, t, uuid, 0, "INSERT");
    return true;
}

// One runs row, with its experiment's name, as both stores hold it.
struct RunRow {
    explicit RunRow(Database& db, const std::vector<std::string>& columns)
        : statement(db, "SELECT e.name, " + sql_name_list(columns, "r.") +
                            " FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id "
                            "WHERE r.run_uuid = ?1"),
          names(columns) {}

    bool load(const std::string& uuid) {
        statement.reset();
        statement.bind(1, uuid);
        return statement.step();
    }
    int column(const std::string& name) const { // index in the statement (0 is the experiment)
        const auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end()) throw Error("the runs table has no column " + name);
        return 1 + static_cast<int>(it - names.begin());
    }
    std::string text(const std::string& name) const { return statement.column_text(column(name)); }
    RunStatus status() const { return run_status_from_string(text("status")); }
    // The last sign of life: start, end or heartbeat, whichever is latest.
    int64_t last_seen() const {
        int64_t seen = 0;
        for (const char* c : {"start_time", "end_time", "heartbeat_time"})
            if (std::find(names.begin(), names.end(), c) != names.end() &&
                !statement.column_is_null(column(c)))
                seen = std::max(seen, statement.column_int64(column(c)));
        return seen;
    }
    uint64_t hash() const { return row_hash(statement); }

    Statement statement;
    std::vector<std::string> names;
};

int64_t experiment_in_target(Database& source, Database& target, const std::string& name) {
    Statement find(target, "SELECT experiment_id FROM experiments WHERE name = ?1");
    find.bind(1, name);
    if (find.step()) return find.column_int64(0);
    std::vector<std::string> columns = shared_columns(source, target, "experiments");
    columns.erase(std::remove(columns.begin(), columns.end(), "experiment_id"), columns.end());
    Statement read(source, "SELECT " + sql_name_list(columns) + " FROM experiments WHERE name = ?1");
    read.bind(1, name);
    read.step();
    Statement write(target, "INSERT INTO experiments (" + sql_name_list(columns) + ") VALUES (" +
                                sql_placeholders(columns.size()) + ")");
    for (int c = 0; c < read.column_count(); ++c)
        write.bind_column(c + 1, read, c);
    write.run();
    return target.last_insert_rowid();
}

void write_run_row(Database& target, const RunRow& source, int64_t experiment_id, bool exists) {
    const std::vector<std::string>& columns = source.names;
    const size_t n = columns.size();
    const std::string sql =
        exists ? [&] {
            std::string set;
            for (size_t i = 0; i < n; ++i) set += (i ? ", " : "") + sql_name(columns[i]) + " = ?" + std::to_string(i + 1);
            return "UPDATE runs SET " + set + ", experiment_id = ?" + std::to_string(n + 1) +
                   " WHERE run_uuid = ?" + std::to_string(n + 2);
        }()
               : "INSERT INTO runs (" + sql_name_list(columns) + ", experiment_id) VALUES (" + sql_placeholders(n + 1) + ")";
    Statement write(target, sql);
    for (size_t i = 0; i < n; ++i)
        write.bind_column(static_cast<int>(i + 1), source.statement, static_cast<int>(i + 1));
    write.bind(static_cast<int>(n + 1), experiment_id);
    if (exists) write.bind(static_cast<int>(n + 2), source.text("run_uuid"));
    write.run();
}

std::vector<std::string> shard_run_uuids(Database& db) {
    std::vector<std::string> out;
    Statement s(db, "SELECT run_uuid FROM runs ORDER BY rowid");
    while (s.step())
        out.push_back(s.column_text(0));
    return out;
}

} // namespace

std::unique_ptr<Database> open_shard(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw Error(path + ": no such shard (not a file)");
    try {
        std::unique_ptr<Database> db;
        if (is_snapshot_file(path)) {
            db = std::make_unique<Database>(path, Database::Mode::Immutable);
        } else {
            // A live store on a local disk: WAL readers need the shared-memory index.
            db = std::make_unique<Database>(path, Database::Mode::ReadWrite);
            db->set_busy_timeout(10000);
            db->exec("PRAGMA query_only = ON");
        }
        const std::string check = db->query_text("PRAGMA quick_check");
        if (check != "ok") // the first lines say enough; a badly damaged file lists hundreds of pages
            throw Error("the file is corrupt (SQLite's quick_check: " +
                        check.substr(0, check.find('\n', check.find('\n') + 1)) + ")");
        const int version = schema_version(*db);
        if (version != kSchemaVersion)
            throw Error("run store schema version " + std::to_string(version) + ", this program reads " +
                        std::to_string(kSchemaVersion) + " (import it with the rilq that wrote it)");
        return db;
    } catch (const std::exception& e) {
        throw Error("cannot import shard " + path + ": " + e.what());
    }
}

ImportReport merge_runs(Database& source, Database& target, const std::vector<std::string>& uuids,
                        const std::string& source_name) {
    ImportReport report;
    const std::vector<RunTable> tables = run_tables(source, target);
    std::vector<std::string> run_columns = shared_columns(source, target, "runs");
    run_columns.erase(std::remove(run_columns.begin(), run_columns.end(), "experiment_id"),
                      run_columns.end());
    RunRow theirs(source, run_columns), ours(target, run_columns);
    for (const std::string& uuid : uuids.empty() ? shard_run_uuids(source) : uuids) {
        if (!theirs.load(uuid)) throw Error(source_name + ": no run " + uuid);
        report.uuids.push_back(uuid);
        const bool exists = ours.load(uuid);
        bool keep_our_row = false;
        if (exists) {
            if (theirs.text("config_hash") != ours.text("config_hash") ||
                theirs.text("name") != ours.text("name"))
                throw Error(source_name + ": run " + uuid + " (" + theirs.text("name") + ", settings " +
                            theirs.text("config_hash").substr(0, 12) + ") is another run than " + uuid +
                            " (" + ours.text("name") + ", settings " +
                            ours.text("config_hash").substr(0, 12) + ") in " + target.path());
            if (theirs.last_seen() < ours.last_seen()) {
                ++report.older;
                continue;
            }
            keep_our_row = theirs.last_seen() == ours.last_seen() &&
                           (is_terminal(ours.status()) && !is_terminal(theirs.status()));
            keep_our_row = keep_our_row || theirs.hash() == ours.hash();
            ours.statement.reset(); // no read cursor on runs while it is written
        }
        const int64_t experiment_id = experiment_in_target(source, target, theirs.statement.column_text(0));
        if (!keep_our_row) write_run_row(target, theirs, experiment_id, exists);
        bool changed = !keep_our_row;
        for (const RunTable& t : tables)
            changed = sync_table(source, target, t, uuid) || changed;
        if (!exists)
            ++report.added;
        else if (changed)
            ++report.updated;
        else
            ++report.unchanged;
    }
    return report;
}

ImportReport import_shards(RunStore& target, const std::vector<std::string>& shard_paths) {
    // Every shard is checked before anything is written.
    std::vector<std::unique_ptr<Database>> shards;
    for (const auto& path : shard_paths)
        shards.push_back(open_shard(path));
    target.flush();
    Database& db = target.database();
    ImportReport total;
    Transaction write(db);
    for (size_t i = 0; i < shards.size(); ++i) {
        try {
            Transaction read(*shards[i], Transaction::Kind::Deferred); // one consistent view of a live store
            const ImportReport r = merge_runs(*shards[i], db, {}, shard_paths[i]);
            read.commit();
            total.added += r.added;
            total.updated += r.updated;
            total.unchanged += r.unchanged;
            total.older += r.older;
            total.uuids.insert(total.uuids.end(), r.uuids.begin(), r.uuids.end());
        } catch (const std::exception& e) {
            const std::string what = e.what();
            throw Error(what.find(shard_paths[i]) == std::string::npos
                            ? "cannot import shard " + shard_paths[i] + ": " + what
                            : what);
        }
    }
    write.commit();
    return total;
}

void export_runs(RunStore& source, const std::vector<std::string>& uuids, const std::string& shard_path) {
    source.flush();
    const fs::path staging_dir = fs::temp_directory_path() / ("rilq-export-" + new_run_uuid().substr(0, 12));
    fs::create_directories(staging_dir);
    struct Cleanup {
        fs::path dir;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{staging_dir};
    StoreOptions options;
    options.detect_interrupted = false;
    RunStore staging((staging_dir / "shard.sqlite").string(), options);
    {
        Transaction read(source.database(), Transaction::Kind::Deferred);
        Transaction write(staging.database());
        merge_runs(source.database(), staging.database(), uuids, source.path());
        write.commit();
        read.commit();
    }
    write_store_snapshot(staging.database(), shard_path);
}

} // namespace rilq::store
