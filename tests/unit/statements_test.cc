// Daily statements: the CSV's escaping, a statement's arithmetic on constructed movements, its
// day's boundaries and cursors, the audit of statements, and the store's read of an account's
// movements on both backends.
#include <gtest/gtest.h>

#include "core/time_format.h"
#include "engine/statements.h"
#include "reports/statement_render.h"
#include "store/store.h"
#include "test_databases.h"
#include "web/csv.h"

namespace payoutd {
namespace {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferKind;

constexpr const char* kTenant = "bereke:statement-test";
const Tenant kTenantId{"bereke", "statement-test"};

Currency kzt() { return *Currency::from_code("KZT"); }

std::string field(std::string_view v) {
  std::string out;
  web::csv_field(out, v);
  return out;
}

TEST(CsvTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(field("plain"), "plain");
  EXPECT_EQ(field(""), "");
  EXPECT_EQ(field("a,b"), "\"a,b\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(field("x=1"), "x=1");  // a formula only at the start
}

TEST(CsvTest, NeutralisesWhatASpreadsheetWouldRun) {
  EXPECT_EQ(field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(field("+1+1"), "\"'+1+1\"");
  EXPECT_EQ(field("-2+3"), "\"'-2+3\"");
  EXPECT_EQ(field("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(field("\tx"), "\"'\tx\"");
  EXPECT_EQ(field("\rx"), "\"'\rx\"");
}

TEST(CsvTest, ARecordEndsWithCrLf) {
  std::string out;
  web::csv_record(out, {"a", "b,c", ""});
  EXPECT_EQ(out, "a,\"b,c\",\r\n");
}

TEST(StatementDayTest, ADayIsMidnightToMidnightAtTheOffset) {
  const auto day = engine::statement_day("2026-12-05", 180);
  ASSERT_TRUE(day);
  EXPECT_EQ(day->start_ms, *parse_iso_date_ms("2026-12-05") - 3 * 3'600'000);
  EXPECT_EQ(day->end_ms - day->start_ms, 86'400'000);
  EXPECT_EQ(format_iso8601(day->start_ms, 180), "2026-12-05T00:00:00+03:00");
  const auto west = engine::statement_day("2026-12-05", -330);
  EXPECT_EQ(format_iso8601(west->start_ms, -330), "2026-12-05T00:00:00-05:30");
  EXPECT_FALSE(engine::statement_day("2026-02-30", 180));
  EXPECT_FALSE(engine::statement_day("05.12.2026", 180));
  // 21:30 UTC on the 4th is the 5th in Moscow.
  const std::int64_t late = *parse_iso_date_ms("2026-12-04") + 21 * 3'600'000 + 1'800'000;
  EXPECT_EQ(engine::statement_day_of(late, 180).date, "2026-12-05");
  EXPECT_EQ(engine::statement_day_of(late, 0).date, "2026-12-04");
}

TEST(StatementCursorTest, RoundTripsAndRefusesTheRest) {
  engine::StatementLine line;
  line.at_ms = 1'796'000'000'123;
  line.transfer_id = 42;
  const auto place = engine::parse_statement_cursor(engine::statement_cursor(line));
  ASSERT_TRUE(place);
  EXPECT_EQ(place->first, line.at_ms);
  EXPECT_EQ(place->second, 42);
  for (const char* bad : {"", "12", "12.", ".5", "12.0", "12.-3", "a.b", "1.2.3", "12.5x"}) {
    EXPECT_FALSE(engine::parse_statement_cursor(bad)) << bad;
  }
}

// A funding account (id 1) of 1000.00 KZT now, and the day's movements a store would read.
Account funder() {
  Account a;
  a.id = 1;
  a.tenant = kTenant;
  a.kind = AccountKind::kFunder;
  a.code = "transit";
  a.owner = "Transit account";
  a.currency = kzt();
  a.credits_posted = 500'000;
  a.debits_posted = 400'000;  // balance 100 000
  return a;
}

store::Movement movement(std::int64_t id, std::int64_t at_ms, std::int64_t debit,
                         std::int64_t credit, std::int64_t amount, std::string reference,
                         std::string counter, std::int64_t payout_id) {
  store::Movement m;
  m.transfer = {.id = id,
                .debit_account_id = debit,
                .credit_account_id = credit,
                .amount = amount,
                .currency = kzt(),
                .kind = TransferKind::kSingle,
                .timestamp_ms = at_ms,
                .reference = std::move(reference)};
  m.counter_code = std::move(counter);
  m.payout_id = payout_id;
  return m;
}

const std::string kCredit = std::string("1:") + kTenant + ":credit-1";
const std::string kCard = std::string("3:") + kTenant + ":-2+3";

TEST(StatementTest, OpeningAndLinesMakeTheClosing) {
  const auto day = *engine::statement_day("2026-12-05", 180);
  store::MovementPage page;
  page.account = funder();
  // After the day started: +30 000 and -5 000 (net 25 000); after the day: -1 000.
  page.net_from_start = 24'000;
  page.net_after_end = -1'000;
  page.net_after_cursor = page.net_from_start;
  page.movements = {movement(10, day.start_ms + 5, 99, 1, 30'000, kCredit, "outside:KZT", 7),
                    movement(11, day.start_ms + 9, 1, 98, 5'000, kCard, "card-rail:KZT", 8)};
  const engine::Statement s = engine::statement_of(kTenantId, day, page, 100, true);
  EXPECT_EQ(s.opening, 100'000 - 24'000);
  EXPECT_EQ(s.closing, 100'000 + 1'000);
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0].kind, engine::MovementKind::kCredit);
  EXPECT_EQ(s.lines[0].partner_id, "credit-1");
  EXPECT_EQ(s.lines[0].amount, 30'000);
  EXPECT_EQ(s.lines[0].balance, 106'000);
  EXPECT_EQ(s.lines[0].payout_id, 7);
  EXPECT_EQ(s.lines[1].kind, engine::MovementKind::kCardPayout);
  EXPECT_EQ(s.lines[1].partner_id, "-2+3");
  EXPECT_EQ(s.lines[1].amount, -5'000);
  EXPECT_EQ(s.lines[1].balance, s.closing);
  EXPECT_EQ(s.lines[1].counter_account, "card-rail:KZT");
  EXPECT_EQ(s.credits, 30'000);
  EXPECT_EQ(s.debits, -5'000);
  EXPECT_TRUE(s.next_cursor.empty());
}

TEST(StatementTest, AFullPageNamesTheNextAndStartsFromItsPlace) {
  const auto day = *engine::statement_day("2026-12-05", 180);
  store::MovementPage page;
  page.account = funder();
  page.net_from_start = 30'000;
  page.net_after_end = 0;
  page.net_after_cursor = 30'000;
  page.movements = {movement(10, day.start_ms + 5, 99, 1, 30'000, kCredit, "outside:KZT", 7)};
  const engine::Statement first = engine::statement_of(kTenantId, day, page, 1, true);
  EXPECT_EQ(first.next_cursor, std::to_string(day.start_ms + 5) + ".10");
  // The next page, after the credit: nothing is left after it.
  page.net_after_cursor = 0;
  page.movements.clear();
  const engine::Statement second = engine::statement_of(kTenantId, day, page, 1, false);
  EXPECT_TRUE(second.next_cursor.empty());
  EXPECT_EQ(second.closing, 100'000);
  const std::string csv = reports::statement_csv(second);
  EXPECT_EQ(csv.find(",opening,"), std::string::npos);  // only the first page opens
  EXPECT_NE(csv.find(",closing,"), std::string::npos);
}

TEST(StatementTest, TheCsvHasAHeaderPlainAmountsAndNeutralisedIds) {
  const auto day = *engine::statement_day("2026-12-05", 180);
  store::MovementPage page;
  page.account = funder();
  page.net_from_start = page.net_after_cursor = -5'000;
  page.movements = {movement(11, day.start_ms + 9, 1, 98, 5'000, kCard, "card-rail:KZT", 8)};
  const engine::Statement s = engine::statement_of(kTenantId, day, page, 100, true);
  const std::string csv = reports::statement_csv(s);
  const std::string expected =
      std::string(reports::kStatementCsvHeader) +
      "bereke:statement-test,transit,2026-12-05,2026-12-05T00:00:00+03:00,opening,,,,,,KZT,"
      "1050.00\r\n"
      "bereke:statement-test,transit,2026-12-05,2026-12-05T00:00:00+03:00,card-payout,"
      "\"'-2+3\",8,11,card-rail:KZT,-50.00,KZT,1000.00\r\n"
      "bereke:statement-test,transit,2026-12-05,2026-12-06T00:00:00+03:00,closing,,,,,,KZT,"
      "1000.00\r\n";
  EXPECT_EQ(csv, expected);
  const std::string json = reports::statement_json(s);
  EXPECT_NE(json.find("\"opening\":{\"value\":1050.00,\"currency\":\"KZT\"}"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"complete\":true"), std::string::npos);
}

store::AuditSnapshot snapshot_with(std::int64_t credit_amount) {
  store::AuditSnapshot snap;
  Account f = funder();
  f.credits_posted = 30'000;
  f.debits_posted = 5'000;
  f.debits_pending = 0;
  Account outside = f;
  outside.id = 99;
  outside.kind = AccountKind::kSystem;
  outside.code = "outside:KZT";
  Account rail = outside;
  rail.id = 98;
  rail.code = "card-rail:KZT";
  snap.accounts = {f, outside, rail};
  const auto at = *parse_iso_date_ms("2026-12-05");
  snap.transfers = {movement(10, at, 99, 1, credit_amount, kCredit, "", 0).transfer,
                    movement(11, at + 86'400'000, 1, 98, 5'000, kCard, "", 0).transfer};
  // A reservation and its void move no posted balance: no line.
  Transfer pending = movement(12, at + 5, 1, 98, 700, kCard, "", 0).transfer;
  pending.kind = TransferKind::kPending;
  Transfer voided = pending;
  voided.id = 13;
  voided.kind = TransferKind::kVoid;
  voided.pending_id = 12;
  snap.transfers.push_back(pending);
  snap.transfers.push_back(voided);
  return snap;
}

TEST(StatementAuditTest, DaysThatLeadToTheBalanceAreClean) {
  EXPECT_TRUE(engine::audit_statements(snapshot_with(30'000), 180).empty());
}

TEST(StatementAuditTest, AnAlteredAmountIsFound) {
  const auto violations = engine::audit_statements(snapshot_with(31'000), 180);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].find("sum to 26000, but its posted balance is 25000"), std::string::npos)
      << violations[0];
}

TEST(StatementAuditTest, AMovementOfNoPayoutIsFound) {
  store::AuditSnapshot snap = snapshot_with(30'000);
  snap.transfers[0].reference = "test";
  const auto violations = engine::audit_statements(snap, 180);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].find("has reference test"), std::string::npos) << violations[0];
}

TEST(StatementAuditTest, APayoutThatCreditsAFundingAccountIsFound) {
  store::AuditSnapshot snap = snapshot_with(30'000);
  snap.transfers[0].reference = kCard;  // the credit from outside, as if a card payout's
  const auto violations = engine::audit_statements(snap, 180);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].find("credits funding account transit"), std::string::npos)
      << violations[0];
}

// The store's read, on both backends.
class MovementsTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  Account account(AccountKind kind, std::string code) {
    Account a;
    a.tenant = kTenant;
    a.kind = kind;
    a.code = std::move(code);
    a.owner = a.code;
    a.currency = kzt();
    a.floor =
        kind == AccountKind::kSystem ? ledger::BalanceFloor::kNone : ledger::BalanceFloor::kZero;
    return a;
  }

  testing::TestDatabase db_{GetParam()};
  std::unique_ptr<store::Store> store_ = db_.open();
};

TEST_P(MovementsTest, ADaysPostedMovementsInOrderWithTheNetsAroundThem) {
  const auto day = *engine::statement_day("2026-12-05", 180);
  std::int64_t funder = 0, outside = 0, rail = 0;
  auto txn = store_->begin();
  txn->prepare({});
  Account* f = txn->insert_account(account(AccountKind::kFunder, "transit"));
  Account* o = txn->insert_account(account(AccountKind::kSystem, "outside:KZT"));
  Account* r = txn->insert_account(account(AccountKind::kSystem, "card-rail:KZT"));
  funder = f->id;
  outside = o->id;
  rail = r->id;
  store::PayoutRecord card;
  card.tenant = kTenant;
  card.kind = store::PayoutKind::kCardPayout;
  card.partner_id = "-2+3";
  card.currency = kzt();
  card.source_account_id = funder;
  card.destination_account_id = rail;
  const std::int64_t card_id = txn->insert_payout(card);
  auto put = [&](std::int64_t at_ms, std::int64_t d, std::int64_t c, std::int64_t amount,
                 TransferKind kind, std::string reference, std::int64_t pending = 0) {
    return txn->insert_transfer({.debit_account_id = d,
                                 .credit_account_id = c,
                                 .amount = amount,
                                 .currency = kzt(),
                                 .kind = kind,
                                 .pending_id = pending,
                                 .timestamp_ms = at_ms,
                                 .reference = std::move(reference)});
  };
  put(day.start_ms - 1, outside, funder, 100'000, TransferKind::kSingle,
      kCredit);  // the day before
  put(day.start_ms, funder, rail, 1'000, TransferKind::kSingle, kCard);
  const std::int64_t pending =
      put(day.start_ms + 10, funder, rail, 2'000, TransferKind::kPending, kCard);
  put(day.start_ms + 20, funder, rail, 2'000, TransferKind::kPost, kCard, pending);
  const std::int64_t other =
      put(day.start_ms + 30, funder, rail, 500, TransferKind::kPending, kCard);
  put(day.start_ms + 40, funder, rail, 500, TransferKind::kVoid, kCard, other);
  put(day.end_ms, outside, funder, 7'000, TransferKind::kSingle, kCredit);  // the day after
  f->credits_posted = 107'000;
  f->debits_posted = 3'000;
  ASSERT_TRUE(txn->commit().ok);

  store::MovementQuery q{.tenant = kTenant,
                         .kind = AccountKind::kFunder,
                         .code = "transit",
                         .from_ms = day.start_ms,
                         .to_ms = day.end_ms,
                         .after_ms = day.start_ms - 1,
                         .after_id = store::kMovementIdMax,
                         .limit = 10};
  const auto page = store_->account_movements(q).value();
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->account.balance(), 104'000);
  EXPECT_EQ(page->net_from_start, 7'000 - 3'000);
  EXPECT_EQ(page->net_after_end, 7'000);
  EXPECT_EQ(page->net_after_cursor, page->net_from_start);
  ASSERT_EQ(page->movements.size(), 2u);  // the single and the post; no reservation, no void
  EXPECT_EQ(page->movements[0].transfer.amount, 1'000);
  EXPECT_EQ(page->movements[0].transfer.kind, TransferKind::kSingle);
  EXPECT_EQ(page->movements[0].counter_code, "card-rail:KZT");
  EXPECT_EQ(page->movements[0].counter_kind, AccountKind::kSystem);
  EXPECT_EQ(page->movements[0].payout_id, card_id);
  EXPECT_EQ(page->movements[1].transfer.kind, TransferKind::kPost);
  EXPECT_EQ(page->movements[1].transfer.timestamp_ms, day.start_ms + 20);

  const auto s = engine::statement_of(kTenantId, day, *page, q.limit, true);
  EXPECT_EQ(s.opening, 100'000);
  EXPECT_EQ(s.closing, 97'000);

  // One line a page: the second page starts after the first line's place.
  q.limit = 1;
  const auto first = store_->account_movements(q).value();
  ASSERT_EQ(first->movements.size(), 1u);
  const auto cursor = engine::parse_statement_cursor(
      engine::statement_cursor(engine::line_of(first->account, first->movements[0])));
  std::tie(q.after_ms, q.after_id) = *cursor;
  const auto second = store_->account_movements(q).value();
  ASSERT_EQ(second->movements.size(), 1u);
  EXPECT_EQ(second->movements[0].transfer.kind, TransferKind::kPost);
  EXPECT_EQ(second->net_after_cursor, 7'000 - 2'000);

  q.code = "nobody";
  EXPECT_FALSE(store_->account_movements(q).value().has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, MovementsTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd
