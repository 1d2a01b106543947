// The store interface's contract, run against both backends: what one backend does, the other
// must do too. Everything goes through store::Store and store::WriteTxn only.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "core/ids.h"
#include "store/store.h"
#include "test_databases.h"

namespace payoutd::store {
namespace {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferKind;
using testing::Backend;
using testing::TestDatabase;

constexpr const char* kTenant = "qiwi:store-test";
constexpr int kNewestSchema = 10;

Currency rub() { return *Currency::from_code("RUB"); }

Account account_spec(AccountKind kind, std::string code, std::string owner) {
  Account a;
  a.tenant = kTenant;
  a.kind = kind;
  a.code = std::move(code);
  a.owner = std::move(owner);
  a.currency = rub();
  a.created_ms = 1000;
  return a;
}

PayoutRecord payout_spec(std::string partner_id, std::int64_t from, std::int64_t to) {
  PayoutRecord p;
  p.tenant = kTenant;
  p.kind = PayoutKind::kWalletPayout;
  p.partner_id = std::move(partner_id);
  p.fingerprint = "f:" + p.partner_id;
  p.status = PayoutStatus::kSuccess;
  p.source_account_id = from;
  p.destination_account_id = to;
  p.amount = 100;
  p.currency = rub();
  p.source_ref = "funder";
  p.destination_ref = "client";
  p.created_ms = p.updated_ms = 2000;
  return p;
}

Transfer transfer_spec(std::int64_t from, std::int64_t to, TransferKind kind,
                       std::int64_t pending_id = 0) {
  Transfer t;
  t.debit_account_id = from;
  t.credit_account_id = to;
  t.amount = 100;
  t.currency = rub();
  t.kind = kind;
  t.pending_id = pending_id;
  t.timestamp_ms = 3000;
  t.reference = "test";
  return t;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Runs `f` in one transaction of `store` (prepared with `footprint`) and commits it; the
  // status of the commit, or of the failure the transaction threw (as the committer takes it).
  template <typename F>
  Status in_txn(Store& store, F f, const Footprint& footprint = {}) {
    try {
      auto txn = store.begin();
      txn->prepare(footprint);
      f(*txn);
      return txn->commit();
    } catch (const TxnFailed& e) {
      return e.status();
    }
  }
  template <typename F>
  Status in_txn(F f, const Footprint& footprint = {}) {
    return in_txn(*store_, f, footprint);
  }

  // A funder with 1000 and a wallet; their ids.
  std::pair<std::int64_t, std::int64_t> funder_and_wallet() {
    std::int64_t funder = 0;
    std::int64_t wallet = 0;
    EXPECT_TRUE(in_txn([&](WriteTxn& txn) {
                  Account* f = txn.insert_account(account_spec(AccountKind::kFunder, "f", "F"));
                  f->credits_posted = 1000;
                  Account* outside =
                      txn.insert_account(account_spec(AccountKind::kSystem, "x", "x"));
                  outside->floor = ledger::BalanceFloor::kNone;
                  outside->debits_posted = 1000;
                  wallet =
                      txn.insert_account(account_spec(AccountKind::kWallet, "w", "client"))->id;
                  funder = f->id;
                }).ok);
    return {funder, wallet};
  }

  // What the database knows about its tables when it plans the lookups (see Plans, below).
  enum class Statistics : std::uint8_t { kNone, kOfEmptyTables };
  void check_lookups_stay_probes(Statistics statistics);

  TestDatabase db_{GetParam()};
  std::unique_ptr<Store> store_ = db_.open();
};

TEST_P(StoreTest, NewDatabaseIsAtTheNewestSchema) {
  EXPECT_EQ(store_->schema_version(), kNewestSchema);
  EXPECT_EQ(store_->stored_schema_version().value(), kNewestSchema);  // read from the database
  store_.reset();
  EXPECT_EQ(db_.open()->schema_version(), kNewestSchema);  // reopening migrates nothing
}

TEST_P(StoreTest, UpgradeFromVersionOneKeepsEverything) {
  store_.reset();
  const TestDatabase old_db(GetParam());
  std::int64_t funder = 0;
  {
    auto v1 = old_db.open(1);
    ASSERT_EQ(v1->schema_version(), 1);
    ASSERT_TRUE(in_txn(*v1, [&](WriteTxn& txn) {
                  funder = txn.insert_account(account_spec(AccountKind::kFunder, "f", "F"))->id;
                  const std::int64_t w =
                      txn.insert_account(account_spec(AccountKind::kWallet, "w", "c"))->id;
                  txn.insert_payout(payout_spec("old-1", funder, w));
                  txn.set_meta("provisioned", "1");
                }).ok);
  }
  auto upgraded = old_db.open();
  EXPECT_EQ(upgraded->schema_version(), kNewestSchema);
  ASSERT_TRUE(
      upgraded->get_payout(kTenant, PayoutKind::kWalletPayout, "old-1").value().has_value());
  EXPECT_EQ(upgraded->get_account(kTenant, AccountKind::kFunder, "f").value()->id, funder);
  bool held = false;
  ASSERT_TRUE(in_txn(*upgraded, [&](WriteTxn& txn) {
                EXPECT_EQ(txn.get_meta("provisioned"), "1");
                held = txn.claim_lease("l", "me", 0, 1000);  // a table of version 2
              }).ok);
  EXPECT_TRUE(held);
}

// Version 6 links outbox messages to their payouts by id; what version 5 wrote gets its payout
// from the event id's exact form only, and messages to persons already sent lose their body.
TEST_P(StoreTest, UpgradeToVersionSixLinksMessagesToTheirPayoutsExactly) {
  store_.reset();
  const TestDatabase old_db(GetParam());
  std::int64_t card = 0, lookalike = 0;
  {
    auto v5 = old_db.open(5);
    ASSERT_TRUE(in_txn(*v5, [&](WriteTxn& txn) {
                  const std::int64_t f =
                      txn.insert_account(account_spec(AccountKind::kFunder, "f", "F"))->id;
                  const std::int64_t w =
                      txn.insert_account(account_spec(AccountKind::kWallet, "w", "c"))->id;
                  PayoutRecord p = payout_spec("order_1", f, w);
                  p.kind = PayoutKind::kCardPayout;
                  card = txn.insert_payout(p);
                  p.partner_id =
                      "card-enrolment";  // an orderNumber that looks like another event's prefix
                  lookalike = txn.insert_payout(p);
                }).ok);
  }
  const std::string t = std::string("'") + kTenant + "'";
  old_db.execute(
      "INSERT INTO outbox (id, tenant, event_id, target, body, state, attempts, next_attempt_ms, "
      "created_ms, "
      "updated_ms, last_result) VALUES "
      "(900001, " +
      t +
      ", 'order_1:registration', 'http://x/cb', '{}', 1, 1, 0, 1, 1, 'HTTP 200'), "
      "(900002, " +
      t +
      ", 'order_1:code:1', 'mailto:a@b.c', 'code 123456', 1, 1, 0, 1, 1, 'accepted'), "
      "(900003, " +
      t +
      ", 'order_1:code:2', 'mailto:a@b.c', 'code 654321', 0, 0, 0, 1, 1, ''), "
      "(900004, " +
      t +
      ", 'card-enrolment:e1:code', 'sms:+77011234567', 'code 111111', 0, 0, 0, 1, 1, ''), "
      "(900005, " +
      t + ", 'orderx1:result', 'http://x/cb', '{}', 0, 0, 0, 1, 1, '')");
  auto upgraded = old_db.open();
  ASSERT_EQ(upgraded->schema_version(), kNewestSchema);
  std::vector<std::string> mine;
  for (const OutboxMessage& m : upgraded->payout_messages(card, 10).value())
    mine.push_back(m.event_id + " " + m.body);
  EXPECT_EQ(mine, (std::vector<std::string>{"order_1:registration {}", "order_1:code:1 ",
                                            "order_1:code:2 code 654321"}));
  EXPECT_TRUE(
      upgraded->payout_messages(lookalike, 10).value().empty());  // never the enrolment's SMS
  EXPECT_TRUE(upgraded->payout_messages(0, 10).value().empty());
}

TEST_P(StoreTest, RefusesADatabaseNewerThanItself) {
  store_.reset();
  db_.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  EXPECT_THROW(db_.open(), std::runtime_error);
}

TEST_P(StoreTest, AccountsAreFoundByCodeOwnerAndIdAndKeepTheirCounters) {
  const auto [funder, wallet] = funder_and_wallet();
  ASSERT_NE(funder, wallet);
  const auto f = store_->get_account(kTenant, AccountKind::kFunder, "f").value();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->credits_posted, 1000);
  EXPECT_EQ(f->owner, "F");
  EXPECT_FALSE(store_->get_account(kTenant, AccountKind::kWallet, "f").value().has_value());
  const auto wallets =
      store_->get_accounts_by_owner(kTenant, AccountKind::kWallet, "client").value();
  ASSERT_EQ(wallets.size(), 1u);
  EXPECT_EQ(wallets[0].id, wallet);

  Footprint declared;
  declared.accounts.push_back({kTenant, AccountKind::kFunder, "f"});
  declared.account_owners.push_back({kTenant, AccountKind::kWallet, "client"});
  ASSERT_TRUE(in_txn(
                  [&](WriteTxn& txn) {
                    Account* a = txn.find_account(kTenant, AccountKind::kFunder, "f");
                    ASSERT_NE(a, nullptr);
                    EXPECT_EQ(a, txn.account(funder));  // one object per account per batch
                    a->debits_posted += 300;
                    auto owned =
                        txn.find_accounts_by_owner(kTenant, AccountKind::kWallet, "client");
                    ASSERT_EQ(owned.size(), 1u);
                    owned[0]->credits_posted += 300;
                    owned[0]->history_seq = 7;
                    EXPECT_EQ(txn.find_account(kTenant, AccountKind::kFunder, "nobody"), nullptr);
                    EXPECT_EQ(txn.account(999'999), nullptr);
                  },
                  declared)
                  .ok);
  EXPECT_EQ(store_->get_account(kTenant, AccountKind::kFunder, "f").value()->balance(), 700);
  const auto w = store_->get_account(kTenant, AccountKind::kWallet, "w").value();
  EXPECT_EQ(w->balance(), 300);
  EXPECT_EQ(w->history_seq, 7);
}

TEST_P(StoreTest, UndeclaredAccessWorksLikeDeclared) {
  const auto [funder, wallet] = funder_and_wallet();
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                txn.account(wallet)->credits_posted += 5;
                txn.find_account(kTenant, AccountKind::kFunder, "f")->debits_posted += 5;
                EXPECT_EQ(
                    txn.find_accounts_by_owner(kTenant, AccountKind::kWallet, "client").size(), 1u);
              }).ok);
  EXPECT_EQ(store_->get_account(kTenant, AccountKind::kWallet, "w").value()->balance(), 5);
  EXPECT_EQ(store_->get_account(kTenant, AccountKind::kFunder, "f").value()->balance(), 995);
}

TEST_P(StoreTest, AnUncommittedTransactionLeavesNothing) {
  funder_and_wallet();
  {
    auto txn = store_->begin();
    txn->prepare({});
    txn->find_account(kTenant, AccountKind::kFunder, "f")->debits_posted = 1000;
    txn->insert_account(account_spec(AccountKind::kWallet, "w2", "other"));
    txn->set_meta("k", "v");
  }  // destroyed without commit
  EXPECT_EQ(store_->get_account(kTenant, AccountKind::kFunder, "f").value()->balance(), 1000);
  EXPECT_FALSE(store_->get_account(kTenant, AccountKind::kWallet, "w2").value().has_value());
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) { EXPECT_FALSE(txn.get_meta("k").has_value()); }).ok);
}

TEST_P(StoreTest, AFailedStatementFailsTheWholeCommit) {
  funder_and_wallet();
  const Status status = in_txn([&](WriteTxn& txn) {
    txn.find_account(kTenant, AccountKind::kFunder, "f")->debits_posted = 1;
    txn.set_meta("k", "v");
    txn.insert_account(account_spec(AccountKind::kFunder, "f", "again"));  // code taken
  });
  EXPECT_FALSE(status.ok);
  EXPECT_FALSE(status.message.empty());
  EXPECT_EQ(store_->get_account(kTenant, AccountKind::kFunder, "f").value()->debits_posted, 0);
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) { EXPECT_FALSE(txn.get_meta("k").has_value()); }).ok);
}

TEST_P(StoreTest, APartnerIdIsClaimedOnce) {
  const auto [funder, wallet] = funder_and_wallet();
  Footprint declared;
  declared.payouts.push_back({kTenant, PayoutKind::kWalletPayout, "p1"});
  std::int64_t id = 0;
  ASSERT_TRUE(in_txn(
                  [&](WriteTxn& txn) {
                    EXPECT_FALSE(txn.find_payout(kTenant, PayoutKind::kWalletPayout, "p1"));
                    id = txn.insert_payout_if_new(payout_spec("p1", funder, wallet));
                    EXPECT_GT(id, 0);
                    // Seen by the rest of the batch at once.
                    EXPECT_EQ(txn.insert_payout_if_new(payout_spec("p1", funder, wallet)), 0);
                    EXPECT_EQ(txn.find_payout(kTenant, PayoutKind::kWalletPayout, "p1")->id, id);
                    EXPECT_EQ(txn.find_payout_by_id(id)->partner_id, "p1");
                  },
                  declared)
                  .ok);
  ASSERT_TRUE(in_txn(
                  [&](WriteTxn& txn) {
                    EXPECT_EQ(txn.insert_payout_if_new(payout_spec("p1", funder, wallet)), 0);
                    // Another kind or tenant is another id.
                    PayoutRecord credit = payout_spec("p1", funder, wallet);
                    credit.kind = PayoutKind::kFunderCredit;
                    EXPECT_GT(txn.insert_payout_if_new(credit), 0);
                  },
                  declared)
                  .ok);
  const auto stored = store_->get_payout(kTenant, PayoutKind::kWalletPayout, "p1").value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->id, id);
  EXPECT_EQ(stored->fingerprint, "f:p1");
  EXPECT_EQ(stored->amount, 100);
  EXPECT_FALSE(store_->get_payout(kTenant, PayoutKind::kWalletPayout, "p2").value().has_value());
}

TEST_P(StoreTest, PayoutUpdatesAndProcessingQueue) {
  const auto [funder, wallet] = funder_and_wallet();
  std::vector<std::int64_t> ids;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                for (int i = 0; i < 4; ++i) {
                  PayoutRecord p = payout_spec("q" + std::to_string(i), funder, wallet);
                  p.status = PayoutStatus::kProcessing;
                  p.due_ms = 10'000 - i * 1000;  // q3 is due first
                  ids.push_back(txn.insert_payout(p));
                }
                // Changed in the batch that inserted it: the row carries the change.
                PayoutRecord p = *txn.find_payout_by_id(ids[0]);
                p.pending_transfer_id = 42;
                txn.update_payout(p);
              }).ok);
  EXPECT_EQ(
      store_->get_payout(kTenant, PayoutKind::kWalletPayout, "q0").value()->pending_transfer_id,
      42);
  const auto due = store_->processing_payouts(9'500, 10).value();
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].partner_id, "q3");
  EXPECT_EQ(due[2].partner_id, "q1");
  EXPECT_EQ(store_->processing_payouts(100'000, 2).value().size(), 2u);

  Footprint declared;
  declared.payout_ids.push_back(ids[1]);
  ASSERT_TRUE(in_txn(
                  [&](WriteTxn& txn) {
                    PayoutRecord p = *txn.find_payout_by_id(ids[1]);
                    p.status = PayoutStatus::kDeclined;
                    p.decline_code = "NOPE";
                    p.updated_ms = 5000;
                    txn.update_payout(p);
                  },
                  declared)
                  .ok);
  const auto q1 = store_->get_payout(kTenant, PayoutKind::kWalletPayout, "q1").value();
  EXPECT_EQ(q1->status, PayoutStatus::kDeclined);
  EXPECT_EQ(q1->decline_code, "NOPE");
  EXPECT_EQ(q1->updated_ms, 5000);
  EXPECT_EQ(store_->processing_payouts(100'000, 10).value().size(), 3u);
}

TEST_P(StoreTest, ATenantsPayoutsArePagedNewestFirstWithFilters) {
  const auto [funder, wallet] = funder_and_wallet();
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                for (int i = 0; i < 7; ++i) {
                  PayoutRecord p = payout_spec("t" + std::to_string(i), funder, wallet);
                  p.amount = 100 * (i + 1);
                  p.created_ms = 1000 * (i + 1);
                  p.status = i % 3 == 0 ? PayoutStatus::kDeclined : PayoutStatus::kSuccess;
                  txn.insert_payout(p);
                }
                PayoutRecord other = payout_spec("t0", funder, wallet);
                other.tenant = "someone-else";
                txn.insert_payout(other);
                PayoutRecord credit = payout_spec("credit", wallet, funder);  // not a payout
                credit.kind = PayoutKind::kFunderCredit;
                txn.insert_payout(credit);
              }).ok);
  auto ids = [](const std::vector<PayoutRecord>& page) {
    std::vector<std::string> out;
    for (const auto& p : page) out.push_back(p.partner_id);
    return out;
  };
  PayoutQuery q{.tenant = std::string(kTenant), .limit = 3};
  const auto first = store_->payouts_page(q).value();
  EXPECT_EQ(ids(first), (std::vector<std::string>{"t6", "t5", "t4"}));
  // A payout arriving now does not move the next page.
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                PayoutRecord p = payout_spec("t7", funder, wallet);
                p.amount = 800;
                p.created_ms = 8000;
                txn.insert_payout(p);
              }).ok);
  q.before_id = first.back().id;
  EXPECT_EQ(ids(store_->payouts_page(q).value()), (std::vector<std::string>{"t3", "t2", "t1"}));
  q = {.tenant = std::string(kTenant), .status = PayoutStatus::kDeclined};
  EXPECT_EQ(ids(store_->payouts_page(q).value()), (std::vector<std::string>{"t6", "t3", "t0"}));
  q = {.tenant = std::string(kTenant), .created_from_ms = 2000, .created_to_ms = 4000};
  EXPECT_EQ(ids(store_->payouts_page(q).value()), (std::vector<std::string>{"t2", "t1"}));
  q = {.tenant = std::string(kTenant), .amount_min = 300, .amount_max = 500};
  EXPECT_EQ(ids(store_->payouts_page(q).value()), (std::vector<std::string>{"t4", "t3", "t2"}));
  q = {.tenant = std::string(kTenant), .partner_id = "t0"};
  const auto one = store_->payouts_page(q).value();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].tenant, kTenant);  // never another tenant's
  EXPECT_TRUE(store_->payouts_page({.tenant = "nobody"}).value().empty());
  // By day (t0..t6 were made at 1 s to 7 s, t7 at 8 s, all on the first day of 1970).
  const auto days = store_->payout_days(kTenant, 0, 86'400'000).value();
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].status, PayoutStatus::kSuccess);
  EXPECT_EQ(days[0].count, 5);  // t1 t2 t4 t5 t7
  EXPECT_EQ(days[0].amount, 200 + 300 + 500 + 600 + 800);
  EXPECT_EQ(days[1].status, PayoutStatus::kDeclined);
  EXPECT_EQ(days[1].count, 3);
  EXPECT_EQ(days[1].currency, "RUB");
  EXPECT_TRUE(store_->payout_days(kTenant, 8000, 86'400'000).value().size() == 1);  // t7 alone
  // Every funder account of the tenant.
  const auto accounts = store_->tenant_accounts(kTenant, AccountKind::kFunder).value();
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_EQ(accounts[0].id, funder);
  EXPECT_TRUE(store_->tenant_accounts("nobody", AccountKind::kFunder).value().empty());
}

TEST_P(StoreTest, TransfersAreRecordedAndAReservationResolvesOnce) {
  const auto [funder, wallet] = funder_and_wallet();
  std::int64_t pending = 0;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                pending =
                    txn.insert_transfer(transfer_spec(funder, wallet, TransferKind::kPending));
                const auto t = txn.find_transfer(pending);
                ASSERT_TRUE(t.has_value());
                EXPECT_EQ(t->kind, TransferKind::kPending);
              }).ok);
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                const auto t = txn.find_transfer(pending);
                ASSERT_TRUE(t.has_value());
                EXPECT_EQ(t->amount, 100);
                EXPECT_EQ(t->reference, "test");
                EXPECT_FALSE(txn.find_transfer(pending + 12345).has_value());
                txn.insert_transfer(transfer_spec(funder, wallet, TransferKind::kPost, pending));
              }).ok);
  // A second resolution of the same reservation is refused by the store itself.
  EXPECT_FALSE(in_txn([&](WriteTxn& txn) {
                 txn.insert_transfer(transfer_spec(funder, wallet, TransferKind::kVoid, pending));
               }).ok);
  const AuditSnapshot snap = store_->snapshot().value();
  ASSERT_EQ(snap.transfers.size(), 2u);
  for (const Transfer& t : snap.transfers) {
    EXPECT_EQ(t.pending_id, t.kind == TransferKind::kPost ? pending : 0) << t.id;
  }
}

TEST_P(StoreTest, HistoryMergesTableEntriesAndPayoutsInSequence) {
  const auto [funder, wallet] = funder_and_wallet();
  std::vector<std::string> ids;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                for (std::int64_t seq = 1; seq <= 5; ++seq) {
                  const std::string id = new_history_uuid(wallet, seq);
                  ids.push_back(id);
                  if (seq % 2) {  // odd: a wallet payout, its own entry
                    PayoutRecord p = payout_spec("h" + std::to_string(seq), funder, wallet);
                    p.history_account_id = wallet;
                    p.history_seq = seq;
                    p.history_id = id;
                    txn.insert_payout(p);
                  } else {
                    HistoryRecord h;
                    h.account_id = wallet;
                    h.seq = seq;
                    h.txn_history_id = id;
                    h.type_id = 4;
                    h.domain_txn_id = "op" + std::to_string(seq);
                    h.amount = 7;
                    h.currency = rub();
                    h.details.kind = store::HistoryDetails::Kind::kTransfer;
                    h.details.other_client_id = "z \" \\ q";
                    h.details.other_account_id = "acc";
                    txn.insert_history(h);
                  }
                }
              }).ok);
  const auto page = store_->history_page(wallet, 0, 10).value();
  ASSERT_EQ(page.size(), 5u);
  for (std::size_t i = 0; i < page.size(); ++i) {
    EXPECT_EQ(page[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(page[i].txn_history_id, ids[i]);
    EXPECT_EQ(page[i].from_payout, i % 2 == 0);
  }
  EXPECT_EQ(page[0].details.provider_name, "F");  // the funder's owner, joined in
  EXPECT_EQ(page[1].details.other_client_id, "z \" \\ q");
  const auto rest = store_->history_page(wallet, 2, 2).value();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].seq, 3);
  EXPECT_EQ(rest[1].seq, 4);
  EXPECT_EQ(store_->find_history(ids[3]).value(), std::make_pair(wallet, std::int64_t{4}));
  EXPECT_EQ(store_->find_history(ids[0]).value(), std::make_pair(wallet, std::int64_t{1}));
  // The right place but another id, a place with nothing, and garbage.
  EXPECT_FALSE(store_->find_history(new_history_uuid(wallet, 4)).value().has_value());
  EXPECT_FALSE(store_->find_history(new_history_uuid(wallet, 9)).value().has_value());
  EXPECT_FALSE(store_->find_history("not-a-uuid").value().has_value());
}

TEST_P(StoreTest, MetaAndLeases) {
  bool a = false;
  bool b = false;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                txn.set_meta("k", "v1");
                txn.set_meta("k", "v2");
                a = txn.claim_lease("sweep", "node-a", 1000, 500);
                b = txn.claim_lease("sweep", "node-b", 1000, 500);
              }).ok);
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);  // node-a's lease runs until 1500
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                EXPECT_EQ(txn.get_meta("k"), "v2");
                EXPECT_TRUE(txn.claim_lease("sweep", "node-a", 1400, 500));  // renewed to 1900
                EXPECT_FALSE(txn.claim_lease("sweep", "node-b", 1600, 500));
                EXPECT_TRUE(txn.claim_lease("sweep", "node-b", 1900, 500));  // expired
                EXPECT_FALSE(txn.claim_lease("sweep", "node-a", 2000, 500));
                EXPECT_TRUE(txn.claim_lease("other", "node-a", 2000, 500));
              }).ok);
}

TEST_P(StoreTest, RecordsAreReadBackWithinAndAfterTheTransaction) {
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                EXPECT_FALSE(txn.find_record(kTenant, "card", "c1"));
                txn.insert_record(kTenant, "card", "c1", R"({"sealed":"ab\"cd"})");
                txn.insert_record("", "card-order-id", "uuid-1", "t\x1fo1");
                EXPECT_EQ(txn.find_record(kTenant, "card", "c1"), R"({"sealed":"ab\"cd"})");
                txn.update_record(kTenant, "card", "c1", "v2");
                EXPECT_EQ(txn.find_record(kTenant, "card", "c1"), "v2");
              }).ok);
  EXPECT_EQ(store_->get_record(kTenant, "card", "c1").value(), "v2");
  EXPECT_EQ(store_->get_record("", "card-order-id", "uuid-1").value(), "t\x1fo1");
  EXPECT_FALSE(store_->get_record("other", "card", "c1").value());     // by tenant
  EXPECT_FALSE(store_->get_record(kTenant, "binding", "c1").value());  // and by kind
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                EXPECT_EQ(txn.find_record(kTenant, "card", "c1"), "v2");
                txn.update_record(kTenant, "card", "c1", "v3");
                txn.update_record(kTenant, "card", "nothing", "x");  // changes nothing
              }).ok);
  EXPECT_EQ(store_->get_record(kTenant, "card", "c1").value(), "v3");
  EXPECT_FALSE(store_->get_record(kTenant, "card", "nothing").value());
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                txn.insert_record(kTenant, "client-card",
                                  "alice\x1f"
                                  "c2",
                                  "b2");
                txn.insert_record(kTenant, "client-card",
                                  "alice\x1f"
                                  "c1",
                                  "b1");
                txn.insert_record(kTenant, "client-card",
                                  "alicia\x1f"
                                  "c3",
                                  "b3");
              }).ok);
  const auto alice = store_->records_with_prefix(kTenant, "client-card", "alice\x1f", 10).value();
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].second, "b1");  // in key order
  EXPECT_EQ(alice[1].second, "b2");
  EXPECT_EQ(store_->records_with_prefix(kTenant, "client-card", "ali", 10).value().size(), 3u);
  EXPECT_EQ(store_->records_with_prefix(kTenant, "client-card", "ali", 1).value().size(), 1u);
  // By keys: those that exist, once each, in key order; none of another kind or tenant.
  const std::string alice_c1 =
                        "alice\x1f"
                        "c1",
                    alicia_c3 =
                        "alicia\x1f"
                        "c3";
  using KeyValues = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(store_
                ->records_with_keys(kTenant, "client-card",
                                    {alicia_c3, "nobody", alice_c1, alicia_c3, "c1"})
                .value(),
            (KeyValues{{alice_c1, "b1"}, {alicia_c3, "b3"}}));
  EXPECT_TRUE(store_->records_with_keys("other", "client-card", {alice_c1}).value().empty());
  EXPECT_TRUE(store_->records_with_keys(kTenant, "card", {alice_c1}).value().empty());
  EXPECT_TRUE(store_->records_with_keys(kTenant, "client-card", {}).value().empty());
  // A transaction that is not committed leaves none of its records.
  {
    auto txn = store_->begin();
    txn->prepare({});
    txn->insert_record(kTenant, "card", "c2", "v");
  }
  EXPECT_FALSE(store_->get_record(kTenant, "card", "c2").value());
}

TEST_P(StoreTest, OutboxMessagesAreDueInOrderAndKeepTheirAttempts) {
  auto message = [](std::string event, std::int64_t due) {
    OutboxMessage m;
    m.tenant = kTenant;
    m.request_id = "req-" + event;
    m.event_id = std::move(event);
    m.target = "http://127.0.0.1:9/cb";
    m.body = R"({"a":"b\"c"})";
    m.next_attempt_ms = due;
    m.created_ms = m.updated_ms = 100;
    return m;
  };
  std::int64_t first = 0;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                first = txn.insert_outbox(message("order-1:registered", 200));
                EXPECT_GT(first, 0);
                EXPECT_GT(txn.insert_outbox(message("order-2:registered", 150)), first);
                EXPECT_EQ(txn.insert_outbox(message("order-1:registered", 10)),
                          0);  // once per event
              }).ok);
  auto due = store_->due_outbox(199, 10, 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].event_id, "order-2:registered");
  due = store_->due_outbox(1000, 10, 10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].id, first);
  EXPECT_EQ(due[1].body, R"({"a":"b\"c"})");
  EXPECT_EQ(due[1].request_id, "req-order-1:registered");  // the request that caused it
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                auto m = txn.find_outbox(first);
                ASSERT_TRUE(m);
                m->attempts = 1;
                m->state = OutboxState::kDelivered;
                m->last_result = "HTTP 200";
                m->updated_ms = 300;
                txn.update_outbox(*m);
                txn.insert_outbox_attempt({first, 1, 290, 10, 200, ""});
              }).ok);
  due = store_->due_outbox(1000, 10, 10).value();
  ASSERT_EQ(due.size(), 1u);  // delivered: no longer due
  const auto of_order = store_->outbox_messages(kTenant, "order-1:", 10).value();
  ASSERT_EQ(of_order.size(), 1u);
  EXPECT_EQ(of_order[0].state, OutboxState::kDelivered);
  EXPECT_EQ(of_order[0].last_result, "HTTP 200");
  const auto attempts = store_->outbox_attempts(first).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].http_status, 200);
  EXPECT_EQ(attempts[0].duration_ms, 10);
  EXPECT_TRUE(store_->outbox_messages("other", "order-1:", 10).value().empty());
}

// No store keeps a message to a person in clear: whoever forgot to seal it, the commit fails.
TEST_P(StoreTest, AMessageToAPersonIsStoredSealedOrNotAtAll) {
  for (const char* target : {"mailto:a@b.c", "sms:+77011234567"}) {
    OutboxMessage m;
    m.tenant = kTenant;
    m.event_id = std::string("clear:") + target;
    m.target = target;
    m.body = "Your code: 123456";
    EXPECT_FALSE(in_txn([&](WriteTxn& txn) { txn.insert_outbox(m); }).ok) << target;
    m.sealed = true;
    EXPECT_TRUE(in_txn([&](WriteTxn& txn) { txn.insert_outbox(m); }).ok) << target;
  }
}

TEST_P(StoreTest, APayoutsMessagesAreThoseThatNameIt) {
  OutboxMessage m;
  m.tenant = kTenant;
  m.target = "mailto:a@b.c";
  m.created_ms = m.updated_ms = 100;
  std::int64_t sealed_id = 0;
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                m.event_id = "p:1";
                m.payout_id = 41;
                m.body = "ciphertext";
                m.sealed = true;
                sealed_id = txn.insert_outbox(m);
                m.event_id = "p:2";
                m.payout_id = 42;
                m.target = "https://merchant.example/cb";  // a callback: in clear
                m.sealed = false;
                txn.insert_outbox(m);
                m.event_id = "p:3";
                m.payout_id = 0;
                txn.insert_outbox(m);
              }).ok);
  const auto of_41 = store_->payout_messages(41, 10).value();
  ASSERT_EQ(of_41.size(), 1u);
  EXPECT_EQ(of_41[0].event_id, "p:1");
  EXPECT_TRUE(of_41[0].sealed);
  EXPECT_EQ(of_41[0].payout_id, 41);
  EXPECT_FALSE(store_->payout_messages(42, 10).value()[0].sealed);
  EXPECT_TRUE(store_->payout_messages(0, 10).value().empty());  // 0 names no payout
  // The body is updated with the state (erased once a sealed message is final).
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                auto found = txn.find_outbox(sealed_id);
                ASSERT_TRUE(found);
                found->state = OutboxState::kDelivered;
                found->body.clear();
                txn.update_outbox(*found);
              }).ok);
  EXPECT_EQ(store_->payout_messages(41, 10).value()[0].body, "");
}

OutboxMessage due_message(std::string tenant, std::string event, std::string target,
                          std::int64_t due_ms) {
  OutboxMessage m;
  m.tenant = std::move(tenant);
  m.event_id = std::move(event);
  m.target = std::move(target);
  m.body = "{}";
  m.sealed = store::to_a_person(m.target);  // stores refuse a message to a person in clear
  m.next_attempt_ms = due_ms;
  m.created_ms = m.updated_ms = 1;
  return m;
}

std::vector<std::string> events_of(const std::vector<OutboxMessage>& messages) {
  std::vector<std::string> events;
  for (const auto& m : messages) events.push_back(m.tenant + "/" + m.event_id);
  return events;
}

// One tenant's backlog of callbacks, earlier than everything else, hides neither its own SMS and
// mail nor another tenant's callback: each queue (tenant, lane) gets its turn.
TEST_P(StoreTest, DueOutboxDealsEachQueuesEarliestInTurns) {
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                for (int i = 0; i < 300; ++i) {
                  txn.insert_outbox(
                      due_message("a", "cb-" + std::to_string(i), "https://a.example/cb", 100 + i));
                }
                txn.insert_outbox(due_message("a", "code", "mailto:someone@example.com", 500));
                txn.insert_outbox(due_message("a", "sms", "sms:+77011234567", 600));
                txn.insert_outbox(due_message("b", "cb", "http://b.example/cb", 700));
                txn.insert_outbox(due_message("c", "later", "http://c.example/cb", 5000));
                auto done = due_message("d", "delivered", "http://d.example/cb", 50);
                done.state = OutboxState::kDelivered;
                txn.insert_outbox(done);
              }).ok);
  EXPECT_EQ(events_of(store_->due_outbox(1000, 3, 100).value()),
            (std::vector<std::string>{"a/cb-0", "a/code", "a/sms", "b/cb",  // every queue's 1st
                                      "a/cb-1", "a/cb-2"}));                // then a's callbacks
  EXPECT_EQ(events_of(store_->due_outbox(1000, 3, 3).value()),
            (std::vector<std::string>{"a/cb-0", "a/code", "a/sms"}));
  EXPECT_EQ(events_of(store_->due_outbox(1000, 1, 100).value()),
            (std::vector<std::string>{"a/cb-0", "a/code", "a/sms", "b/cb"}));
  EXPECT_EQ(store_->due_outbox(5000, 300, 1000).value().size(), 304u);  // c's too, once due
  EXPECT_TRUE(store_->due_outbox(99, 10, 10).value().empty());
}

// A database with messages in its outbox gains the queues' index, and reads them the new way.
TEST_P(StoreTest, UpgradeKeepsTheOutboxDue) {
  store_.reset();
  const TestDatabase old_db(GetParam());
  old_db.open(5).reset();
  // As version 5 wrote them (its store code knew no later columns).
  old_db.execute(
      "INSERT INTO outbox (id, tenant, event_id, target, body, state, attempts, next_attempt_ms, "
      "created_ms, "
      "updated_ms, last_result) VALUES (800001, 'a', 'cb', 'https://a.example/cb', '{}', 0, 0, "
      "100, 1, 1, ''), "
      "(800002, 'a', 'code', 'mailto:someone@example.com', '{}', 0, 0, 200, 1, 1, '')");
  auto upgraded = old_db.open();
  EXPECT_EQ(upgraded->schema_version(), kNewestSchema);
  EXPECT_EQ(events_of(upgraded->due_outbox(1000, 1, 10).value()),
            (std::vector<std::string>{"a/cb", "a/code"}));
}

TEST_P(StoreTest, SnapshotHoldsEverythingAuditReads) {
  const auto [funder, wallet] = funder_and_wallet();
  ASSERT_TRUE(in_txn([&](WriteTxn& txn) {
                txn.insert_payout(payout_spec("s1", funder, wallet));
                txn.insert_transfer(transfer_spec(funder, wallet, TransferKind::kSingle));
                HistoryRecord h;
                h.account_id = wallet;
                h.seq = 1;
                h.txn_history_id = new_history_uuid(wallet, 1);
                h.status = 1;
                h.currency = rub();
                txn.insert_history(h);
              }).ok);
  const AuditSnapshot snap = db_.open_read_only()->snapshot().value();
  EXPECT_EQ(snap.accounts.size(), 3u);
  EXPECT_EQ(snap.transfers.size(), 1u);
  ASSERT_EQ(snap.payouts.size(), 1u);
  EXPECT_EQ(snap.payouts[0].partner_id, "s1");
  ASSERT_EQ(snap.history.size(), 1u);
  EXPECT_EQ(snap.history[0].status, 1);
  EXPECT_EQ(snap.history[0].seq, 1);
}

// Plans. A database plans a statement once and keeps the plan: SQLite when the store prepares
// it, PostgreSQL after its fifth run (a generic plan, for every later value). Both happen while
// the tables are small, so whether a lookup still reads only what it looks up once they have
// grown is a property of the statements, checked here: plans made on a fresh database, then
// 20,000 more rows in every table a payout writes, then the lookups once more.
constexpr int kGrownRows = 20'000;
// What a table may give up to the lookups of the whole test (PostgreSQL), or a statement step
// through in full scans in the last round (SQLite): far below what the grown tables hold.
constexpr std::int64_t kGrownReadsMax = 1'000;

// A payout's life as the engine's batches and the dialects' reads make it, round `r`: a batch
// that declares a funder by code, a wallet by owner and new partner ids; one that settles a
// payout it declares by id; then the reads.
void payout_lookups(Store& store, std::int64_t funder, std::int64_t wallet, int r) {
  const std::string round = "r" + std::to_string(r);
  Footprint batch;
  batch.accounts.push_back({kTenant, AccountKind::kFunder, "f"});
  batch.account_owners.push_back({kTenant, AccountKind::kWallet, "client"});
  std::vector<std::string> partner_ids;
  for (int i = 0; i < 4; ++i) partner_ids.push_back(round + "-" + std::to_string(i));
  for (const std::string& id : partner_ids) {
    batch.payouts.push_back({kTenant, PayoutKind::kWalletPayout, id});
  }
  std::int64_t payout = 0;
  std::int64_t transfer = 0;
  std::int64_t message = 0;
  std::string history_id;
  {
    auto txn = store.begin();
    txn->prepare(batch);
    Account* from = txn->find_account(kTenant, AccountKind::kFunder, "f");
    ASSERT_NE(from, nullptr);
    ASSERT_EQ(txn->find_accounts_by_owner(kTenant, AccountKind::kWallet, "client").size(), 1u);
    for (int i = 0; i < 4; ++i) {
      PayoutRecord p = payout_spec(partner_ids[i], funder, wallet);
      p.status = PayoutStatus::kProcessing;
      p.due_ms = 5000;
      p.history_account_id = wallet;
      p.history_seq = 4 * r + i + 1;
      p.history_id = new_history_uuid(wallet, p.history_seq);
      transfer = txn->insert_transfer(transfer_spec(funder, wallet, TransferKind::kPending));
      p.pending_transfer_id = transfer;
      const std::int64_t id = txn->insert_payout_if_new(p);
      if (i == 0) std::tie(payout, history_id) = std::tie(id, p.history_id);
      from->debits_pending += 100;
    }
    HistoryRecord h;
    h.account_id = wallet;
    h.seq = 50'000 + r;
    h.txn_history_id = new_history_uuid(wallet, h.seq);
    h.currency = rub();
    txn->insert_history(h);
    txn->insert_record(kTenant, "doc", round, "{}");
    OutboxMessage m;
    m.tenant = kTenant;
    m.event_id = round;
    m.target = "https://partner.example/callback";
    m.body = "{}";
    m.next_attempt_ms = 1000;
    m.payout_id = payout;
    message = txn->insert_outbox(m);
    ASSERT_TRUE(txn->commit().ok);
  }
  Footprint settle;
  settle.payout_ids.push_back(payout);
  {
    auto txn = store.begin();
    txn->prepare(settle);
    PayoutRecord p = *txn->find_payout_by_id(payout);
    p.status = PayoutStatus::kSuccess;
    txn->update_payout(p);
    ASSERT_TRUE(txn->find_transfer(p.pending_transfer_id).has_value());
    ASSERT_TRUE(txn->find_payout(kTenant, PayoutKind::kWalletPayout, partner_ids[1]));
    ASSERT_TRUE(txn->find_record(kTenant, "doc", round));
    txn->update_record(kTenant, "doc", round, R"({"settled":true})");
    OutboxMessage sent = *txn->find_outbox(message);
    sent.state = OutboxState::kDelivered;
    sent.attempts = 1;
    txn->update_outbox(sent);
    txn->insert_outbox_attempt({message, 1, 1000, 5, 200, ""});
    ASSERT_TRUE(txn->commit().ok);
  }
  EXPECT_TRUE(store.get_payout(kTenant, PayoutKind::kWalletPayout, partner_ids[2]).value());
  EXPECT_TRUE(store.get_account(kTenant, AccountKind::kFunder, "f").value());
  EXPECT_EQ(store.get_accounts_by_owner(kTenant, AccountKind::kWallet, "client").value().size(),
            1u);
  EXPECT_EQ(store.history_page(wallet, 0, 5).value().size(), 5u);
  EXPECT_FALSE(store.history_page(wallet, 4 * r, 5).value().empty());
  EXPECT_TRUE(store.find_history(history_id).value());
  EXPECT_TRUE(store.get_record(kTenant, "doc", round).value());
  EXPECT_FALSE(store.records_with_prefix(kTenant, "doc", round, 5).value().empty());
  EXPECT_FALSE(store.processing_payouts(10'000, 5).value().empty());
  store.due_outbox(10'000, 5, 5).value();
  EXPECT_EQ(store.outbox_attempts(message).value().size(), 1u);
  EXPECT_EQ(store.payout_messages(payout, 5).value().size(), 1u);
  EXPECT_FALSE(store.payouts_page({.tenant = kTenant, .limit = 5}).value().empty());
  // The operators' reads (store_search_test.cc): by each key, and a full page without one.
  EXPECT_EQ(store.search_payouts({.partner_id = partner_ids[2]}).value().payouts.size(), 1u);
  EXPECT_EQ(store.search_payouts({.payout_id = payout}).value().payouts.size(), 1u);
  EXPECT_TRUE(store.search_payouts({.card = "4111111111"}).value().payouts.empty());
  EXPECT_EQ(store.search_payouts({.limit = 3}).value().payouts.size(), 3u);
  EXPECT_EQ(store.search_payouts({.tenant = kTenant, .limit = 3}).value().payouts.size(), 3u);
  EXPECT_TRUE(store.unsettled_card_payouts(10'000, 5).value().empty());
  store.failing_callbacks(5).value();
  store.outbox_queues(5).value();
}

// Rows of every table a payout writes, for the account pair and the tenant the lookups use:
// what a plan that walks an index prefix or a table instead of probing a key would read.
void grow_tables(const TestDatabase& db, std::int64_t funder, std::int64_t wallet) {
  const std::string rows =
      "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < " +
      std::to_string(kGrownRows) + ") ";
  const std::string from = std::to_string(funder);
  const std::string to = std::to_string(wallet);
  db.execute(
      rows +
      "INSERT INTO payouts (id, tenant, kind, partner_id, fingerprint, status, "
      "decline_code, source_account_id, destination_account_id, amount, currency, "
      "pending_transfer_id, source_ref, destination_ref, history_id, created_ms, updated_ms, "
      "due_ms, history_account_id, history_seq) SELECT 1000000 + n, '" +
      kTenant + "', 0, 'grown-' || n, 'f', 1, '', " + from + ", " + to +
      ", 100, 'RUB', 0, 'funder', "
      "'client', 'grown-' || n, 2000, 2000, 0, " +
      to + ", 100000 + n FROM g");
  db.execute(rows +
             "INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, "
             "currency, kind, pending_id, timestamp_ms, reference) SELECT 1000000 + n, " +
             from + ", " + to + ", 100, 'RUB', 0, NULL, 3000, 'grown' FROM g");
  db.execute(
      rows +
      "INSERT INTO history (account_id, seq, txn_history_id, domain, type_id, status, "
      "impact, domain_txn_id, amount, commission, currency, created_ms, error_code, details) "
      "SELECT " +
      to +
      ", 100000 + n, 'grown-' || n, 0, 0, 1, 0, 'grown', 100, 0, 'RUB', "
      "2000, '', '' FROM g");
  db.execute(rows + "INSERT INTO records (tenant, kind, key, value) SELECT '" + kTenant +
             "', 'doc', 'grown-' || n, '{}' FROM g");
  db.execute(
      rows +
      "INSERT INTO outbox (id, tenant, event_id, target, body, state, attempts, "
      "next_attempt_ms, created_ms, updated_ms, last_result, payout_id) SELECT 1000000 + n, '" +
      kTenant +
      "', 'grown-' || n, 'https://partner.example/callback', '{}', 1, 1, 0, 2000, "
      "2000, 'HTTP 200', 1000000 + n FROM g");
  db.execute(rows +
             "INSERT INTO outbox_attempts (message_id, attempt, at_ms, duration_ms, "
             "http_status, error) SELECT 1000000 + n, 1, 2000, 5, 200, '' FROM g");
}

constexpr const char* kGrownTables[] = {"payouts", "transfers", "history",
                                        "records", "outbox",    "outbox_attempts"};

// PostgreSQL counts what each table and index gave up; a session reports its counts when it
// ends. Entries read from each grown table (sequentially or through any of its indexes) by the
// sessions that have ended.
std::map<std::string, std::int64_t> pg_entries_read(const TestDatabase& db) {
  for (int i = 0; i < 100; ++i) {
    const auto others = db.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
        "current_database() AND pid <> pg_backend_pid()");
    if (others.at(0).at(0) == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::map<std::string, std::int64_t> read;
  for (const auto& row :
       db.query("SELECT t.relname, COALESCE(t.seq_tup_read, 0) + COALESCE(sum(i.idx_tup_read), 0) "
                "FROM pg_stat_user_tables t LEFT JOIN pg_stat_user_indexes i ON i.relid = t.relid "
                "GROUP BY t.relname, t.seq_tup_read")) {
    read[row.at(0)] = std::stoll(row.at(1));
  }
  return read;
}

// Plans the lookups on this fresh database (with statistics that say its tables are empty, if
// asked: an operator's ANALYZE before the first payout), grows the tables, runs the lookups
// again, and checks that they read what they look up and not the tables.
void StoreTest::check_lookups_stay_probes(Statistics statistics) {
  const bool postgres = GetParam() == Backend::kPostgres;
  if (statistics == Statistics::kOfEmptyTables) db_.execute("ANALYZE");
  std::optional<testing::SqliteFullScans> sqlite_scans;
  if (postgres) {
    // PostgreSQL goes on planning a statement for each run's values while that looks cheaper
    // than the generic plan, whose turn may come any time later: the test's sessions take the
    // generic plan from the first run.
    db_.execute(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = "
        "force_generic_plan', current_database()); END $$");
    // Nothing may plan the statements again behind the test's back: in production autovacuum
    // analyses a grown table within a minute or so, and that replans everything using it.
    for (const char* table : kGrownTables) {
      db_.execute(std::string("ALTER TABLE ") + table + " SET (autovacuum_enabled = off)");
    }
  } else {
    sqlite_scans.emplace();
  }
  store_.reset();
  store_ = db_.open();  // new sessions (PostgreSQL) or connections (SQLite): as set up above
  const auto [funder, wallet] = funder_and_wallet();
  constexpr int kRoundsBeforeGrowth = 6;
  for (int r = 0; r < kRoundsBeforeGrowth; ++r) payout_lookups(*store_, funder, wallet, r);
  grow_tables(db_, funder, wallet);
  if (sqlite_scans) sqlite_scans->take();
  payout_lookups(*store_, funder, wallet, kRoundsBeforeGrowth);

  if (sqlite_scans) {
    // (A statement may step through a few rows of its own: a CTE, a VALUES list.)
    for (const auto& [sql, rows] : sqlite_scans->take()) {
      EXPECT_LE(rows, kGrownReadsMax) << "rows scanned by: " << sql;
    }
    return;
  }
  store_.reset();  // its sessions end and report what they read
  const auto read = pg_entries_read(db_);
  for (const char* table : kGrownTables) {
    EXPECT_LE(read.at(table), kGrownReadsMax) << table << " (" << kGrownRows << " rows grown)";
  }
}

TEST_P(StoreTest, LookupsPlannedOnAFreshDatabaseStillProbeTheirKeysOnceTheTablesHaveGrown) {
  check_lookups_stay_probes(Statistics::kNone);
}

TEST_P(StoreTest, LookupsPlannedWithStatisticsOfEmptyTablesStillProbeTheirKeysOnceTheyHaveGrown) {
  check_lookups_stay_probes(Statistics::kOfEmptyTables);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

// Several nodes on one PostgreSQL database: what only a shared database can show.
class SharedStoreTest : public ::testing::Test {
 protected:
  TestDatabase db_{Backend::kPostgres};
};

TEST_F(SharedStoreTest, TwoNodesInsertingOnePartnerIdConflictAndOnlyOneCommits) {
  auto a = db_.open();
  auto b = db_.open();
  std::int64_t funder = 0;
  std::int64_t wallet = 0;
  {
    auto txn = a->begin();
    txn->prepare({});
    funder = txn->insert_account(account_spec(AccountKind::kFunder, "f", "F"))->id;
    wallet = txn->insert_account(account_spec(AccountKind::kWallet, "w", "c"))->id;
    ASSERT_TRUE(txn->commit().ok);
  }
  Footprint declared;
  declared.payouts.push_back({kTenant, PayoutKind::kWalletPayout, "same"});
  auto ta = a->begin();
  ta->prepare(declared);
  auto tb = b->begin();
  tb->prepare(declared);
  // Both looked before either committed: both believe the id is new.
  ASSERT_GT(ta->insert_payout_if_new(payout_spec("same", funder, wallet)), 0);
  ASSERT_GT(tb->insert_payout_if_new(payout_spec("same", funder, wallet)), 0);
  // The first to insert wins; the other waits on its index entry, then fails as a conflict.
  auto committed_b = std::async(std::launch::async, [&] { return tb->commit(); });
  const Status sa = ta->commit();
  const Status sb = committed_b.get();
  EXPECT_NE(sa.ok, sb.ok);
  const Status& lost = sa.ok ? sb : sa;
  EXPECT_TRUE(lost.conflict) << lost.message;
  EXPECT_EQ(a->snapshot().value().payouts.size(), 1u);
}

TEST_F(SharedStoreTest, TwoNodesInsertingOneRecordConflictAndOnlyOneCommits) {
  auto a = db_.open();
  auto b = db_.open();
  auto ta = a->begin();
  ta->prepare({});
  auto tb = b->begin();
  tb->prepare({});
  EXPECT_FALSE(ta->find_record(kTenant, "card-by-pan", "fp"));
  EXPECT_FALSE(tb->find_record(kTenant, "card-by-pan", "fp"));
  ta->insert_record(kTenant, "card-by-pan", "fp", "card-a");
  tb->insert_record(kTenant, "card-by-pan", "fp", "card-b");
  auto committed_b = std::async(std::launch::async, [&] { return tb->commit(); });
  const Status sa = ta->commit();
  const Status sb = committed_b.get();
  EXPECT_NE(sa.ok, sb.ok);
  EXPECT_TRUE((sa.ok ? sb : sa).conflict);
  EXPECT_EQ(a->get_record(kTenant, "card-by-pan", "fp").value(), sa.ok ? "card-a" : "card-b");
}

TEST_F(SharedStoreTest, AnotherNodesLockedAccountIsReadAfterItsCommit) {
  auto a = db_.open();
  auto b = db_.open();
  {
    auto txn = a->begin();
    txn->prepare({});
    txn->insert_account(account_spec(AccountKind::kFunder, "f", "F"))->credits_posted = 1000;
    ASSERT_TRUE(txn->commit().ok);
  }
  Footprint declared;
  declared.accounts.push_back({kTenant, AccountKind::kFunder, "f"});
  auto ta = a->begin();
  ta->prepare(declared);
  ta->find_account(kTenant, AccountKind::kFunder, "f")->debits_posted += 600;
  // b's prepare waits for a's lock, then sees a's debit.
  auto seen_by_b = std::async(std::launch::async, [&] {
    auto tb = b->begin();
    tb->prepare(declared);
    const std::int64_t balance = tb->find_account(kTenant, AccountKind::kFunder, "f")->balance();
    EXPECT_TRUE(tb->commit().ok);
    return balance;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(ta->commit().ok);
  EXPECT_EQ(seen_by_b.get(), 400);
}

}  // namespace
}  // namespace payoutd::store
