#include "store/sqlite/connection.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/files.h"

namespace payoutd::store::sqlite {
namespace {

constexpr const char* kQueryOnly = "PRAGMA query_only=1";
constexpr const char* kWalMode = "PRAGMA journal_mode=WAL";
// The writer's settings, after WAL mode:
// - synchronous=NORMAL: commits are made durable by Store::sync() (an fdatasync of the log);
// - secure_delete=FAST: what a write removes (an outbox body erased once sent) is overwritten in
//   the pages the write touches anyway, instead of lingering in free space (no extra page writes);
// - foreign_keys=OFF: checked by audit; the engine never violates them;
// - temp_store=MEMORY: statement journals (a statement that may fail half-way inside the batch's
//   transaction) stay in memory instead of a temporary file each.
constexpr const char* kWriterPragmas =
    "PRAGMA synchronous=NORMAL; PRAGMA secure_delete=FAST; PRAGMA foreign_keys=OFF; "
    "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY";

}  // namespace

Stmt::Stmt(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
      SQLITE_OK) {
    throw StorageError(std::string("prepare: ") + sqlite3_errmsg(db) + " in " + sql);
  }
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw StorageError(std::string("step: ") + sqlite3_errmsg(db_));
}

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

void Stmt::check(int rc) {
  if (rc != SQLITE_OK) throw StorageError(std::string("bind: ") + sqlite3_errmsg(db_));
}

Connection::Connection(const std::string& path, Mode mode, int busy_timeout_ms) {
  // Readers open read-write but query-only: a read-only SQLite connection cannot open a WAL
  // database whose -shm file does not exist yet (audit of a stopped server).
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                    (mode == Mode::kCreate ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path + ": " + message);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 1);
  if (mode == Mode::kQueryOnly) exec(kQueryOnly);
}

Connection::~Connection() {
  statements_.clear();
  sqlite3_close(db_);
}

void Connection::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw StorageError(message + " in " + sql);
  }
}

Stmt& Connection::stmt(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    std::string key(sql);
    it = statements_.emplace(key, std::make_unique<Stmt>(db_, key)).first;
  }
  return it->second->reset();
}

std::unique_ptr<Connection> open_writer(const std::string& path, int busy_timeout_ms) {
  auto writer = std::make_unique<Connection>(path, Connection::Mode::kCreate, busy_timeout_ms);
  const auto mode = first_row(writer->stmt(kWalMode), read_text);
  if (mode != "wal") throw std::runtime_error("cannot switch " + path + " to WAL");
  make_private_database(path);  // the log and -shm SQLite makes later take its mode
  writer->exec(kWriterPragmas);
  return writer;
}

DatabaseLock::DatabaseLock(const std::string& path) {
  const std::string lock_path = path + ".lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0 || ::fchmod(fd_, 0600) != 0) {
    const std::string error = errno_text(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("cannot open " + lock_path + ": " + error);
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw std::runtime_error("another payoutd serves " + path + " (" + lock_path + " is locked)");
  }
}

DatabaseLock::~DatabaseLock() { ::close(fd_); }

void sync_database_files(const std::string& path) {
  for (const std::string& file : {path, path + "-wal"}) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // no log yet
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw std::runtime_error("fsync " + file + ": " + errno_text(errno));
  }
  const std::filesystem::path db(path);
  const std::string dir = db.has_parent_path() ? db.parent_path().string() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);  // the directory entries of the database and its log
    ::close(fd);
  }
}

ReaderPool::Lease ReaderPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
  }
  return Lease(*this,
               std::make_unique<Connection>(path_, Connection::Mode::kQueryOnly, busy_timeout_ms_));
}

void ReaderPool::release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < idle_max_) idle_.push_back(std::move(c));
}

}  // namespace payoutd::store::sqlite
