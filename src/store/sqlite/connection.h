#pragma once
// SQLite connections: statements prepared once per connection, opening the writer (its pragmas,
// the data directory's lock, the start-up fsync) and the pool of query-only reader connections.
// Statement helpers throw StorageError (rows.h); the write transaction turns it into a failed
// commit, start-up lets it end the process.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/pool_lease.h"
#include "store/rows.h"

namespace payoutd::store::sqlite {

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Every use binds every parameter again, so the bindings need no clearing.
  Stmt& reset() {
    sqlite3_reset(stmt_);
    next_ = 1;
    return *this;
  }
  Stmt& bind(std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  // SQLITE_STATIC: SQLite reads the caller's bytes instead of copying them. Callers keep the
  // text alive until the statement has run (exec() or the last step()), and the statement is
  // reset before its next use.
  Stmt& bind(std::string_view v) {
    check(sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& bind(const OwnedText& v) {
    check(sqlite3_bind_text(stmt_, next_++, v.text.data(), static_cast<int>(v.text.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(std::nullptr_t) {
    check(sqlite3_bind_null(stmt_, next_++));
    return *this;
  }
  // Binds the record's columns that a field table of rows.h names, in order.
  template <typename Record, typename Table>
  Stmt& bind_fields(const Record& record, const Table& fields) {
    put_fields(record, fields, [this](auto value) { bind(value); });
    return *this;
  }

  // True when a row is available.
  bool step();
  void exec() {
    while (step()) {
    }
    sqlite3_reset(stmt_);  // releases the statement's hold on the bound text at once
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int i32(int col) const { return sqlite3_column_int(stmt_, col); }
  std::string text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void check(int rc);
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

// A row's first column as text.
inline std::string read_text(const Stmt& s) { return s.text(0); }

// The statement's first row read by `read` (nullopt when there is none); the statement is reset.
template <typename Read>
auto first_row(Stmt& s, Read read) -> std::optional<decltype(read(s))> {
  std::optional<decltype(read(s))> result;
  if (s.step()) result = read(s);
  s.reset();
  return result;
}

// Every row of the statement, each read by `read`.
template <typename Read>
auto all_rows(Stmt& s, Read read) -> std::vector<decltype(read(s))> {
  std::vector<decltype(read(s))> result;
  while (s.step()) result.push_back(read(s));
  return result;
}

class Connection {
 public:
  enum class Mode { kCreate, kQueryOnly };
  Connection(const std::string& path, Mode mode, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One or more statements without parameters.
  void exec(const char* sql);
  // Statements are prepared once per connection and reused; the lookup allocates nothing.
  Stmt& stmt(std::string_view sql);
  sqlite3* raw() const { return db_; }

 private:
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stmt>, SqlHash, std::equal_to<>> statements_;
};

// The committer's connection to the database at `path`, created if missing, in WAL mode, private
// to its owner, with the pragmas of a single writer whose commits sync() makes durable. Throws
// std::runtime_error or StorageError.
std::unique_ptr<Connection> open_writer(const std::string& path, int busy_timeout_ms);

// One writer per database: a second payoutd on the same data directory would keep its own account
// cache and overwrite the first one's balances. Holds flock on `<path>.lock` from construction
// (which throws std::runtime_error when another process holds it) to destruction.
class DatabaseLock {
 public:
  explicit DatabaseLock(const std::string& path);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

 private:
  int fd_ = -1;
};

// A previous process may have died with commits in the page cache that no fsync covered. They
// are visible to whoever reads now: fsyncs the database, its log and their directory. Call it
// before any SQLite connection to the file exists in this process: closing a descriptor of the
// database file drops every POSIX lock the process holds on it, SQLite's included.
void sync_database_files(const std::string& path);

// Query-only connections for reads, from any thread: a read takes an idle one or opens a new
// one, and gives it back afterwards; at most `idle_max` stay open between reads.
class ReaderPool {
 public:
  ReaderPool(std::string path, int busy_timeout_ms, int idle_max)
      : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), idle_max_(idle_max) {}

  using Lease = PoolLease<ReaderPool, Connection>;
  Lease acquire();
  // Keeps the connection for the next read, unless idle_max are idle already.
  void release(std::unique_ptr<Connection> c);

 private:
  const std::string path_;
  const int busy_timeout_ms_;
  const int idle_max_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace payoutd::store::sqlite
