// Maker-checker (admin/requests.h, admin/funding_requests.h) and the operators' hash-chained
// audit log (engine/operator_log.h), on both stores, with actors made here: the threshold, the
// requester who may not approve, approval exactly once (concurrent, and on two nodes), rejection,
// expiry, debits never below zero, and the chain's checks against altered and removed entries.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "admin/funding_requests.h"
#include "admin/requests.h"
#include "core/json.h"
#include "engine/audit.h"
#include "engine/committer.h"
#include "engine/operator_log.h"
#include "engine/operator_records.h"
#include "engine/payouts.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::admin {
namespace {

using engine::FundingDirection;
using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

const Tenant kTenant{"qiwi", "mc-product"};
constexpr std::int64_t kTtlS = 3600;

Actor finance(std::string id) {
  return {std::move(id), Roles::of(Role::kFinance), "api-key:" + id, "192.0.2.1"};
}

engine::AuditKey test_key() {
  std::array<std::uint8_t, 32> kek{};
  kek.fill(7);
  return engine::AuditKey::from_kek(kek);
}

// One node: a store, a committer, an engine, and the admin API's maker-checker on them.
struct Node {
  Node(const TestDatabase& db, const Clock& clock)
      : store(db.open()),
        committer(*store, clock, engine::CommitterOptions{}),
        engine(committer, *store, clock),
        trail(committer, test_key()),
        requests(trail, *store, clock,
                 {.approval_thresholds = {{100'000, *Currency::from_code("RUB")}},
                  .request_ttl_s = kTtlS}),
        desk(requests) {
    committer.start();
  }
  ~Node() {
    engine.stop();
    committer.stop();
  }
  std::unique_ptr<store::Store> store;
  engine::Committer committer;
  engine::PayoutEngine engine;
  AuditTrail trail;
  Requests requests;
  FundingDesk desk;
};

struct Answer {
  int status = 0;
  json::Value body;
  std::string code() const {
    const json::Value* c = body.find("errorCode");
    return c && c->is_string() ? c->as_string() : std::string();
  }
  std::string text(std::string_view key) const {
    const json::Value* v = body.find(key);
    return v && v->is_string() ? v->as_string() : std::string();
  }
};

// Runs `call` with a responder and waits for its answer.
template <typename Call>
Answer await(Call call) {
  auto promise = std::make_shared<std::promise<http::Response>>();
  auto future = promise->get_future();
  call([promise](http::Response r) { promise->set_value(std::move(r)); });
  http::Response r = future.get();
  json::ParseResult parsed = json::parse(r.body);
  return {r.status, parsed.value ? std::move(*parsed.value) : json::Value()};
}

class MakerCheckerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    node_ = std::make_unique<Node>(db_, clock_);
    auto done = std::make_shared<std::promise<engine::AdminResult>>();
    node_->engine.create_funder({kTenant, "f1", "Funder one", *Currency::from_code("RUB")},
                                [done](engine::AdminResult r) { done->set_value(std::move(r)); });
    ASSERT_EQ(done->get_future().get().error, engine::Error::kNone);
  }
  void TearDown() override { node_.reset(); }

  Answer move(FundingDirection d, const Actor& actor, const std::string& id,
              const std::string& value, Node* node = nullptr) {
    http::Request request;
    request.body = R"({"amount":{"value":")" + value + R"(","currency":"RUB"}})";
    Node& n = node ? *node : *node_;
    return await([&](http::Responder respond) {
      n.desk.move(d, request, actor, std::move(respond), kTenant, "f1", id);
    });
  }
  Answer decide(std::int64_t id, Decision decision, const Actor& actor, Node* node = nullptr) {
    Node& n = node ? *node : *node_;
    return await([&](http::Responder respond) {
      n.requests.decide(id, decision, actor, std::move(respond));
    });
  }
  std::int64_t balance() {
    auto account =
        node_->store->get_account(kTenant.key(), ledger::AccountKind::kFunder, "f1").value();
    return account ? account->balance() : -1;
  }
  std::vector<engine::OperatorEntry> entries() {
    auto page = engine::operator_log_page(*node_->store, {.limit = 200}).value();
    return page.entries;
  }
  engine::OperatorLogCheck check() { return engine::check_operator_log(*node_->store, test_key()); }
  std::int64_t pending_credit(const std::string& id, const std::string& value) {
    const Answer a = move(FundingDirection::kCredit, finance("alice"), id, value);
    EXPECT_EQ(a.status, 202);
    EXPECT_EQ(a.text("status"), "pending");
    return std::stoll(a.text("id"));
  }

  TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<Node> node_;
};

TEST_P(MakerCheckerTest, AtOrBelowTheThresholdOnePersonMovesMoneyAtOnce) {
  const Answer a = move(FundingDirection::kCredit, finance("alice"), "c1", "1000.00");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.text("status"), "SUCCESS");
  EXPECT_EQ(balance(), 100'000);
  const auto log = entries();
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].action, "funding.credit");
  EXPECT_EQ(log[0].actor, "alice");
  EXPECT_EQ(log[0].target, "qiwi:mc-product/funders/f1");
  EXPECT_EQ(log[0].outcome, "done");
  EXPECT_TRUE(check().violations.empty());
}

TEST_P(MakerCheckerTest, AboveTheThresholdARequestMovesNothingAndTheSameIdGivesItBack) {
  const std::int64_t id = pending_credit("c2", "1000.01");
  EXPECT_EQ(balance(), 0);
  const Answer again = move(FundingDirection::kCredit, finance("alice"), "c2", "1000.01");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.text("id"), std::to_string(id));
  EXPECT_EQ(again.text("requestedBy"), "alice");
  EXPECT_EQ(again.text("funder"), "f1");
  const Answer other = move(FundingDirection::kCredit, finance("alice"), "c2", "2000.00");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.code(), "id.conflict");
  // Refused before anything is made: an unknown funder.
  http::Request unknown;
  unknown.body = R"({"amount":{"value":"5000.00","currency":"RUB"}})";
  const Answer none = await([&](http::Responder respond) {
    node_->desk.move(FundingDirection::kCredit, unknown, finance("alice"), std::move(respond),
                     kTenant, "no-such", "c3");
  });
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.code(), "funder.not.found");
  EXPECT_EQ(balance(), 0);
}

TEST_P(MakerCheckerTest, TheRequesterCannotApproveASecondPersonApprovesOnce) {
  const std::int64_t id = pending_credit("c4", "5000.00");
  const Answer own = decide(id, Decision::kApprove, finance("alice"));
  EXPECT_EQ(own.status, 403);
  EXPECT_EQ(own.code(), "request.own");
  EXPECT_EQ(balance(), 0);
  const Answer approved = decide(id, Decision::kApprove, finance("bob"));
  EXPECT_EQ(approved.status, 200);
  EXPECT_EQ(approved.text("status"), "approved");
  EXPECT_EQ(approved.text("decidedBy"), "bob");
  EXPECT_EQ(balance(), 500'000);
  const Answer twice = decide(id, Decision::kApprove, finance("carol"));
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(twice.code(), "request.decided");
  EXPECT_EQ(balance(), 500'000);
  // The same id again shows the approved request; nothing moves again.
  const Answer replay = move(FundingDirection::kCredit, finance("alice"), "c4", "5000.00");
  EXPECT_EQ(replay.status, 202);
  EXPECT_EQ(replay.text("status"), "approved");
  EXPECT_EQ(balance(), 500'000);
  EXPECT_TRUE(engine::audit_store(*node_->store).empty());
  const auto log = entries();  // newest first
  ASSERT_EQ(log.size(), 2U);
  EXPECT_EQ(log[0].action, "request.approve");
  EXPECT_EQ(log[0].actor, "bob");
  EXPECT_EQ(log[1].action, "request.create");
}

TEST_P(MakerCheckerTest, ConcurrentApprovalsMoveMoneyOnce) {
  const std::int64_t id = pending_credit("c5", "7000.00");
  std::vector<std::future<Answer>> answers;
  for (int i = 0; i < 8; ++i) {
    answers.push_back(std::async(std::launch::async, [this, id, i] {
      return decide(id, Decision::kApprove, finance("approver-" + std::to_string(i)));
    }));
  }
  int approved = 0;
  for (auto& f : answers) {
    const Answer a = f.get();
    if (a.status == 200) {
      ++approved;
    } else {
      EXPECT_EQ(a.code(), "request.decided");
    }
  }
  EXPECT_EQ(approved, 1);
  EXPECT_EQ(balance(), 700'000);
  EXPECT_TRUE(engine::audit_store(*node_->store).empty());
  EXPECT_TRUE(check().violations.empty());
}

TEST_P(MakerCheckerTest, ARejectedRequestMovesNothing) {
  const std::int64_t id = pending_credit("c6", "3000.00");
  EXPECT_EQ(decide(id, Decision::kReject, finance("alice")).code(), "request.own");
  const Answer rejected = decide(id, Decision::kReject, finance("bob"));
  EXPECT_EQ(rejected.status, 200);
  EXPECT_EQ(rejected.text("status"), "rejected");
  const Answer late = decide(id, Decision::kApprove, finance("carol"));
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.code(), "request.decided");
  EXPECT_EQ(balance(), 0);
}

TEST_P(MakerCheckerTest, APendingRequestExpires) {
  const std::int64_t id = pending_credit("c7", "3000.00");
  clock_.advance(kTtlS * 1000);
  const Answer shown = await([&](http::Responder r) { node_->requests.show(id, r); });
  EXPECT_EQ(shown.text("status"), "expired");
  const Answer late = decide(id, Decision::kApprove, finance("bob"));
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.code(), "request.expired");
  EXPECT_EQ(decide(id, Decision::kApprove, finance("carol")).code(), "request.decided");
  EXPECT_EQ(balance(), 0);
  EXPECT_EQ(entries().front().action, "request.expire");
}

TEST_P(MakerCheckerTest, DebitsNeverGoBelowZero) {
  ASSERT_EQ(move(FundingDirection::kCredit, finance("alice"), "c8", "600.00").status, 200);
  const Answer over = move(FundingDirection::kDebit, finance("alice"), "d1", "600.01");
  EXPECT_EQ(over.status, 422);
  EXPECT_EQ(over.code(), "funder.insufficient.funds");
  EXPECT_EQ(balance(), 60'000);
  const Answer debit = move(FundingDirection::kDebit, finance("alice"), "d1", "250.00");
  EXPECT_EQ(debit.status, 200);
  EXPECT_EQ(balance(), 35'000);
  // Above the threshold the check is made again on approval: the money may have left meanwhile.
  ASSERT_EQ(move(FundingDirection::kCredit, finance("alice"), "c9", "1000.00").status, 200);
  const Answer big = move(FundingDirection::kDebit, finance("alice"), "d2", "1300.00");
  ASSERT_EQ(big.status, 202);
  ASSERT_EQ(move(FundingDirection::kDebit, finance("alice"), "d3", "500.00").status, 200);
  const Answer refused = decide(std::stoll(big.text("id")), Decision::kApprove, finance("bob"));
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.code(), "funder.insufficient.funds");
  EXPECT_EQ(balance(), 85'000);
  EXPECT_TRUE(engine::audit_store(*node_->store).empty());
}

TEST_P(MakerCheckerTest, TheChainShowsAlteredAndRemovedEntries) {
  for (int i = 0; i < 5; ++i) {
    move(FundingDirection::kCredit, finance("alice"), "e" + std::to_string(i), "10.00");
  }
  ASSERT_TRUE(check().violations.empty());
  ASSERT_EQ(check().entries, 5);
  const std::string where = "WHERE kind = 'operator-audit' AND key = ";
  const std::string second = "'" + engine::operator_entry_key(2) + "'";
  db_.execute("UPDATE records SET value = replace(value, 'alice', 'mallory') " + where + second);
  auto c = check();
  ASSERT_EQ(c.violations.size(), 1U);
  EXPECT_NE(c.violations[0].find("entry 2 altered"), std::string::npos) << c.violations[0];

  // A forger without the key recomputes the hash unkeyed: still not the MAC.
  const auto stored =
      node_->store->get_record("", engine::kOperatorAuditEntry, engine::operator_entry_key(2));
  auto forged = engine::parse_operator_entry(*stored.value());
  forged->hash = engine::operator_entry_hash(engine::AuditKey{}, *forged);
  db_.execute("UPDATE records SET value = '" + engine::operator_entry_json(*forged) + "' " + where +
              second);
  c = check();
  EXPECT_NE(c.violations[0].find("entry 2 altered"), std::string::npos);

  db_.execute("DELETE FROM records " + where + "'" + engine::operator_entry_key(3) + "'");
  c = check();
  EXPECT_NE(std::find_if(c.violations.begin(), c.violations.end(),
                         [](const std::string& v) { return v.find("entry 3 removed") != v.npos; }),
            c.violations.end());

  db_.execute("DELETE FROM records " + where + "'" + engine::operator_entry_key(5) + "'");
  c = check();
  EXPECT_NE(std::find_if(c.violations.begin(), c.violations.end(),
                         [](const std::string& v) {
                           return v.find("entry 5 removed (the head names it)") != v.npos;
                         }),
            c.violations.end());
}

INSTANTIATE_TEST_SUITE_P(Stores, MakerCheckerTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

// Two nodes on one PostgreSQL database: approvals of one request at once on both move its money
// once, and entries appended at once on both make one contiguous chain.
class TwoNodesTest : public ::testing::Test {
 protected:
  TestDatabase db_{Backend::kPostgres};
  ManualClock clock_;
};

TEST_F(TwoNodesTest, ApprovalsOnTwoNodesMoveMoneyOnceAndTheChainStaysWhole) {
  Node a(db_, clock_);
  Node b(db_, clock_);
  auto created = std::make_shared<std::promise<engine::AdminResult>>();
  a.engine.create_funder({kTenant, "f1", "Funder one", *Currency::from_code("RUB")},
                         [created](engine::AdminResult r) { created->set_value(std::move(r)); });
  ASSERT_EQ(created->get_future().get().error, engine::Error::kNone);
  for (int round = 0; round < 5; ++round) {
    http::Request request;
    request.body = R"({"amount":{"value":"2000.00","currency":"RUB"}})";
    const Answer made = await([&](http::Responder respond) {
      a.desk.move(FundingDirection::kCredit, request, finance("alice"), std::move(respond), kTenant,
                  "f1", "two-" + std::to_string(round));
    });
    ASSERT_EQ(made.status, 202);
    const std::int64_t id = std::stoll(made.text("id"));
    std::vector<std::future<Answer>> answers;
    for (int i = 0; i < 6; ++i) {
      Node& node = i % 2 == 0 ? a : b;
      answers.push_back(std::async(std::launch::async, [&node, id, i] {
        return await([&](http::Responder respond) {
          node.requests.decide(id, Decision::kApprove, finance("checker-" + std::to_string(i)),
                               std::move(respond));
        });
      }));
    }
    int approved = 0;
    for (auto& f : answers) approved += f.get().status == 200 ? 1 : 0;
    EXPECT_EQ(approved, 1) << "round " << round;
  }
  const auto funder = a.store->get_account(kTenant.key(), ledger::AccountKind::kFunder, "f1");
  EXPECT_EQ(funder.value()->balance(), 5 * 200'000);
  EXPECT_TRUE(engine::audit_store(*a.store).empty());

  std::vector<std::future<std::int64_t>> appended;
  for (int i = 0; i < 40; ++i) {
    Node& node = i % 2 == 0 ? a : b;
    auto done = std::make_shared<std::promise<std::int64_t>>();
    appended.push_back(done->get_future());
    node.trail.record(finance("signer"), {"console.sign-in", "staff:signer", "done", {}},
                      [done](std::int64_t seq) { done->set_value(seq); });
  }
  for (auto& f : appended) EXPECT_GT(f.get(), 0);
  const auto c = engine::check_operator_log(*a.store, test_key());
  EXPECT_TRUE(c.violations.empty()) << c.violations.front();
  EXPECT_EQ(c.entries, 5 * 2 + 40);
  EXPECT_EQ(c.head_seq, c.entries);
}

}  // namespace
}  // namespace payoutd::admin
