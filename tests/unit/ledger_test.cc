#include "ledger/ledger.h"

#include <gtest/gtest.h>

namespace payoutd::ledger {
namespace {

Currency rub() { return *Currency::from_code("RUB"); }

Account make_account(std::int64_t id, BalanceFloor floor) {
  Account a;
  a.id = id;
  a.tenant = "t";
  a.code = "a" + std::to_string(id);
  a.currency = rub();
  a.floor = floor;
  return a;
}

Transfer make_transfer(std::int64_t id, const Account& debit, const Account& credit,
                       std::int64_t amount, TransferKind kind = TransferKind::kSingle,
                       std::int64_t pending_id = 0) {
  Transfer t;
  t.id = id;
  t.debit_account_id = debit.id;
  t.credit_account_id = credit.id;
  t.amount = amount;
  t.currency = rub();
  t.kind = kind;
  t.pending_id = pending_id;
  t.reference = "test";
  return t;
}

class LedgerTest : public ::testing::Test {
 protected:
  Account outside = make_account(1, BalanceFloor::kNone);
  Account funder = make_account(2, BalanceFloor::kZero);
  Account wallet = make_account(3, BalanceFloor::kZero);
  std::vector<Transfer> log;

  TransferResult run(Transfer t, Account& d, Account& c, const Transfer* pending = nullptr) {
    const TransferResult r = apply(t, d, c, pending);
    if (r == TransferResult::kOk) log.push_back(t);
    return r;
  }
  std::vector<std::string> audit_now() { return audit({outside, funder, wallet}, log); }
};

TEST_F(LedgerTest, SingleTransferMovesMoneyAndKeepsSumZero) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  ASSERT_EQ(run(make_transfer(2, funder, wallet, 400), funder, wallet), TransferResult::kOk);
  EXPECT_EQ(funder.balance(), 600);
  EXPECT_EQ(wallet.balance(), 400);
  EXPECT_EQ(outside.balance(), -1000);
  EXPECT_TRUE(audit_now().empty());
}

TEST_F(LedgerTest, ZeroFloorRefusesOverdraftAndChangesNothing) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 100), outside, funder), TransferResult::kOk);
  const Account before = funder;
  EXPECT_EQ(run(make_transfer(2, funder, wallet, 101), funder, wallet),
            TransferResult::kExceedsBalance);
  EXPECT_EQ(funder, before);
  EXPECT_EQ(wallet.balance(), 0);
  EXPECT_EQ(run(make_transfer(3, funder, wallet, 100), funder, wallet), TransferResult::kOk);
  EXPECT_EQ(funder.available(), 0);
}

TEST_F(LedgerTest, RejectsBadTransfers) {
  EXPECT_EQ(run(make_transfer(1, outside, funder, 0), outside, funder),
            TransferResult::kAmountNotPositive);
  EXPECT_EQ(run(make_transfer(2, outside, funder, -5), outside, funder),
            TransferResult::kAmountNotPositive);
  EXPECT_EQ(run(make_transfer(3, funder, funder, 5), funder, funder), TransferResult::kSameAccount);
  Transfer eur = make_transfer(4, outside, funder, 5);
  eur.currency = *Currency::from_code("EUR");
  EXPECT_EQ(run(eur, outside, funder), TransferResult::kCurrencyMismatch);
  EXPECT_TRUE(log.empty());
}

TEST_F(LedgerTest, PendingReservesThenPostMovesIt) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  const Transfer pending = make_transfer(2, funder, wallet, 700, TransferKind::kPending);
  ASSERT_EQ(run(pending, funder, wallet), TransferResult::kOk);
  EXPECT_EQ(funder.available(), 300);
  EXPECT_EQ(funder.balance(), 1000);
  // The reservation counts against the floor.
  EXPECT_EQ(run(make_transfer(3, funder, wallet, 301), funder, wallet),
            TransferResult::kExceedsBalance);
  ASSERT_EQ(
      run(make_transfer(4, funder, wallet, 700, TransferKind::kPost, 2), funder, wallet, &pending),
      TransferResult::kOk);
  EXPECT_EQ(funder.balance(), 300);
  EXPECT_EQ(wallet.balance(), 700);
  EXPECT_EQ(funder.debits_pending, 0);
  EXPECT_TRUE(audit_now().empty());
}

TEST_F(LedgerTest, VoidReleasesReservation) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  const Transfer pending = make_transfer(2, funder, wallet, 700, TransferKind::kPending);
  ASSERT_EQ(run(pending, funder, wallet), TransferResult::kOk);
  ASSERT_EQ(
      run(make_transfer(3, funder, wallet, 700, TransferKind::kVoid, 2), funder, wallet, &pending),
      TransferResult::kOk);
  EXPECT_EQ(funder.available(), 1000);
  EXPECT_EQ(wallet.balance(), 0);
  EXPECT_TRUE(audit_now().empty());
}

TEST_F(LedgerTest, PostMustMatchItsPending) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  const Transfer pending = make_transfer(2, funder, wallet, 700, TransferKind::kPending);
  ASSERT_EQ(run(pending, funder, wallet), TransferResult::kOk);
  EXPECT_EQ(
      run(make_transfer(3, funder, wallet, 600, TransferKind::kPost, 2), funder, wallet, &pending),
      TransferResult::kPendingMismatch);
  EXPECT_EQ(
      run(make_transfer(4, funder, wallet, 700, TransferKind::kPost, 2), funder, wallet, nullptr),
      TransferResult::kPendingMismatch);
}

TEST_F(LedgerTest, AuditFindsTamperedBalance) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  funder.credits_posted += 1;
  const auto violations = audit_now();
  ASSERT_FALSE(violations.empty());
  EXPECT_NE(violations[0].find("cached balance differs"), std::string::npos);
}

TEST_F(LedgerTest, AuditFindsDoubleResolutionAndNegativeFunder) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  const Transfer pending = make_transfer(2, funder, wallet, 700, TransferKind::kPending);
  ASSERT_EQ(run(pending, funder, wallet), TransferResult::kOk);
  ASSERT_EQ(
      run(make_transfer(3, funder, wallet, 700, TransferKind::kPost, 2), funder, wallet, &pending),
      TransferResult::kOk);
  // A forged second post of the same reservation, and a forged overdraft.
  log.push_back(make_transfer(4, funder, wallet, 700, TransferKind::kPost, 2));
  log.push_back(make_transfer(5, funder, wallet, 5000));
  funder.debits_posted += 5700;
  funder.debits_pending -= 700;
  wallet.credits_posted += 5700;
  wallet.credits_pending -= 700;
  const auto violations = audit_now();
  bool twice = false, below = false;
  for (const auto& v : violations) {
    twice |= v.find("resolved twice") != std::string::npos;
    below |= v.find("below zero") != std::string::npos;
  }
  EXPECT_TRUE(twice);
  EXPECT_TRUE(below);
}

TEST_F(LedgerTest, AuditFindsUnbalancedCurrency) {
  ASSERT_EQ(run(make_transfer(1, outside, funder, 1000), outside, funder), TransferResult::kOk);
  outside.debits_posted -= 1000;  // as if a posting were lost on one side only
  const auto violations = audit_now();
  bool unbalanced = false;
  for (const auto& v : violations) unbalanced |= v.find("do not sum to zero") != std::string::npos;
  EXPECT_TRUE(unbalanced);
}

}  // namespace
}  // namespace payoutd::ledger
