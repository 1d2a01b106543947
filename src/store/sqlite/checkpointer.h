#pragma once
// Checkpoints of the write-ahead log, off the commit path. A checkpoint copies the log into the
// database file and fsyncs it: slow, so it runs on a thread of its own, every
// kCheckpointIntervalMs and at once when the writer wakes it (the log has reached
// kWalFramesCheckpoint frames). If checkpoints fall behind, the writer restarts the log itself
// once it is kWalFramesMax long (SqliteWriteTxn::commit).
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace payoutd::store::sqlite {

// Frames are 4 KiB pages.
constexpr int kCheckpointIntervalMs = 100;
constexpr int kWalFramesCheckpoint = 2000;
// A log this long means the background checkpoints cannot keep up (a passive checkpoint never
// finishes while commits keep arriving): the writer then restarts the log itself, blocking.
constexpr int kWalFramesMax = 4000;

class Connection;

// Copies the log into the database on `c` (SQLITE_CHECKPOINT_PASSIVE: as far as readers allow;
// RESTART: all of it, waiting for writers, so that the log starts over). A failure is logged and
// left to the next checkpoint; busy is not a failure.
void checkpoint(Connection& c, int mode, const char* what);

class Checkpointer {
 public:
  // Starts the thread, with a connection of its own to the database at `path`.
  Checkpointer(std::string path, int busy_timeout_ms);
  // Stops the thread and waits for it.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Runs a checkpoint now instead of at the next interval.
  void wake() { wake_.notify_one(); }

 private:
  void run();

  const std::string path_;
  const int busy_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace payoutd::store::sqlite
