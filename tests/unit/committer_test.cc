// The committer's durability contract: nothing completes, and no read answers, before the sync
// that covers it has returned. The real SQLite store is wrapped so that sync() waits on a gate
// the test opens.
#include "engine/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "forwarding_store.h"
#include "store/sqlite_store.h"

namespace payoutd::engine {
namespace {

using namespace std::chrono_literals;

// A store whose sync() waits until the test opens the gate; everything else is the real store's.
class GatedStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  void open_gate() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  int syncs_started() const { return syncs_started_.load(); }
  // Reads that may see another writer's commit before it is durable (PostgreSQL's), or not.
  void need_read_barrier(bool need) { read_barrier_ = need; }
  bool read_barrier_needed() const override { return read_barrier_; }
  // From now on every batch fails.
  void fail_commits() { fail_commits_ = true; }
  std::unique_ptr<store::WriteTxn> begin() override {
    if (fail_commits_) throw std::runtime_error("the database is failing over");
    return ForwardingStore::begin();
  }

  store::Status sync() override {
    ++syncs_started_;
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
    return ForwardingStore::sync();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> syncs_started_{0};
  std::atomic<bool> read_barrier_{false}, fail_commits_{false};
};

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("payoutd-committer-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::make_unique<GatedStore>(
        store::open_sqlite_store({.path = (dir_ / "payoutd.db").string()}));
    committer_ = std::make_unique<Committer>(*store_, clock_, CommitterOptions{});
    committer_->start();
  }
  void TearDown() override {
    store_->open_gate();
    committer_->stop();
    committer_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Submits a job that writes a meta key; `completed` turns true once it completes.
  void submit_write(std::atomic<int>& completed, std::atomic<bool>& ok, bool fail = false) {
    ASSERT_TRUE(committer_->submit(make_job<int>(
        [fail](store::WriteTxn& txn, std::int64_t) {
          if (fail) throw std::runtime_error("job fails");
          txn.set_meta("k", "v");
          return 0;
        },
        [&](int, const store::Status& status) {
          ok = status.ok;
          ++completed;
        })));
  }
  // The `failed` of a read that must be confirmed.
  static void never() { ADD_FAILURE() << "a read's confirmation failed"; }
  static void never_answered() { ADD_FAILURE() << "a refused read was answered"; }
  template <typename Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  SystemClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<GatedStore> store_;
  std::unique_ptr<Committer> committer_;
};

TEST_F(CommitterTest, JobCompletesOnlyAfterTheSyncCoveringIt) {
  std::atomic<int> completed{0};
  std::atomic<bool> ok{false};
  submit_write(completed, ok);
  ASSERT_TRUE(eventually([&] { return store_->syncs_started() == 1; }));
  // Committed, visible to readers, but the sync has not returned: nothing may complete.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(completed.load(), 0);
  std::atomic<bool> read_answered{false};
  committer_->after_durable([&] { read_answered = true; }, never);
  EXPECT_FALSE(read_answered.load());
  store_->open_gate();
  ASSERT_TRUE(eventually([&] { return completed.load() == 1 && read_answered.load(); }));
  EXPECT_TRUE(ok.load());
}

TEST_F(CommitterTest, ReadWithNothingPendingAnswersAtOnce) {
  bool answered = false;
  committer_->after_durable([&] { answered = true; }, never);
  EXPECT_TRUE(answered);
}

// Where another node's commit may be visible before it is durable, a read is confirmed by a batch
// committed after it, never at once; when that batch fails, the read is refused, not answered.
TEST_F(CommitterTest, AReadIsConfirmedByALaterCommitWhereOtherNodesWrite) {
  store_->need_read_barrier(true);
  std::atomic<bool> answered{false}, refused{false};
  committer_->after_durable([&] { answered = true; }, [&] { refused = true; });
  ASSERT_TRUE(eventually([&] { return store_->syncs_started() == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(answered.load());  // nothing was pending, yet it waits for its own commit
  store_->open_gate();
  ASSERT_TRUE(eventually([&] { return answered.load(); }));
  EXPECT_FALSE(refused.load());

  store_->fail_commits();
  std::atomic<bool> answered2{false}, refused2{false};
  committer_->after_durable([&] { answered2 = true; }, [&] { refused2 = true; });
  ASSERT_TRUE(eventually([&] { return refused2.load(); }));
  EXPECT_FALSE(answered2.load());
  committer_->stop();  // a stopped committer refuses at once
  std::atomic<bool> refused3{false};
  committer_->after_durable(never_answered, [&] { refused3 = true; });
  EXPECT_TRUE(refused3.load());
}

TEST_F(CommitterTest, FailedBatchCompletesAtOnceAndKeepsTheSequence) {
  store_->open_gate();
  std::atomic<int> completed{0};
  std::atomic<bool> ok{true};
  submit_write(completed, ok, /*fail=*/true);
  ASSERT_TRUE(eventually([&] { return completed.load() == 1; }));
  EXPECT_FALSE(ok.load());
  // Reads after a failed batch are not left waiting for a sync that never comes.
  std::atomic<bool> answered{false};
  committer_->after_durable([&] { answered = true; }, never);
  ASSERT_TRUE(eventually([&] { return answered.load(); }));
  // And the next batch succeeds.
  std::atomic<int> completed2{0};
  std::atomic<bool> ok2{false};
  submit_write(completed2, ok2);
  ASSERT_TRUE(eventually([&] { return completed2.load() == 1; }));
  EXPECT_TRUE(ok2.load());
}

TEST_F(CommitterTest, OneSyncCoversManyBatches) {
  std::atomic<int> completed{0};
  std::atomic<bool> ok{false};
  submit_write(completed, ok);
  ASSERT_TRUE(eventually([&] { return store_->syncs_started() == 1; }));
  // While the first sync hangs, more batches commit; they all wait, then one sync covers them.
  for (int i = 0; i < 20; ++i) {
    submit_write(completed, ok);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(eventually([&] { return committer_->stats().batches >= 2; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(completed.load(), 0);
  store_->open_gate();
  ASSERT_TRUE(eventually([&] { return completed.load() == 21; }));
  EXPECT_LE(committer_->stats().syncs, 3u);
}

TEST_F(CommitterTest, JobsWaitingTogetherShareOneCommitAndOneSync) {
  store_->open_gate();
  committer_->stop();  // a committer that has not started yet lets jobs queue up
  committer_ = std::make_unique<Committer>(*store_, clock_, CommitterOptions{});
  std::atomic<int> completed{0};
  std::atomic<bool> ok{false};
  for (int i = 0; i < 10; ++i) submit_write(completed, ok);
  committer_->start();
  ASSERT_TRUE(eventually([&] { return completed.load() == 10; }));
  const CommitterStats stats = committer_->stats();
  EXPECT_EQ(stats.jobs, 10u);
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_EQ(stats.batch_jobs_largest, 10u);
  EXPECT_EQ(stats.syncs, 1u);
}

}  // namespace
}  // namespace payoutd::engine
