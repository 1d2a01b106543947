// The card payout engine on both real stores, with a scripted card rail that the test answers
// by hand (so every interleaving of answers, timeouts and restarts is chosen, not raced).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/audit.h"
#include "engine/cards/card_payouts.h"
#include "engine/cards/records.h"
#include "engine/provision.h"
#include "forwarding_store.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::engine {
namespace {

using testing::Backend;
using testing::TestDatabase;

using testing::ManualClock;

// A rail whose calls wait until the test answers them.
class ScriptedRail final : public rails::CardRail {
 public:
  struct Call {
    bool status = false;
    rails::CreditOrder credit;
    std::string reference;
    rails::AnswerCallback done;
  };
  std::string_view name() const override { return "scripted-rail"; }
  void credit(rails::CreditOrder order, rails::AnswerCallback done) override {
    push({false, order, order.reference, std::move(done)});
  }
  void status(std::string reference, rails::Program /*program*/,
              rails::AnswerCallback done) override {
    push({true, {}, std::move(reference), std::move(done)});
  }
  void stop() override {
    std::vector<Call> left;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      left.swap(calls_);
    }
    for (Call& c : left) c.done({rails::Outcome::kUnknown, {}, {}, "stopped", 0});
  }
  void restart() {
    std::lock_guard lock(mutex_);
    stopped_ = false;
  }
  // The next call, waited for (up to 10 s of real time).
  Call next() {
    std::unique_lock lock(mutex_);
    const bool got = cv_.wait_for(lock, std::chrono::seconds(10), [&] { return !calls_.empty(); });
    if (!got) throw std::runtime_error("the engine made no rail call");
    Call c = std::move(calls_.front());
    calls_.erase(calls_.begin());
    return c;
  }
  bool idle_for(std::chrono::milliseconds ms) {
    std::unique_lock lock(mutex_);
    return !cv_.wait_for(lock, ms, [&] { return !calls_.empty(); });
  }
  int credits_seen() const { return credits_.load(); }

 private:
  void push(Call c) {
    {
      std::lock_guard lock(mutex_);
      if (!c.status) ++credits_;
      if (stopped_) {
        c.done({rails::Outcome::kUnknown, {}, {}, "stopped", 0});
        return;
      }
      calls_.push_back(std::move(c));
    }
    cv_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  bool stopped_ = false;
  std::atomic<int> credits_{0};
};

// Every tenant's payouts go to `rail`.
rails::RailSet rail_set(rails::CardRail& rail) {
  rails::RailSet set{rails::Routing(std::string(rail.name()))};
  set.add(rail);
  return set;
}

rails::Answer approved() {
  return {rails::Outcome::kApproved, "123456789012", "00", "approved", 0};
}
rails::Answer declined() { return {rails::Outcome::kDeclined, {}, "05", "do not honour", 0}; }
rails::Answer unknown() { return {rails::Outcome::kUnknown, {}, {}, "timeout", 0}; }

const Tenant kTenant{"bereke", "test"};
const std::string kTenantKey = kTenant.key();  // as the store and the vault keep it
constexpr const char* kPan = "4111111111111111";
constexpr std::string_view kKek =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
Currency kzt() { return *Currency::from_code("KZT"); }

class CardEngineTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    bins_ = cards::BinTable::parse("411111,411111,VISA,KZ,Bank\n555555,555555,MASTERCARD,KZ,Bank\n",
                                   "test");
    open();
    ProvisionPlan plan;
    plan.funders.push_back({{kTenant, std::string(kTransitAccount), "Transit", kzt()}, 10'000});
    ASSERT_EQ(provision_if_empty(*engine_, cards_.get(), plan), "");
    cards_->start();
  }
  void TearDown() override { close(); }

  void open() {
    store_ = std::make_unique<testing::ForwardingStore>(db_.open());
    committer_ = std::make_unique<Committer>(*store_, clock_, CommitterOptions{});
    committer_->start();
    engine_ = std::make_unique<PayoutEngine>(*committer_, *store_, clock_);
    vault_ = std::make_unique<cards::Vault>(cards::parse_key_encryption_key(kKek)->key);
    rail_.restart();
    cards_ = std::make_unique<CardPayouts>(*engine_, *store_, clock_, *vault_, bins_, rails_,
                                           CardEngineOptions{});
    ASSERT_EQ(cards_->open_vault(), "");
  }
  void close() {
    if (cards_) cards_->stop();
    if (engine_) engine_->stop();
    if (committer_) committer_->stop();
    cards_.reset();
    engine_.reset();
    committer_.reset();
    store_.reset();
  }

  CardPayoutRequest request(const std::string& id, std::int64_t amount,
                            const std::string& pan = kPan) {
    CardPayoutRequest r;
    r.tenant = kTenant;
    r.partner_id = id;
    r.amount = {amount, kzt()};
    r.pan = pan;
    if (!pan.empty()) r.issuer = *bins_.find(pan);
    r.order.client_id = "client-1";
    return r;
  }
  std::future<CardPayoutResult> submit(CardPayoutRequest r) {
    auto promise = std::make_shared<std::promise<CardPayoutResult>>();
    auto f = promise->get_future();
    cards_->submit(std::move(r),
                   [promise](CardPayoutResult res) { promise->set_value(std::move(res)); });
    return f;
  }
  static CardPayoutResult wait(std::future<CardPayoutResult>& f) {
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("no answer");
    }
    return f.get();
  }
  CardPayoutResult run(CardPayoutRequest r) {
    auto f = submit(std::move(r));
    return wait(f);
  }
  ledger::Account transit() {
    return *engine_->find_account(kTenant, ledger::AccountKind::kFunder, kTransitAccount).value();
  }
  // Waits (real time) until the payout has this status.
  CardPayoutResult await_status(const std::string& id, store::PayoutStatus status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      CardPayoutResult r = cards_->get(kTenant, id);
      if (r.payout.status == status || std::chrono::steady_clock::now() > deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  ManualClock clock_;
  TestDatabase db_{GetParam()};
  cards::BinTable bins_;
  ScriptedRail rail_;
  rails::RailSet rails_ = rail_set(rail_);
  std::unique_ptr<testing::ForwardingStore> store_;  // its reads fail when a test says so
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<PayoutEngine> engine_;
  std::unique_ptr<cards::Vault> vault_;
  // What an SMS of the outbox says: its sealed body, opened as the dispatcher opens it.
  std::string sms_text(const store::OutboxMessage& m) const {
    return vault_->open_message(m.tenant, m.event_id, m.body).value_or("(does not open)");
  }
  std::unique_ptr<CardPayouts> cards_;
};

TEST_P(CardEngineTest, AnApprovedCreditPostsTheReservation) {
  auto f = submit(request("o1", 700));
  ScriptedRail::Call call = rail_.next();
  EXPECT_FALSE(call.status);
  EXPECT_EQ(call.credit.pan, kPan);  // unsealed from the vault for the rail, and only there
  EXPECT_EQ(call.credit.amount.minor, 700);
  // Reserved while the rail works: not spendable, not yet posted.
  EXPECT_EQ(transit().available(), 10'000 - 700);
  EXPECT_EQ(transit().balance(), 10'000);
  call.done(approved());
  const CardPayoutResult r = wait(f);
  ASSERT_EQ(r.error, OrderError::kNone);
  EXPECT_EQ(r.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(r.order.approval, "123456789012");
  EXPECT_EQ(r.order.masked_pan, "411111XXXXXX1111");
  EXPECT_EQ(call.credit.reference, r.order.order_id);
  EXPECT_EQ(transit().balance(), 10'000 - 700);
  EXPECT_EQ(transit().available(), 10'000 - 700);
  // The vault keeps the card sealed: no record holds the number.
  const auto card = store_->get_record(kTenantKey, kCardRecord, r.order.card_id).value();
  ASSERT_TRUE(card);
  EXPECT_EQ(card->find(kPan), std::string::npos);
  EXPECT_FALSE(r.order.target_binding.empty());  // client-1's binding to the card
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ADeclinedCreditVoidsTheReservation) {
  auto f = submit(request("o1", 700));
  rail_.next().done(declined());
  const CardPayoutResult r = wait(f);
  EXPECT_EQ(r.payout.status, store::PayoutStatus::kDeclined);
  EXPECT_EQ(r.payout.decline_code, kDeclineCardDeclined);
  EXPECT_EQ(r.order.rail_code, "05");
  EXPECT_EQ(transit().balance(), 10'000);
  EXPECT_EQ(transit().available(), 10'000);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, InsufficientFundsDeclineWithoutARailCall) {
  auto f = submit(request("o1", 10'001));
  const CardPayoutResult r = wait(f);
  EXPECT_EQ(r.payout.status, store::PayoutStatus::kDeclined);
  EXPECT_EQ(r.payout.decline_code, kDeclineInsufficientFunds);
  EXPECT_TRUE(rail_.idle_for(std::chrono::milliseconds(50)));
  EXPECT_EQ(rail_.credits_seen(), 0);
}

TEST_P(CardEngineTest, AnUnknownOutcomeIsReconciledNeverGuessed) {
  auto f = submit(request("o1", 500));
  rail_.next().done(unknown());
  const CardPayoutResult first = wait(f);
  EXPECT_TRUE(first.rail_timeout);
  EXPECT_EQ(first.payout.status, store::PayoutStatus::kProcessing);
  EXPECT_EQ(first.order.stage, OrderStage::kAwaiting);
  EXPECT_EQ(transit().available(), 10'000 - 500);
  // The first status request comes after the backoff; the network is still working.
  clock_.advance(1000);
  ScriptedRail::Call check = rail_.next();
  ASSERT_TRUE(check.status);
  EXPECT_EQ(check.reference, first.order.order_id);
  check.done({rails::Outcome::kProcessing, {}, {}, "processing", 0});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cards_->get(kTenant, "o1").order.rail_checks < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The next one comes after a longer wait: not at 1 s again.
  clock_.advance(1000);
  EXPECT_TRUE(rail_.idle_for(std::chrono::milliseconds(700)));
  clock_.advance(1000);
  check = rail_.next();
  ASSERT_TRUE(check.status);
  check.done(approved());
  const CardPayoutResult done = await_status("o1", store::PayoutStatus::kSuccess);
  EXPECT_EQ(done.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(done.order.rail_checks, 2);
  EXPECT_EQ(transit().balance(), 10'000 - 500);
  EXPECT_EQ(rail_.credits_seen(), 1);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ACreditTheNetworkNeverReceivedIsSentAgainWithItsReference) {
  auto f = submit(request("o1", 500));
  const std::string reference = rail_.next().credit.reference;
  // (that call's answer is lost: the test never answers it)
  clock_.advance(CardEngineOptions{}.resend_after_ms);
  cards_->resume(cards_->get(kTenant, "o1").payout);
  ScriptedRail::Call again = rail_.next();
  EXPECT_FALSE(again.status);
  EXPECT_EQ(again.credit.reference, reference);
  again.done(approved());
  EXPECT_EQ(wait(f).payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(transit().balance(), 10'000 - 500);
}

TEST_P(CardEngineTest, AReplayInFlightGetsTheSameAnswerAndNoSecondCredit) {
  auto first = submit(request("o1", 300));
  ScriptedRail::Call call = rail_.next();
  auto second = submit(request("o1", 300));
  auto conflict = submit(request("o1", 301));
  EXPECT_EQ(wait(conflict).error, OrderError::kIdConflict);
  call.done(approved());
  const CardPayoutResult a = wait(first);
  const CardPayoutResult b = wait(second);
  EXPECT_EQ(a.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(b.payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(a.order.order_id, b.order.order_id);
  EXPECT_TRUE(rail_.idle_for(std::chrono::milliseconds(50)));
  EXPECT_EQ(rail_.credits_seen(), 1);
  EXPECT_EQ(transit().balance(), 10'000 - 300);
}

TEST_P(CardEngineTest, ARestartResendsACreditWhoseAnswerWasLost) {
  auto f = submit(request("o1", 400));
  const std::string reference = rail_.next().credit.reference;  // its answer is never delivered
  close();
  EXPECT_EQ(wait(f).error, OrderError::kUnavailable);  // the request ends with the server
  open();
  cards_->start();
  ScriptedRail::Call again = rail_.next();
  ASSERT_FALSE(again.status);
  EXPECT_EQ(again.credit.reference, reference);  // the network dedupes it by its reference
  again.done(approved());
  EXPECT_EQ(await_status("o1", store::PayoutStatus::kSuccess).payout.status,
            store::PayoutStatus::kSuccess);
  EXPECT_EQ(transit().balance(), 10'000 - 400);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ReadsAnswerUnavailableWhileTheStoreCannotBeReadAndRecoverAfter) {
  CardPayoutRequest saving = request("o1", 300);
  saving.order.save_card = true;
  auto f = submit(saving);
  rail_.next().done(approved());
  const CardPayoutResult paid = wait(f);
  ASSERT_EQ(paid.payout.status, store::PayoutStatus::kSuccess);
  store_->fail_reads(true);
  EXPECT_EQ(cards_->get(kTenant, "o1").error, OrderError::kUnavailable);  // not kNotFound
  Tenant tenant;
  EXPECT_EQ(cards_->get_by_order_id(paid.order.order_id, kTenant.provider, &tenant).error,
            OrderError::kUnavailable);
  EXPECT_FALSE(cards_->saved_cards(kTenant, "client-1").ok());
  EXPECT_FALSE(cards_->corporate().cards(kTenant).ok());
  EXPECT_FALSE(cards_->corporate().primary_card(kTenant).ok());
  EXPECT_FALSE(cards_->corporate().funding_account(kTenant, "").ok());
  EXPECT_FALSE(cards_->corporate().knp(kTenant).ok());
  store_->fail_reads(false);
  const CardPayoutResult read = cards_->get(kTenant, "o1");
  ASSERT_EQ(read.error, OrderError::kNone);
  EXPECT_EQ(read.payout.id, paid.payout.id);
  EXPECT_EQ(cards_->get_by_order_id(paid.order.order_id, kTenant.provider, &tenant).payout.id,
            paid.payout.id);
  EXPECT_EQ(cards_->saved_cards(kTenant, "client-1").value().size(), 1u);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, APayoutUnreadAtARestartIsResumedByTheSweepOnceReadsReturn) {
  auto f = submit(request("o1", 400));
  const std::string reference = rail_.next().credit.reference;  // its answer is never delivered
  close();
  EXPECT_EQ(wait(f).error, OrderError::kUnavailable);
  open();
  store_->fail_reads(true);
  cards_->start();  // cannot read what to resume
  engine_->start();
  EXPECT_TRUE(rail_.idle_for(std::chrono::milliseconds(100)));
  store_->fail_reads(false);
  // Once overdue, the settlement sweep hands it to the card engine, which sends it again.
  std::optional<ScriptedRail::Call> again;
  for (int i = 0; i < 300 && !again; ++i) {
    clock_.advance(500);
    if (!rail_.idle_for(std::chrono::milliseconds(10))) again = rail_.next();
  }
  ASSERT_TRUE(again.has_value());
  ASSERT_FALSE(again->status);
  EXPECT_EQ(again->credit.reference, reference);
  again->done(approved());
  EXPECT_EQ(await_status("o1", store::PayoutStatus::kSuccess).payout.status,
            store::PayoutStatus::kSuccess);
  EXPECT_EQ(transit().balance(), 10'000 - 400);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ARestartAsksTheStatusOfAnUnknownOutcome) {
  auto f = submit(request("o1", 400));
  rail_.next().done(unknown());
  EXPECT_TRUE(wait(f).rail_timeout);
  close();
  open();
  cards_->start();
  ScriptedRail::Call check = rail_.next();
  ASSERT_TRUE(check.status);
  check.done(approved());
  EXPECT_EQ(await_status("o1", store::PayoutStatus::kSuccess).payout.status,
            store::PayoutStatus::kSuccess);
  EXPECT_EQ(transit().balance(), 10'000 - 400);
  EXPECT_EQ(rail_.credits_seen(), 1);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, PerCardLimitsCountCreditsThatDidNotFail) {
  // Asked at each payout, for the tenant that pays; another tenant of the provider has none.
  cards_->set_limits_source([](const Tenant& tenant) -> std::optional<CardLimits> {
    if (tenant != kTenant) return CardLimits{};
    return CardLimits{.single_max = 1000, .total_max = 1500, .count_max = 2};
  });
  EXPECT_EQ(run(request("big", 1001)).payout.decline_code, kDeclineCardSingle);
  auto a = submit(request("a", 800));
  rail_.next().done(declined());  // a failed credit does not count
  EXPECT_EQ(wait(a).payout.status, store::PayoutStatus::kDeclined);
  auto b = submit(request("b", 800));
  rail_.next().done(approved());
  EXPECT_EQ(wait(b).payout.status, store::PayoutStatus::kSuccess);
  auto c = submit(request("c", 800));  // 1600 > 1500 within the window
  EXPECT_EQ(wait(c).payout.decline_code, kDeclineCardTotal);
  auto d = submit(request("d", 700, "5555555555554444"));  // another card has its own limits
  rail_.next().done(approved());
  EXPECT_EQ(wait(d).payout.status, store::PayoutStatus::kSuccess);
  clock_.advance(CardLimits{}.window_ms);  // the window moves on
  auto e = submit(request("e", 800));
  rail_.next().done(approved());
  EXPECT_EQ(wait(e).payout.status, store::PayoutStatus::kSuccess);
  auto f = submit(request("f", 100));
  rail_.next().done(approved());
  EXPECT_EQ(wait(f).payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(run(request("g", 100)).payout.decline_code, kDeclineCardCount);  // a third credit
  EXPECT_TRUE(audit_store(*store_).empty());
}

// A limits source (the tenant directory's settings) is asked as each payout reserves: a change
// of what it answers applies to the next payout; limits it cannot give decline the payout.
TEST_P(CardEngineTest, LimitsFromTheSourceApplyToTheNextPayoutWithoutARestart) {
  std::optional<CardLimits> given = CardLimits{.single_max = 500};
  std::mutex mutex;
  cards_->set_limits_source([&](const Tenant& t) -> std::optional<CardLimits> {
    std::lock_guard lock(mutex);
    return t == kTenant ? given : CardLimits{};
  });
  EXPECT_EQ(run(request("over", 501)).payout.decline_code, kDeclineCardSingle);
  auto within = submit(request("within", 400));
  rail_.next().done(approved());
  EXPECT_EQ(wait(within).payout.status, store::PayoutStatus::kSuccess);
  {
    std::lock_guard lock(mutex);
    given = CardLimits{.single_max = 1000};
  }
  auto raised = submit(request("raised", 501));
  rail_.next().done(approved());
  EXPECT_EQ(wait(raised).payout.status, store::PayoutStatus::kSuccess);
  {
    std::lock_guard lock(mutex);
    given.reset();  // unknown (settings that do not decode): declined, nothing reserved
  }
  EXPECT_EQ(run(request("unknown", 100)).payout.decline_code, kDeclineLimitsUnknown);
  EXPECT_EQ(transit().available(), 10'000 - 400 - 501);
  {
    std::lock_guard lock(mutex);
    given = CardLimits{};  // none: no limits
  }
  auto unlimited = submit(request("unlimited", 5000));
  rail_.next().done(approved());
  EXPECT_EQ(wait(unlimited).payout.status, store::PayoutStatus::kSuccess);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, AHostedOrderExpiresOrIsConfirmedWithACard) {
  CardPayoutRequest r = request("page-1", 600, "");
  r.pan.clear();
  r.hosted = true;
  r.session_timeout_ms = 1000;
  CardPayoutResult registered = run(r);
  EXPECT_EQ(registered.order.stage, OrderStage::kRegistered);
  EXPECT_EQ(transit().available(), 10'000);  // nothing reserved before the card is known
  clock_.advance(1000);
  const CardPayoutResult expired = await_status("page-1", store::PayoutStatus::kDeclined);
  EXPECT_EQ(expired.payout.decline_code, kDeclineExpired);
  Tenant tenant;
  EXPECT_EQ(cards_->get_by_order_id(registered.order.order_id, kTenant.provider, &tenant).payout.id,
            expired.payout.id);
  EXPECT_EQ(tenant, kTenant);
  // Another provider's pages never find it.
  Tenant other;
  EXPECT_EQ(cards_->get_by_order_id(registered.order.order_id, "ecommpay", &other).error,
            OrderError::kNotFound);

  // A confirmed order pays; a late confirmation of the expired one changes nothing.
  r.partner_id = "page-2";
  r.session_timeout_ms = 60'000;
  run(r);
  auto confirm = [&](const std::string& id) {
    auto promise = std::make_shared<std::promise<CardPayoutResult>>();
    auto f = promise->get_future();
    cards_->confirm(kTenant, id, {kPan, *bins_.find(kPan), "IVAN"},
                    [promise](CardPayoutResult res) { promise->set_value(std::move(res)); });
    return f;
  };
  auto late = confirm("page-1");
  EXPECT_EQ(wait(late).payout.decline_code, kDeclineExpired);
  auto paid = confirm("page-2");
  ScriptedRail::Call call = rail_.next();
  EXPECT_EQ(call.credit.cardholder, "IVAN");
  call.done(approved());
  EXPECT_EQ(wait(paid).payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(rail_.credits_seen(), 1);
  EXPECT_EQ(transit().balance(), 10'000 - 600);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ACodeConfirmsAnAttachedCardAndARefusalDeclinesAtOnce) {
  CardPayoutRequest r = request("code-1", 600, "");
  r.pan.clear();
  r.hosted = true;
  run(r);
  auto ask = [&](const std::string& id, CardPayouts::CodeAsk a) {
    auto promise = std::make_shared<std::promise<CardPayoutResult>>();
    auto f = promise->get_future();
    cards_->request_code(kTenant, id, std::move(a),
                         [promise](CardPayoutResult res) { promise->set_value(std::move(res)); });
    return f;
  };
  // No card yet, and none given: refused.
  auto none = ask("code-1", {});
  EXPECT_EQ(wait(none).error, OrderError::kNoCard);
  // The card attached without a code (the page asks for more first), with the parties.
  CardPayouts::CodeAsk attach{.card = {kPan, *bins_.find(kPan), "IVAN"},
                              .send = false,
                              .parties = R"({"recipient_country":"CA"})"};
  auto attached = ask("code-1", std::move(attach));
  CardPayoutResult a = wait(attached);
  EXPECT_EQ(a.error, OrderError::kNone);
  EXPECT_FALSE(a.order.card_id.empty());
  EXPECT_TRUE(a.order.code_hash.empty());
  EXPECT_EQ(a.order.codes_sent, 0);
  EXPECT_EQ(a.order.scheme, "VISA");
  // Then the code, for the card attached before, with the parties completed.
  auto coded =
      ask("code-1", {.parties = R"({"recipient_country":"CA","recipient_city":"Toronto"})"});
  CardPayoutResult c = wait(coded);
  EXPECT_FALSE(c.order.code_hash.empty());
  EXPECT_EQ(c.order.codes_sent, 1);
  EXPECT_EQ(c.order.card_id, a.order.card_id);
  EXPECT_EQ(transit().available(), 10'000);  // nothing reserved before the code is entered
  EXPECT_EQ(cards_->get(kTenant, "code-1").order.parties,
            R"({"recipient_country":"CA","recipient_city":"Toronto"})");

  // A refusal declines a registered order at once, with the dialect's code; then it is final.
  r.partner_id = "code-2";
  run(r);
  auto refuse = [&](const std::string& id) {
    auto promise = std::make_shared<std::promise<CardPayoutResult>>();
    auto f = promise->get_future();
    cards_->refuse(kTenant, id, "319",
                   [promise](CardPayoutResult res) { promise->set_value(std::move(res)); });
    return f;
  };
  auto refused = refuse("code-2");
  EXPECT_EQ(wait(refused).payout.decline_code, "319");
  auto again = refuse("code-2");
  EXPECT_EQ(wait(again).error, OrderError::kNotOpen);
  auto unknown = refuse("no-such");
  EXPECT_EQ(wait(unknown).error, OrderError::kNotFound);
  EXPECT_EQ(rail_.credits_seen(), 0);
  EXPECT_EQ(transit().available(), 10'000);
  EXPECT_TRUE(audit_store(*store_).empty());
}

TEST_P(CardEngineTest, ACorporateCardIsAddedWithItsCodeVerifiedAndThenFundsPayouts) {
  auto enrol = [&](const std::string& pan) {
    std::promise<EnrolmentResult> p;
    cards_->corporate().enrol(kTenant, {pan, *bins_.find(pan), "IVAN PETROV"}, "12/39",
                              "+77011234567",
                              [&](EnrolmentResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto confirm = [&](const std::string& id, const std::string& code) {
    auto promise = std::make_shared<std::promise<EnrolmentResult>>();
    auto f = promise->get_future();
    cards_->corporate().confirm_enrolment(kTenant, id, code, 5'000, [promise](EnrolmentResult r) {
      promise->set_value(std::move(r));
    });
    return f;
  };
  auto admin = [&](auto call) {
    std::promise<CorporateCardResult> p;
    call([&](CorporateCardResult r) { p.set_value(r); });
    return p.get_future().get();
  };
  // The code goes to the outbox with the enrolment, sealed; only its keyed MAC is kept.
  const EnrolmentResult started = enrol(kPan);
  ASSERT_EQ(started.error, EnrolmentError::kNone);
  EXPECT_EQ(started.enrolment.state, EnrolmentState::kCodeSent);
  EXPECT_EQ(started.enrolment.masked_pan, "411111XXXXXX1111");
  const auto sms =
      store_->outbox_messages(kTenantKey, "card-enrolment:" + started.enrolment.id, 10).value();
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].target, "sms:+77011234567");
  EXPECT_TRUE(sms[0].sealed);
  EXPECT_EQ(sms[0].body.find("code"), std::string::npos);  // ciphertext at rest
  const std::string text = sms_text(sms[0]);
  const std::string code = text.substr(text.find(": ") + 2, 6);
  EXPECT_EQ(text.find(kPan), std::string::npos);
  EXPECT_EQ(
      store_->get_record(kTenantKey, kEnrolmentRecord, started.enrolment.id).value()->find(code),
      std::string::npos);
  // Moved onto another event, the ciphertext does not open.
  EXPECT_FALSE(vault_->open_message(kTenantKey, "card-enrolment:other:code", sms[0].body));
  // A wrong code is refused and counted; the right one has the rail verify the card.
  auto wrong = confirm(started.enrolment.id, code == "000000" ? "111111" : "000000");
  EXPECT_EQ(wrong.get().error, EnrolmentError::kWrongCode);
  auto right = confirm(started.enrolment.id, code);
  ScriptedRail::Call check = rail_.next();
  EXPECT_TRUE(check.credit.verification);
  EXPECT_EQ(check.credit.pan, kPan);
  EXPECT_EQ(check.credit.amount.minor, 1);
  check.done(approved());
  const EnrolmentResult bound = right.get();
  ASSERT_EQ(bound.enrolment.state, EnrolmentState::kBound);
  const std::string binding = bound.enrolment.binding_id;
  const auto list = cards_->corporate().cards(kTenant).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].binding_id, binding);
  EXPECT_EQ(list[0].expiry, "12/39");
  EXPECT_EQ(list[0].account.balance(), 5'000);  // the opening balance
  EXPECT_EQ(enrol(kPan).error, EnrolmentError::kAlreadyAdded);
  // It funds a payout; while that payout is in flight the card cannot be deleted.
  ASSERT_EQ(admin([&](CorporateCardCallback cb) {
              cards_->corporate().set_primary(kTenant, binding, cb);
            }),
            CorporateCardResult::kOk);
  EXPECT_EQ(cards_->corporate().primary_card(kTenant).value(), binding);
  CardPayoutRequest r = request("from-card", 1'200, "5555555555554444");
  r.order.source_binding = binding;
  r.funding_code = binding;
  auto paying = submit(r);
  ScriptedRail::Call credit = rail_.next();
  EXPECT_EQ(
      admin([&](CorporateCardCallback cb) { cards_->corporate().remove(kTenant, binding, cb); }),
      CorporateCardResult::kInUse);
  credit.done(approved());
  EXPECT_EQ(wait(paying).payout.status, store::PayoutStatus::kSuccess);
  EXPECT_EQ(cards_->corporate().cards(kTenant).value()[0].account.balance(), 5'000 - 1'200);
  // Deleted: no longer listed, primary or a funding source.
  EXPECT_EQ(
      admin([&](CorporateCardCallback cb) { cards_->corporate().remove(kTenant, binding, cb); }),
      CorporateCardResult::kOk);
  EXPECT_TRUE(cards_->corporate().cards(kTenant).value().empty());
  EXPECT_EQ(cards_->corporate().primary_card(kTenant).value(), "");
  EXPECT_FALSE(cards_->corporate().funding_account(kTenant, binding).value().has_value());
  r.partner_id = "from-deleted";
  EXPECT_EQ(run(r).error, OrderError::kSourceNotFound);
  // A card the network refuses is not bound.
  const EnrolmentResult other = enrol("5555555555554444");
  const auto other_sms =
      store_->outbox_messages(kTenantKey, "card-enrolment:" + other.enrolment.id, 10).value();
  const std::string other_text = sms_text(other_sms[0]);
  auto refused = confirm(other.enrolment.id, other_text.substr(other_text.find(": ") + 2, 6));
  rail_.next().done(declined());
  const EnrolmentResult declined_card = refused.get();
  EXPECT_EQ(declined_card.enrolment.state, EnrolmentState::kDeclined);
  EXPECT_EQ(declined_card.enrolment.reason, "declined 05");
  EXPECT_TRUE(cards_->corporate().cards(kTenant).value().empty());
  EXPECT_TRUE(audit_store(*store_).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, CardEngineTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::engine
