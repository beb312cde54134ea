#include "core/store/sqlite.h"

#include "core/util/error.h"

#include <sqlite3.h>

#include <cctype>
#include <utility>

namespace rilq::store {

namespace {

// "file:/a%20b.db?immutable=1": a URI names the file with its special characters escaped.
std::string immutable_uri(const std::string& path) {
    static const char* hex = "0123456789ABCDEF";
    std::string uri = "file:";
    for (const unsigned char c : path) {
        if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
            uri += static_cast<char>(c);
        } else {
            uri += '%';
            uri += hex[c >> 4];
            uri += hex[c & 0xf];
        }
    }
    return uri + "?immutable=1";
}

} // namespace

Database::Database(const std::string& path, Mode mode) : path_(path), mode_(mode) {
    int flags = SQLITE_OPEN_NOMUTEX;
    if (mode == Mode::ReadWrite) flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (mode == Mode::ReadOnly) flags |= SQLITE_OPEN_READONLY;
    if (mode == Mode::Immutable) flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    const std::string name = mode == Mode::Immutable ? immutable_uri(path) : path;
    const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        close();
        throw Error(path + ": cannot open database: " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() {
    close();
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)), mode_(other.mode_) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
        mode_ = other.mode_;
    }
    return *this;
}

void Database::close() noexcept {
    // sqlite3_close_v2 defers the close until every statement is finalized.
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
}

void Database::fail(const std::string& context, int rc) const {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    throw Error(path_ + ": " + context + ": " + message + " (code " + std::to_string(rc) + ")");
}

void Database::exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        const std::string message = error ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw Error(path_ + ": " + message + " (code " + std::to_string(rc) + ") in: " + sql.substr(0, 200));
    }
}

Statement Database::prepare(const std::string& sql) {
    return Statement(*this, sql);
}

std::string Database::query_text(const std::string& sql) {
    Statement s(*this, sql);
    return s.step() ? s.column_text(0) : std::string();
}

int64_t Database::query_int(const std::string& sql) {
    Statement s(*this, sql);
    return s.step() ? s.column_int64(0) : 0;
}

int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_);
}
int Database::changes() const {
    return sqlite3_changes(db_);
}
bool Database::in_transaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

void Database::set_busy_timeout(int timeout_ms) {
    const int rc = sqlite3_busy_timeout(db_, timeout_ms);
    if (rc != SQLITE_OK) fail("busy timeout", rc);
}

Statement::Statement(Database& db, const std::string& sql) : db_(&db), sql_(sql) {
    const int rc =
        sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
    if (rc != SQLITE_OK) db.fail("prepare \"" + sql + "\"", rc);
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (stmt_) sqlite3_finalize(stmt_);
        db_ = other.db_;
        stmt_ = std::exchange(other.stmt_, nullptr);
        sql_ = std::move(other.sql_);
    }
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    const int rc = sqlite3_bind_int64(stmt_, index, value);
    if (rc != SQLITE_OK) db_->fail("bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", rc);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    const int rc = sqlite3_bind_double(stmt_, index, value);
    if (rc != SQLITE_OK) db_->fail("bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", rc);
    return *this;
}

Statement& Statement::bind(int index, const std::string& value) {
    const int rc =
        sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) db_->fail("bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", rc);
    return *this;
}

Statement& Statement::bind_null(int index) {
    const int rc = sqlite3_bind_null(stmt_, index);
    if (rc != SQLITE_OK) db_->fail("bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", rc);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    db_->fail("run \"" + sql_.substr(0, 200) + "\"", rc);
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}
double Statement::column_double(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Statement::column_text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    if (!text) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int Statement::column_type(int column) const {
    return sqlite3_column_type(stmt_, column);
}

int Statement::column_count() const {
    return sqlite3_column_count(stmt_);
}

Statement& Statement::bind_column(int index, const Statement& row, int column) {
    const int rc = sqlite3_bind_value(stmt_, index, sqlite3_column_value(row.stmt_, column));
    if (rc != SQLITE_OK) db_->fail("bind parameter " + std::to_string(index) + " of \"" + sql_ + "\"", rc);
    return *this;
}

Transaction::Transaction(Database& db, Kind kind) : db_(db) {
    db_.exec(kind == Kind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
    if (!open_) return;
    try {
        db_.exec("ROLLBACK");
    } catch (...) {
        // Destructors must not throw; SQLite may already have rolled back (e.g. after SQLITE_FULL).
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    open_ = false;
}

} // namespace rilq::store
