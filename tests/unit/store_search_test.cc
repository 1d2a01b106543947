// The operators' reads of the store (store.h: Store::search_payouts and the attention's), on both
// backends: every key, every filter, the cursor, and the bound on what a search without a key
// examines.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "store/store.h"
#include "test_databases.h"

namespace payoutd {
namespace {

using store::OutboxLane;
using store::OutboxMessage;
using store::OutboxState;
using store::PayoutKind;
using store::PayoutRecord;
using store::PayoutSearch;
using store::PayoutStatus;
using testing::Backend;
using testing::TestDatabase;

constexpr const char* kCards = "bereke:partner";
constexpr const char* kOtherCards = "ecommpay:1";
constexpr const char* kWallets = "qiwi:product";

PayoutRecord payout(std::string tenant, PayoutKind kind, std::string partner_id,
                    std::int64_t created_ms) {
  PayoutRecord p;
  p.tenant = std::move(tenant);
  p.kind = kind;
  p.partner_id = std::move(partner_id);
  p.fingerprint = "f";
  p.status = PayoutStatus::kSuccess;
  p.source_account_id = 1;
  p.destination_account_id = 2;
  p.amount = 1000;
  p.currency = *Currency::from_code(kind == PayoutKind::kCardPayout ? "KZT" : "RUB");
  p.created_ms = p.updated_ms = created_ms;
  return p;
}

std::string order(std::string_view masked) {
  return R"({"order_id":"o","stage":"final","masked_pan":")" + std::string(masked) + R"("})";
}

class StoreSearchTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Card payouts c0..c5 (c0, c2, c4 of kCards to 411111...1111; c1, c3 of kOtherCards, c1 to the
  // same card, c3 to 555555...4444; c5 of kOtherCards not yet with a card), wallet payouts w0..w3
  // of kWallets, a funder credit (never listed); created 1000 ms apart in that order.
  void SetUp() override {
    auto txn = store_->begin();
    txn->prepare({});
    std::int64_t at = 1000;
    for (int i = 0; i < 6; ++i) {
      const std::string tenant = i % 2 == 0 ? kCards : kOtherCards;
      const std::string id = "c" + std::to_string(i);
      PayoutRecord p = payout(tenant, PayoutKind::kCardPayout, id, at += 1000);
      p.amount = 1000 * (i + 1);
      if (i == 4) p.status = PayoutStatus::kDeclined;
      if (i == 2) {
        p.status = PayoutStatus::kProcessing;
        p.pending_transfer_id = 7;
      }
      ids_[id] = txn->insert_payout(p);
      if (i < 5) {
        txn->insert_record(tenant, store::kCardOrderRecordKind, id,
                           order(i == 3 ? "555555XXXXXX4444" : "411111XXXXXX1111"));
      }
    }
    for (int i = 0; i < 4; ++i) {
      const std::string id = "w" + std::to_string(i);
      ids_[id] = txn->insert_payout(payout(kWallets, PayoutKind::kWalletPayout, id, at += 1000));
    }
    txn->insert_payout(payout(kWallets, PayoutKind::kFunderCredit, "credit", at += 1000));
    ASSERT_TRUE(txn->commit().ok);
  }

  std::vector<std::string> found(PayoutSearch q) {
    last_ = store_->search_payouts(q).value();
    std::vector<std::string> out;
    for (const PayoutRecord& p : last_.payouts) out.push_back(p.partner_id);
    return out;
  }

  using Ids = std::vector<std::string>;
  TestDatabase db_{GetParam()};
  std::unique_ptr<store::Store> store_ = db_.open();
  std::map<std::string, std::int64_t> ids_;
  store::PayoutSearchPage last_;
};

TEST_P(StoreSearchTest, KeysFindPayoutsOfEveryTenant) {
  EXPECT_EQ(found({.card = "4111111111"}), (Ids{"c4", "c2", "c1", "c0"}));
  EXPECT_EQ(found({.card = "5555554444"}), (Ids{"c3"}));
  EXPECT_EQ(found({.card = "4111111112"}), (Ids{}));
  EXPECT_EQ(found({.tenant = kOtherCards, .card = "4111111111"}), (Ids{"c1"}));
  EXPECT_EQ(found({.partner_id = "w2"}), (Ids{"w2"}));
  EXPECT_EQ(found({.partner_id = "credit"}), (Ids{}));  // not a payout
  EXPECT_EQ(found({.payout_id = ids_["c3"]}), (Ids{"c3"}));
  EXPECT_EQ(found({.payout_id = ids_["c3"], .status = PayoutStatus::kDeclined}), (Ids{}));
  EXPECT_EQ(last_.next_id, 0);
}

TEST_P(StoreSearchTest, FiltersNarrowAndTheCursorPages) {
  EXPECT_EQ(found({.status = PayoutStatus::kDeclined}), (Ids{"c4"}));
  EXPECT_EQ(found({.currency = "RUB", .limit = 2}), (Ids{"w3", "w2"}));
  EXPECT_EQ(found({.currency = "RUB",
                   .before_created_ms = last_.next_created_ms,
                   .before_id = last_.next_id,
                   .limit = 2}),
            (Ids{"w1", "w0"}));
  EXPECT_EQ(found({.created_from_ms = 3000, .created_to_ms = 5000}), (Ids{"c2", "c1"}));
  EXPECT_EQ(found({.amount_min = 2000, .amount_max = 3000}), (Ids{"c2", "c1"}));
  EXPECT_EQ(found({.tenant = kCards}), (Ids{"c4", "c2", "c0"}));
  EXPECT_EQ(found({.tenant = kOtherCards}), (Ids{"c5", "c3", "c1"}));
  EXPECT_EQ(found({.card = "4111111111", .limit = 3}), (Ids{"c4", "c2", "c1"}));
  EXPECT_EQ(found({.card = "4111111111",
                   .before_created_ms = last_.next_created_ms,
                   .before_id = last_.next_id,
                   .limit = 3}),
            (Ids{"c0"}));
}

// Without a key, a page examines at most scan_max payouts: one that matches none of them says
// where to go on, and the walk still finds every match once.
TEST_P(StoreSearchTest, ASearchWithoutAKeyExaminesABoundedWindow) {
  PayoutSearch q{.status = PayoutStatus::kDeclined, .limit = 5, .scan_max = 3};
  EXPECT_EQ(found(q), (Ids{}));  // w3, w2, w1
  EXPECT_EQ(last_.next_id, ids_["w1"]);
  Ids all;
  for (int pages = 0; pages < 10 && last_.next_id != 0; ++pages) {
    q.before_created_ms = last_.next_created_ms;
    q.before_id = last_.next_id;
    for (const std::string& id : found(q)) all.push_back(id);
  }
  EXPECT_EQ(all, (Ids{"c4"}));
  EXPECT_EQ(last_.next_id, 0);
  EXPECT_EQ(found({.tenant = kWallets, .status = PayoutStatus::kDeclined, .scan_max = 2}), (Ids{}));
  EXPECT_EQ(last_.next_id, ids_["w2"]);
}

TEST_P(StoreSearchTest, AttentionReadsWhatWaits) {
  const auto unsettled = store_->unsettled_card_payouts(100'000, 10).value();
  ASSERT_EQ(unsettled.size(), 1u);
  EXPECT_EQ(unsettled[0].partner_id, "c2");
  EXPECT_TRUE(store_->unsettled_card_payouts(3000, 10).value().empty());  // created at 4000

  auto txn = store_->begin();
  txn->prepare({});
  auto message = [&](std::string event, std::string target, OutboxState state, int attempts) {
    OutboxMessage m{.tenant = kCards,
                    .event_id = std::move(event),
                    .target = std::move(target),
                    .body = "{}",
                    .state = state,
                    .attempts = attempts,
                    .created_ms = 1000,
                    .updated_ms = 1000 + attempts};
    m.sealed = store::to_a_person(m.target);
    return txn->insert_outbox(m);
  };
  const auto failing = message("failing", "https://partner.test/cb", OutboxState::kPending, 2);
  message("fresh", "https://partner.test/cb", OutboxState::kPending, 0);
  const auto abandoned = message("gone", "https://partner.test/cb", OutboxState::kAbandoned, 9);
  message("done", "https://partner.test/cb", OutboxState::kDelivered, 1);
  message("sms", "sms:+77010000000", OutboxState::kPending, 3);
  ASSERT_TRUE(txn->commit().ok);

  const auto callbacks = store_->failing_callbacks(10).value();
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(callbacks[0].id, abandoned);  // the latest changed first
  EXPECT_EQ(callbacks[1].id, failing);
  EXPECT_EQ(store_->failing_callbacks(1).value().size(), 1u);
  const auto queues = store_->outbox_queues(10).value();
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_EQ((std::tuple{queues[0].tenant, queues[0].lane, queues[0].pending, queues[0].failing}),
            (std::tuple{std::string(kCards), OutboxLane::kHttp, std::int64_t{2}, std::int64_t{1}}));
  EXPECT_EQ(queues[1].lane, OutboxLane::kSms);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSearchTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd
