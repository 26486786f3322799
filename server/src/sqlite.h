// RAII wrappers over the SQLite C API: a connection and prepared statements that finalize
// themselves. Errors throw SqliteError; values are bound by position (1-based) and never spliced
// into SQL text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace veil::server {

class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);

  SqliteStatement& Bind(int index, std::int64_t value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& BindNull(int index);
  SqliteStatement& BindOptional(int index, const std::optional<std::string>& text);

  // Advances; true while a row is available.
  bool Step();
  // Runs a statement that returns no rows; returns the number of rows changed.
  int Run();

  std::int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> statement_;
};

class SqliteDb {
 public:
  // Opens (creating) the file; ":memory:" for tests. Serialized mode: one connection may be used
  // from several threads, each statement by one thread at a time.
  explicit SqliteDb(const std::string& path);

  void Exec(std::string_view sql);
  SqliteStatement Prepare(std::string_view sql) { return SqliteStatement(db_.get(), sql); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace veil::server
