// A small RAII layer over SQLite's C API: a connection, a prepared statement, a transaction.
// Every failure throws rilq::Error naming the database file, the SQL and SQLite's message.
// A Database is used by one thread at a time (open one per thread: WAL lets readers and the
// writer run side by side).
#pragma once
#include <cstdint>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace rilq::store {

class Statement;

class Database {
  public:
    // Immutable: read-only without any locking or WAL index (SQLite's immutable=1), for a
    // store on read-only media; only valid while nobody writes to the file.
    enum class Mode { ReadWrite, ReadOnly, Immutable };

    // Opens (creating it in ReadWrite mode) the file at `path`.
    explicit Database(const std::string& path, Mode mode = Mode::ReadWrite);
    ~Database();
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more statements that return no rows.
    void exec(const std::string& sql);
    Statement prepare(const std::string& sql);

    // The first column of the first row of `sql`, as text ("" when there is no row).
    std::string query_text(const std::string& sql);
    int64_t query_int(const std::string& sql);

    int64_t last_insert_rowid() const;
    int changes() const;
    bool in_transaction() const;
    void set_busy_timeout(int timeout_ms);

    const std::string& path() const { return path_; }
    Mode mode() const { return mode_; }
    sqlite3* handle() const { return db_; }

    // Throws rilq::Error: "<path>: <context>: <sqlite message> (code N)".
    [[noreturn]] void fail(const std::string& context, int rc) const;

  private:
    void close() noexcept;

    sqlite3* db_ = nullptr;
    std::string path_;
    Mode mode_ = Mode::ReadWrite;
};

class Statement {
  public:
    Statement(Database& db, const std::string& sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters are 1-based, as in SQLite.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, const std::string& value);
    Statement& bind(int index, const char* value) { return bind(index, std::string(value)); }
    Statement& bind_null(int index);

    // Binds all arguments to parameters 1..N.
    template <class... Args> Statement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    bool step();  // true while a row is available
    void run();   // steps a statement that returns no rows, then resets it
    void reset(); // ready to run again; bindings cleared

    int64_t column_int64(int column) const;
    double column_double(int column) const;
    std::string column_text(int column) const;
    bool column_is_null(int column) const;
    // For copying rows of any table between connections (shard_import.h): the value's storage
    // class as SQLite numbers it (1 integer, 2 float, 3 text, 4 blob, 5 null), the row's width,
    // and binding a column of another statement's current row as is.
    int column_type(int column) const;
    int column_count() const;
    Statement& bind_column(int index, const Statement& row, int column);

  private:
    Database* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
    std::string sql_;
};

// BEGIN IMMEDIATE (the write lock up front, so two writers wait on the busy timeout instead
// of failing on a lock upgrade) or BEGIN DEFERRED for a consistent read snapshot.
// Rolls back in the destructor unless commit() ran.
class Transaction {
  public:
    enum class Kind { Immediate, Deferred };
    explicit Transaction(Database& db, Kind kind = Kind::Immediate);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

  private:
    Database& db_;
    bool open_ = true;
};

} // namespace rilq::store
