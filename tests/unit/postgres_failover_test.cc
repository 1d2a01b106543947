// What a PostgreSQL failover looks like to the store: a server that refuses writes (a primary
// demoted to a standby), sessions terminated, and reads that must be confirmed by a commit.
// Against a throwaway cluster (test_databases.h); one database per test.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/postgres/connection.h"
#include "store/store.h"
#include "test_databases.h"

namespace payoutd::store {
namespace {

using testing::Backend;
using testing::TestDatabase;
using namespace std::chrono_literals;

// A batch that sets a meta key; its commit's status.
Status write_batch(Store& store, std::string_view value) {
  auto txn = store.begin();
  txn->prepare({});
  txn->set_meta("failover-test", value);
  return txn->commit();
}

std::string database_of(const TestDatabase& db) {
  return db.query("SELECT current_database()").at(0).at(0);
}

// Ends every other session on the test's database: the store's, as a failover does.
void terminate_sessions(const TestDatabase& db) {
  db.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
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
}

}  // namespace
}  // namespace payoutd::store
