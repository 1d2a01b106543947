// What a PostgreSQL failover looks like to the store: a server that refuses writes (a primary
// demoted to a standby), sessions terminated, and reads that must be confirmed by a commit.
// Against a throwaway cluster (test_databases.h); one database per test.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <thread>

#include "core/clock.h"
#include "engine/committer.h"
#include "store/postgres/connection.h"
#include "store/store.h"
#include "test_databases.h"

namespace payoutd::store {
namespace {

using testing::Backend;
using testing::TestDatabase;
using namespace std::chrono_literals;

// A batch that sets a meta key; its commit's status (a failure the transaction threw, too).
Status write_batch(Store& store, std::string_view value) {
  try {
    auto txn = store.begin();
    txn->prepare({});
    txn->set_meta("failover-test", value);
    return txn->commit();
  } catch (const TxnFailed& e) {
    return e.status();
  }
}

std::string database_of(const TestDatabase& db) {
  return db.query("SELECT current_database()").at(0).at(0);
}

// Ends every other session on the test's database (the store's, as a failover does), and waits
// until they are gone.
void terminate_sessions(const TestDatabase& db) {
  db.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

TEST(PostgresFailover, FailuresThatNeedANewConnectionAreNamed) {
  using postgres::needs_new_connection;
  for (const char* state : {"08006", "08003", "08001", "57P01", "57P02", "57P03", "25006"}) {
    EXPECT_TRUE(needs_new_connection(state)) << state;
  }
  for (const char* state : {"23505", "40001", "40P01", "57014", "42P01", "25P02"}) {
    EXPECT_FALSE(needs_new_connection(state)) << state;
  }
}

// A server that refuses writes (25006, as a demoted primary does) makes the store drop its
// connection: once writes are accepted again, the next batch commits on a new one. Kept, the old
// session would refuse every write for as long as it lived.
TEST(PostgresFailover, AReadOnlyServerIsLeftForANewConnection) {
  TestDatabase db(Backend::kPostgres);
  auto store = db.open();
  ASSERT_TRUE(write_batch(*store, "before").ok);
  const std::string name = database_of(db);
  db.execute("ALTER DATABASE \"" + name + "\" SET default_transaction_read_only = on");
  terminate_sessions(db);
  // The terminated session, then read-only ones: every batch fails, retryable, nothing written.
  Status refused;
  for (int i = 0; i < 3; ++i) {
    refused = write_batch(*store, "refused");
    EXPECT_FALSE(refused.ok);
    EXPECT_TRUE(refused.conflict) << refused.message;  // the committer runs it again
    std::this_thread::sleep_for(50ms);
  }
  db.execute("BEGIN READ WRITE; ALTER DATABASE \"" + name +
             "\" RESET default_transaction_read_only; COMMIT");
  Status accepted = Status::Error("not tried yet");
  for (int i = 0; i < 100 && !accepted.ok; ++i) {
    accepted = write_batch(*store, "after");
    if (!accepted.ok) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(accepted.ok) << accepted.message;
  EXPECT_EQ(db.query("SELECT value FROM meta WHERE key = 'failover-test'").at(0).at(0), "after");
}

// A batch that writes nothing still writes its node's row of the commit barrier, so that its
// COMMIT waits for the synchronous standby like any other (what confirms the batch's reads).
TEST(PostgresFailover, ABatchThatWritesNothingWritesTheCommitBarrier) {
  TestDatabase db(Backend::kPostgres);
  auto store = db.open();
  EXPECT_TRUE(store->read_barrier_needed());
  const auto barriers = [&] {
    return db.query("SELECT count(*) FROM records WHERE kind = 'commit-barrier'").at(0).at(0);
  };
  EXPECT_EQ(barriers(), "0");
  auto txn = store->begin();
  txn->prepare({});
  ASSERT_TRUE(txn->commit().ok);
  EXPECT_EQ(barriers(), "1");
  // A batch that wrote a row (here before commit(), statement by statement) needs none.
  db.execute("DELETE FROM records WHERE kind = 'commit-barrier'");
  ASSERT_TRUE(write_batch(*store, "written").ok);
  EXPECT_EQ(barriers(), "0");
}

// A lookup on a connection lost in the middle of a batch throws, as a conflict, and so does
// everything after it: answering "no such account" or "no such transfer" instead would make a job
// decide on what the database never said (a card payout's reservation taken for missing).
TEST(PostgresFailover, ALookupOnALostConnectionThrowsInsteadOfFindingNothing) {
  TestDatabase db(Backend::kPostgres);
  auto store = db.open();
  ASSERT_TRUE(write_batch(*store, "before").ok);
  auto txn = store->begin();
  txn->prepare({});
  terminate_sessions(db);
  try {
    txn->find_transfer(1);
    ADD_FAILURE() << "a lookup on a terminated session answered";
  } catch (const TxnFailed& e) {
    EXPECT_TRUE(e.status().conflict) << e.status().message;
  }
  EXPECT_THROW(txn->find_payout_by_id(1), TxnFailed);
  EXPECT_THROW(txn->account(1), TxnFailed);
  const Status status = txn->commit();
  EXPECT_FALSE(status.ok);
  EXPECT_TRUE(status.conflict) << status.message;
}

// The committer runs a batch whose connection was lost under a job again, on a new connection:
// the job never sees the lost connection's empty answers, and its second run commits.
TEST(PostgresFailover, TheCommitterRunsABatchAgainWhenItsConnectionIsLostUnderAJob) {
  TestDatabase db(Backend::kPostgres);
  auto store = db.open();
  ASSERT_TRUE(write_batch(*store, "before").ok);
  SystemClock clock;
  engine::Committer committer(*store, clock, engine::CommitterOptions{});
  committer.start();
  std::atomic<int> runs{0};
  std::atomic<int> empty_answers{0};
  std::promise<Status> done;
  ASSERT_TRUE(committer.submit(engine::make_job<int>(
      [&](WriteTxn& txn, std::int64_t) {
        if (++runs == 1) terminate_sessions(db);
        if (!txn.get_meta("failover-test")) ++empty_answers;
        txn.set_meta("failover-test", "after");
        return 0;
      },
      [&](int, const Status& status) { done.set_value(status); })));
  const Status status = done.get_future().get();
  committer.stop();
  EXPECT_TRUE(status.ok) << status.message;
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(empty_answers.load(), 0);
  EXPECT_EQ(db.query("SELECT value FROM meta WHERE key = 'failover-test'").at(0).at(0), "after");
}

// A server that stops answering (here its session's process, stopped as a frozen primary is)
// keeps the TCP connection open: the connection gives up at reply_timeout_ms instead of waiting
// for as long as the server stays frozen, and reports itself lost.
TEST(PostgresFailover, AServerThatStopsAnsweringBreaksTheConnectionAtItsDeadline) {
  TestDatabase db(Backend::kPostgres);
  PostgresOptions options;
  options.url = db.location();
  options.statement_timeout_ms = 500;
  options.reply_timeout_ms = 1000;
  postgres::Connection c(options);
  const auto pid = static_cast<pid_t>(postgres::Row(c.query("SELECT pg_backend_pid()"), 0).i64(0));
  if (::kill(pid, SIGSTOP) != 0) {
    GTEST_SKIP() << "cannot stop the server's process: errno " << errno;
  }
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{pid};
  const auto started = std::chrono::steady_clock::now();
  try {
    c.exec("SELECT 1");
    ADD_FAILURE() << "a stopped server answered";
  } catch (const postgres::PgError& e) {
    EXPECT_EQ(e.sqlstate(), postgres::kConnectionLost) << e.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace payoutd::store
