#include "store/sqlite/checkpointer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>

#include "store/sqlite/connection.h"

namespace payoutd::store::sqlite {
namespace {

// NORMAL: the checkpoint syncs the log before copying it and the database after, so a completed
// checkpoint never depends on an unsynced page.
constexpr const char* kCheckpointerPragmas = "PRAGMA synchronous=NORMAL";

}  // namespace

void checkpoint(Connection& c, int mode, const char* what) {
  int log_frames = 0;
  int copied_frames = 0;
  const int rc = sqlite3_wal_checkpoint_v2(c.raw(), nullptr, mode, &log_frames, &copied_frames);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    spdlog::warn("{} failed: {}", what, sqlite3_errmsg(c.raw()));
}

Checkpointer::Checkpointer(std::string path, int busy_timeout_ms)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), thread_([this] {
        pthread_setname_np(pthread_self(), "checkpointer");
        run();
      }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::run() {
  Connection connection(path_, Connection::Mode::kCreate, busy_timeout_ms_);
  connection.exec(kCheckpointerPragmas);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(kCheckpointIntervalMs));
    if (stopping_) break;
    lock.unlock();
    checkpoint(connection, SQLITE_CHECKPOINT_PASSIVE, "checkpoint");
    lock.lock();
  }
}

}  // namespace payoutd::store::sqlite
