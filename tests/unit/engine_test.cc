// Engine tests on both real stores (a fresh database each), with a manual clock.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "engine/audit.h"
#include "engine/committer.h"
#include "engine/payouts.h"
#include "engine/provision.h"
#include "forwarding_store.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::engine {
namespace {

using testing::ManualClock;

Currency rub() { return *Currency::from_code("RUB"); }

const Tenant kTenant{"qiwi", "test"};

// A wallet payout of `minor` RUB kopecks, waited for.
PayoutResult pay_through(PayoutEngine& engine, const std::string& id, const std::string& funder,
                         const std::string& client, std::int64_t minor) {
  std::promise<PayoutResult> done;
  auto f = done.get_future();
  engine.wallet_payout({kTenant, id, funder, client, Amount{minor, rub()}},
                       [&done](PayoutResult r) { done.set_value(std::move(r)); });
  return f.get();
}

using testing::Backend;
using testing::TestDatabase;

class EngineTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    open();
    ProvisionPlan plan;
    plan.funders.push_back({{kTenant, "rich", "Rich", rub()}, 1'000'000'00});
    plan.funders.push_back({{kTenant, "poor", "Poor", rub()}, 1000'00});
    plan.clients.push_back({kTenant, "c1", "w1", rub()});
    plan.clients.push_back({kTenant, "c2", "w2", rub()});
    plan.clients.push_back({kTenant, "blocked", "wb", rub(), ledger::AccountStatus::kBlocked, 0});
    plan.clients.push_back({kTenant, "slow", "ws", rub(), ledger::AccountStatus::kActive, 2000});
    ASSERT_EQ(provision_if_empty(*engine_, nullptr, plan), "");
    engine_->start();
  }
  void TearDown() override { close(); }
  void open() {
    store_ = std::make_unique<testing::ForwardingStore>(db_.open());
    committer_ = std::make_unique<Committer>(*store_, clock_, CommitterOptions{});
    committer_->start();
    engine_ = std::make_unique<PayoutEngine>(*committer_, *store_, clock_);
  }
  void close() {
    if (engine_) engine_->stop();
    if (committer_) committer_->stop();
    engine_.reset();
    committer_.reset();
    store_.reset();
  }

  PayoutResult pay(const std::string& id, const std::string& funder, const std::string& client,
                   std::int64_t minor) {
    return pay_through(*engine_, id, funder, client, minor);
  }
  std::int64_t balance(ledger::AccountKind kind, const std::string& code) {
    return engine_->find_account(kTenant, kind, code).value()->balance();
  }
  std::vector<std::string> audit() { return audit_store(*store_); }

  ManualClock clock_;
  TestDatabase db_{GetParam()};
  std::unique_ptr<testing::ForwardingStore> store_;  // its reads fail when a test says so
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<PayoutEngine> engine_;
};

TEST_P(EngineTest, PayoutSucceedsAndIsRecorded) {
  const PayoutResult r = pay("t1", "rich", "c1", 100'50);
  ASSERT_EQ(r.error, Error::kNone);
  EXPECT_EQ(r.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w1"), 100'50);
  EXPECT_EQ(balance(ledger::AccountKind::kFunder, "rich"), 1'000'000'00 - 100'50);
  const auto page = engine_->wallet_history(kTenant, "w1", nullptr, 10);
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].domain_txn_id, "t1");
  EXPECT_EQ(page.entries[0].txn_history_id, r.payout.history_id);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ReplayReturnsStoredOutcomeAndConflictIsRefused) {
  ASSERT_EQ(pay("t1", "rich", "c1", 500).payout.status, store::PayoutStatus::kSuccess);
  const PayoutResult replay = pay("t1", "rich", "c1", 500);
  EXPECT_EQ(replay.error, Error::kNone);
  EXPECT_EQ(replay.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(pay("t1", "rich", "c1", 501).error, Error::kIdConflict);
  EXPECT_EQ(pay("t1", "rich", "c2", 500).error, Error::kIdConflict);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w1"), 500);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w2"), 0);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ValidationErrorsCreateNothing) {
  EXPECT_EQ(pay("t1", "nobody", "c1", 1).error, Error::kSourceNotFound);
  EXPECT_EQ(pay("t1", "rich", "nobody", 1).error, Error::kDestinationNotFound);
  // The id was not consumed by the failed attempts.
  EXPECT_EQ(pay("t1", "rich", "c1", 1).payout.status, store::PayoutStatus::kSuccess);
}

TEST_P(EngineTest, DeclinesMoveNothing) {
  const PayoutResult blocked = pay("b1", "rich", "blocked", 100);
  EXPECT_EQ(blocked.payout.status, store::PayoutStatus::kDeclined);
  EXPECT_EQ(blocked.payout.decline_code, kDeclineClientBlocked);
  const PayoutResult poor = pay("p1", "poor", "c1", 1000'01);
  EXPECT_EQ(poor.payout.status, store::PayoutStatus::kDeclined);
  EXPECT_EQ(poor.payout.decline_code, kDeclineInsufficientFunds);
  EXPECT_EQ(balance(ledger::AccountKind::kFunder, "poor"), 1000'00);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "wb"), 0);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ConcurrentPayoutsNeverOverdrawTheFunder) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;  // 200 payouts of 30.00 against 1000.00: 33 can succeed
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto r = pay("c-" + std::to_string(t) + "-" + std::to_string(i), "poor",
                           i % 2 ? "c1" : "c2", 30'00);
        if (r.payout.status == store::PayoutStatus::kSuccess) ++succeeded;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), 33);
  EXPECT_EQ(balance(ledger::AccountKind::kFunder, "poor"), 10'00);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ConcurrentCopiesOfOneRequestExecuteOnce) {
  std::vector<std::future<PayoutResult>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(
        std::async(std::launch::async, [&] { return pay("dup", "rich", "c1", 7'00); }));
  }
  for (auto& f : results) {
    const auto r = f.get();
    EXPECT_EQ(r.error, Error::kNone);
    EXPECT_EQ(r.payout.status, store::PayoutStatus::kSuccess);
  }
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w1"), 7'00);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ReadsAnswerUnavailableWhileTheStoreCannotBeReadAndRecoverAfter) {
  const PayoutResult paid = pay("r1", "rich", "c1", 3'00);
  ASSERT_EQ(paid.payout.status, store::PayoutStatus::kSuccess);
  store_->fail_reads(true);
  const PayoutResult unread = engine_->get_payout(kTenant, store::PayoutKind::kWalletPayout, "r1");
  EXPECT_EQ(unread.error, Error::kUnavailable);  // not kNotFound: the payout exists
  EXPECT_EQ(engine_->wallet_history(kTenant, "w1", nullptr, 10).error, Error::kUnavailable);
  EXPECT_EQ(engine_->wallet_history(kTenant, "w1", &paid.payout.history_id, 10).error,
            Error::kUnavailable);
  EXPECT_FALSE(engine_->find_account(kTenant, ledger::AccountKind::kFunder, "rich").ok());
  EXPECT_FALSE(engine_->accounts_of(kTenant, ledger::AccountKind::kWallet, "c1").ok());
  const std::vector<std::string> blind = audit();
  ASSERT_EQ(blind.size(), 1u);  // an audit that read nothing vouches for nothing
  EXPECT_EQ(blind[0], "the store could not be read: injected read failure");
  // Writes still go through while reads fail: a payout is accepted and paid once.
  EXPECT_EQ(pay("r2", "rich", "c1", 2'00).payout.status, store::PayoutStatus::kSuccess);
  store_->fail_reads(false);
  const PayoutResult read = engine_->get_payout(kTenant, store::PayoutKind::kWalletPayout, "r1");
  ASSERT_EQ(read.error, Error::kNone);
  EXPECT_EQ(read.payout.id, paid.payout.id);
  EXPECT_EQ(engine_->wallet_history(kTenant, "w1", nullptr, 10).entries.size(), 2u);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w1"), 5'00);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ProcessingPayoutsUnreadAtStartAreSettledByTheSweepOnceReadsReturn) {
  ASSERT_EQ(pay("late", "rich", "slow", 4'00).payout.status, store::PayoutStatus::kProcessing);
  // A restart while the store cannot be read: the payout's timer is gone, and start() cannot
  // find the payout again.
  engine_->stop();
  store_->fail_reads(true);
  engine_ = std::make_unique<PayoutEngine>(*committer_, *store_, clock_);
  engine_->start();
  const int failed_at_start = store_->failed_reads();
  EXPECT_GE(failed_at_start, 1);
  // The sweep tries on each of its ticks, and reads nothing.
  for (int i = 0; i < 300 && store_->failed_reads() < failed_at_start + 2; ++i) {
    clock_.advance(200);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(store_->failed_reads(), failed_at_start + 2);
  store_->fail_reads(false);
  for (int i = 0; i < 300 && balance(ledger::AccountKind::kWallet, "ws") != 4'00; ++i) {
    clock_.advance(200);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "ws"), 4'00);
  EXPECT_EQ(engine_->get_payout(kTenant, store::PayoutKind::kWalletPayout, "late").payout.status,
            store::PayoutStatus::kSuccess);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, ProcessingPayoutReservesThenSettles) {
  const PayoutResult r = pay("s1", "poor", "slow", 400'00);
  ASSERT_EQ(r.payout.status, store::PayoutStatus::kProcessing);
  auto funder = engine_->find_account(kTenant, ledger::AccountKind::kFunder, "poor").value();
  EXPECT_EQ(funder->available(), 600'00);
  EXPECT_EQ(funder->balance(), 1000'00);
  EXPECT_TRUE(audit().empty());
  clock_.advance(2500);
  for (int i = 0; i < 200; ++i) {
    if (engine_->get_payout(kTenant, store::PayoutKind::kWalletPayout, "s1").payout.status ==
        store::PayoutStatus::kSuccess) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(engine_->get_payout(kTenant, store::PayoutKind::kWalletPayout, "s1").payout.status,
            store::PayoutStatus::kSuccess);
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "ws"), 400'00);
  EXPECT_EQ(balance(ledger::AccountKind::kFunder, "poor"), 600'00);
  const auto page = engine_->wallet_history(kTenant, "ws", nullptr, 10);
  ASSERT_EQ(page.entries.size(), 1u);
  EXPECT_EQ(page.entries[0].status, static_cast<int>(store::PayoutStatus::kSuccess));
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, RestartResumesProcessingPayout) {
  ASSERT_EQ(pay("s1", "poor", "slow", 1'00).payout.status, store::PayoutStatus::kProcessing);
  close();
  open();
  engine_->start();
  clock_.advance(2500);
  for (int i = 0; i < 200; ++i) {
    if (balance(ledger::AccountKind::kWallet, "ws") == 1'00) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "ws"), 1'00);
  EXPECT_TRUE(audit().empty());
}

TEST_P(EngineTest, HistoryCursorFollowsCommitOrder) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 4; ++i)
    ids.push_back(pay("txn" + std::to_string(i), "rich", "c1", 1).payout.history_id);
  auto first = engine_->wallet_history(kTenant, "w1", nullptr, 50);
  ASSERT_EQ(first.entries.size(), 4u);
  const std::string cursor = first.entries.back().txn_history_id;
  EXPECT_EQ(cursor, ids[3]);
  pay("txn5", "rich", "c1", 1);
  pay("txn6", "rich", "c1", 1);
  auto second = engine_->wallet_history(kTenant, "w1", &cursor, 50);
  ASSERT_EQ(second.entries.size(), 2u);
  EXPECT_EQ(second.entries[0].domain_txn_id, "txn5");
  EXPECT_EQ(second.entries[1].domain_txn_id, "txn6");
  const std::string other = pay("x", "rich", "c2", 1).payout.history_id;
  EXPECT_EQ(engine_->wallet_history(kTenant, "w1", &other, 50).error, Error::kInvalid);
}

// Two nodes (each its own store connection, committer and engine) on one PostgreSQL database.
class TwoNodeTest : public ::testing::Test {
 protected:
  struct Node {
    Node(const TestDatabase& db, const Clock& clock, const std::string& name) {
      store = db.open();
      committer = std::make_unique<Committer>(*store, clock, CommitterOptions{});
      committer->start();
      engine =
          std::make_unique<PayoutEngine>(*committer, *store, clock, EngineOptions{.node_id = name});
    }
    ~Node() { stop(); }
    void stop() {
      if (engine) engine->stop();
      if (committer) committer->stop();
    }
    PayoutResult pay(const std::string& id, const std::string& funder, const std::string& client,
                     std::int64_t minor) {
      return pay_through(*engine, id, funder, client, minor);
    }
    std::unique_ptr<store::Store> store;
    std::unique_ptr<Committer> committer;
    std::unique_ptr<PayoutEngine> engine;
  };

  void SetUp() override {
    a_ = std::make_unique<Node>(db_, clock_, "node-a");
    ProvisionPlan plan;
    plan.funders.push_back({{kTenant, "exact", "Exact", rub()}, kAffordable * 10'00});
    plan.funders.push_back({{kTenant, "rich", "Rich", rub()}, 1'000'000'00});
    plan.clients.push_back({kTenant, "c1", "w1", rub()});
    plan.clients.push_back({kTenant, "c2", "w2", rub()});
    plan.clients.push_back({kTenant, "slow", "ws", rub(), ledger::AccountStatus::kActive, 2000});
    ASSERT_EQ(provision_if_empty(*a_->engine, nullptr, plan), "");
    b_ = std::make_unique<Node>(db_, clock_, "node-b");
    a_->engine->start();
    b_->engine->start();
  }

  std::int64_t balance(ledger::AccountKind kind, const std::string& code) {
    return a_->engine->find_account(kTenant, kind, code).value()->balance();
  }

  static constexpr int kAffordable = 40;
  ManualClock clock_;
  TestDatabase db_{Backend::kPostgres};
  std::unique_ptr<Node> a_;
  std::unique_ptr<Node> b_;
};

TEST_F(TwoNodeTest, AFunderThatAffordsNPayoutsPaysExactlyNAcrossBothNodes) {
  std::atomic<int> succeeded{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Node& node = t % 2 ? *b_ : *a_;
      for (int i = 0; i < kAffordable * 3 / 8; ++i) {
        const auto r = node.pay("n-" + std::to_string(t) + "-" + std::to_string(i), "exact",
                                i % 2 ? "c1" : "c2", 10'00);
        if (r.error != Error::kNone) ++failed;
        if (r.payout.status == store::PayoutStatus::kSuccess) ++succeeded;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(succeeded.load(), kAffordable);
  EXPECT_EQ(balance(ledger::AccountKind::kFunder, "exact"), 0);
  EXPECT_EQ(
      balance(ledger::AccountKind::kWallet, "w1") + balance(ledger::AccountKind::kWallet, "w2"),
      kAffordable * 10'00);
  EXPECT_TRUE(audit_store(*a_->store).empty());
}

TEST_F(TwoNodeTest, OneTransactionIdSentToBothNodesAtOnceMovesMoneyOnce) {
  constexpr int kIds = 30;
  std::vector<std::future<PayoutResult>> results;
  for (int i = 0; i < kIds; ++i) {
    for (Node* node : {a_.get(), b_.get()}) {
      results.push_back(std::async(std::launch::async, [node, i] {
        return node->pay("same-" + std::to_string(i), "rich", "c1", 1'00);
      }));
    }
  }
  std::map<std::string, std::int64_t> payout_of;
  for (auto& f : results) {
    const auto r = f.get();
    ASSERT_EQ(r.error, Error::kNone) << r.detail;
    EXPECT_EQ(r.payout.status, store::PayoutStatus::kSuccess);
    auto [it, inserted] = payout_of.emplace(r.payout.partner_id, r.payout.id);
    if (!inserted) {
      EXPECT_EQ(it->second, r.payout.id) << "two payouts for " << r.payout.partner_id;
    }
  }
  EXPECT_EQ(payout_of.size(), static_cast<std::size_t>(kIds));
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "w1"), kIds * 1'00);
  EXPECT_TRUE(audit_store(*a_->store).empty());
}

TEST_F(TwoNodeTest, APayoutWhoseNodeDiedIsSettledByTheOtherNodesSweep) {
  ASSERT_EQ(a_->pay("orphan", "rich", "slow", 5'00).payout.status,
            store::PayoutStatus::kProcessing);
  a_->stop();  // its timer dies with it
  // Past the due time and the sweep's grace period: node b's sweep finds it.
  for (int i = 0; i < 300; ++i) {
    clock_.advance(100);
    if (balance(ledger::AccountKind::kWallet, "ws") == 5'00) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(balance(ledger::AccountKind::kWallet, "ws"), 5'00);
  EXPECT_EQ(
      b_->engine->get_payout(kTenant, store::PayoutKind::kWalletPayout, "orphan").payout.status,
      store::PayoutStatus::kSuccess);
  EXPECT_TRUE(audit_store(*b_->store).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::engine
