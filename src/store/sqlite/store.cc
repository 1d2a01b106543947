#include "store/sqlite/store.h"
#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/assert.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/write_txn.h"

namespace payoutd::store::sqlite {
namespace {

// Checkpoints run on the checkpointer's thread (checkpointer.h), never inside a commit.
constexpr const char* kNoAutoCheckpoint = "PRAGMA wal_autocheckpoint=0";

}  // namespace

SqliteStore::SqliteStore(const SqliteOptions& options)
    : options_(options),
      readers_(options.path, options.busy_timeout_ms, options.reader_connections_max) {
  if (options_.read_only) {
    auto reader = readers_.acquire();
    schema_version_ = read_schema_version(*reader);
    return;
  }
  open_for_writing();
}

void SqliteStore::open_for_writing() {
  lock_.emplace(options_.path);
  // Before any SQLite connection exists in this process (see sync_database_files).
  sync_database_files(options_.path);
  writer_ = open_writer(options_.path, options_.busy_timeout_ms);
  schema_version_ = migrate(*writer_, options_.schema_version_target);
  load_accounts();
  writer_->exec(kNoAutoCheckpoint);
  sqlite3_wal_hook(
      writer_->raw(),
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<SqliteStore*>(self)->wal_frames_ = frames;
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::make_unique<Checkpointer>(options_.path, options_.busy_timeout_ms);
}

SqliteStore::~SqliteStore() {
  checkpointer_.reset();
  writer_.reset();
  if (wal_fd_ >= 0) ::close(wal_fd_);  // SQLite keeps no locks on the log file itself
}

void SqliteStore::load_accounts() {
  Stmt& s = writer_->stmt(sql::kAllAccounts);
  while (s.step()) accounts_.publish(read_account(s));
  s.reset();
}

int SqliteStore::note_commit() {
  if (wal_frames_ >= kWalFramesCheckpoint) checkpointer_->wake();
  return wal_frames_;
}

Status SqliteStore::sync() {
  if (wal_fd_ < 0) {
    // The log exists from the first commit on, and SQLite keeps it while the writer is open.
    wal_fd_ = ::open((options_.path + "-wal").c_str(), O_RDWR | O_CLOEXEC);
    if (wal_fd_ < 0) {
      return Status::Error(std::string("open write-ahead log: ") + errno_text(errno));
    }
  }
  if (::fdatasync(wal_fd_) != 0) {
    return Status::Error(std::string("fdatasync write-ahead log: ") + errno_text(errno));
  }
  return Status::Ok();
}

std::unique_ptr<WriteTxn> SqliteStore::begin() {
  PAYOUTD_ASSERT(writer_ != nullptr, "a read-only store has no write transactions");
  return std::make_unique<SqliteWriteTxn>(*this, *writer_);
}

}  // namespace payoutd::store::sqlite

namespace payoutd::store {

std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options) {
  return std::make_unique<sqlite::SqliteStore>(options);
}

}  // namespace payoutd::store
