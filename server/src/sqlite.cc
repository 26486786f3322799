#include "sqlite.h"

namespace veil::server {
namespace {

void Check(sqlite3* db, int code, std::string_view what) {
  if (code != SQLITE_OK) {
    throw SqliteError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(code)));
  }
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  Check(db, sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr),
        "prepare");
  statement_.reset(raw);
}

SqliteStatement& SqliteStatement::Bind(int index, std::int64_t value) {
  Check(db_, sqlite3_bind_int64(statement_.get(), index, value), "bind");
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  Check(db_,
        sqlite3_bind_text(statement_.get(), index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT),
        "bind");
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  Check(db_, sqlite3_bind_null(statement_.get(), index), "bind");
  return *this;
}

SqliteStatement& SqliteStatement::BindOptional(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

bool SqliteStatement::Step() {
  const int code = sqlite3_step(statement_.get());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  throw SqliteError(std::string("step: ") + sqlite3_errmsg(db_));
}

namespace {

// Holds the connection's (recursive) mutex: the connection is shared by every request thread, and
// sqlite3_changes() reports the last statement of the connection, not of this one.
class ConnectionLock {
 public:
  explicit ConnectionLock(sqlite3* db) : mutex_(sqlite3_db_mutex(db)) {
    sqlite3_mutex_enter(mutex_);
  }
  ~ConnectionLock() { sqlite3_mutex_leave(mutex_); }
  ConnectionLock(const ConnectionLock&) = delete;
  ConnectionLock& operator=(const ConnectionLock&) = delete;

 private:
  sqlite3_mutex* mutex_;
};

}  // namespace

int SqliteStatement::Run() {
  // Step and the change count as one unit, so another thread's DELETE in between (e.g. the
  // sweep) cannot make an UPDATE look as if it changed nothing.
  const ConnectionLock lock(db_);
  while (Step()) {
  }
  return sqlite3_changes(db_);
}

std::int64_t SqliteStatement::Int(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

std::string SqliteStatement::Text(int column) const {
  const auto* text = sqlite3_column_text(statement_.get(), column);
  if (!text) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_.get(), column)));
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

SqliteDb::SqliteDb(const std::string& path) {
  sqlite3* raw = nullptr;
  const int code =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  db_.reset(raw);  // sqlite3_open_v2 may allocate a handle even when it fails
  Check(db_.get(), code, "open " + path);
  sqlite3_busy_timeout(db_.get(), 5000);
}

void SqliteDb::Exec(std::string_view sql) {
  char* error = nullptr;
  const std::string text(sql);
  const int code = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    throw SqliteError("exec: " + message);
  }
}

}  // namespace veil::server
