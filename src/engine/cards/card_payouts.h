#pragma once
// Card payouts: money from a partner's funding account (its transit account, or one of its
// corporate cards) to a bank card, through a card rail. Protocol-free: the Bereke and ecommpay
// dialects translate their wire formats into these commands. CardPayouts is the card engine's
// facade: it runs each command as a committer job (order_jobs.h, hosted_jobs.h), waits for the
// rail's answers, and keeps the timers; the tenants' corporate cards and settings are a component
// of their own (corporate()).
//
// Two phases on the ledger. Confirming a payout reserves its amount (a pending transfer from the
// funding account to the rail's settlement account) in one durable batch; then, off the request
// path, the rail is asked to credit the card; its answer posts the reservation (success) or voids
// it (decline) in a later batch. An answer that does not come in time is never guessed: the
// payout waits, and the engine asks the rail for the credit's status with a growing backoff until
// it is final. A credit the rail certainly never sent (kNotSent: the network unreachable) keeps
// its reservation and is sent again when due, after a growing backoff. A restart resumes every
// payout where it stood (the rail dedupes a re-sent credit by its reference).
//
// An order registered for the hosted card page reserves nothing until the page confirms it with
// a card; it expires after its session timeout (declined, nothing moved).
//
// Card numbers go to the vault (cards/vault.h) as soon as a command carries one; records keep
// only the card's id and its mask.
//
// Threads: commands may be issued from any thread; callbacks complete on the committer's syncer
// thread once the outcome is durable (or on a rail's or the scheduler's thread), and must be
// quick.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cards/card.h"
#include "cards/vault.h"
#include "engine/cards/corporate_cards.h"
#include "engine/cards/jobs.h"
#include "engine/cards/order.h"
#include "engine/payouts.h"
#include "engine/scheduler.h"
#include "rails/rail_set.h"

namespace payoutd::engine {

namespace card_jobs {
struct ConfirmInput;
}  // namespace card_jobs

using CardPayoutCallback = std::function<void(CardPayoutResult)>;

// A dialect's notifications about its payouts: called inside the batch that changed a payout,
// with its tenant (payout.tenant read back by Tenant::parse) and its new state; what it returns
// goes to the outbox in that same batch (once per event id). Must be quick and must not block:
// it runs on the committer thread.
using CardNotifier = std::function<std::vector<store::OutboxMessage>(
    const Tenant& tenant, const store::PayoutRecord& payout, const CardOrder& order,
    std::int64_t now_ms)>;

class CardPayouts {
 public:
  CardPayouts(PayoutEngine& engine, const store::Store& store, const Clock& clock,
              cards::Vault& vault, const cards::BinTable& bins, rails::RailSet& rails,
              CardEngineOptions options = {});
  ~CardPayouts();

  // Opens the vault with the data key stored in the database (creating it on first start).
  // Returns an empty string, or why the vault cannot open.
  std::string open_vault();
  // Resumes every card payout that is not final, and starts the timers.
  void start();
  void stop();

  // Where a tenant's per-card limits come from when a payout reserves: `source`, asked each time
  // (the tenant directory's settings, so a change of them applies without a restart). A tenant it
  // gives nullopt has limits no one can read (its settings do not decode): its payouts are declined
  // kDeclineLimitsUnknown, never paid unlimited; CardLimits{} is none. Without a source, none.
  // Before start(); `source` is quick and callable from any thread.
  using LimitsSource = std::function<std::optional<CardLimits>(const Tenant& tenant)>;
  void set_limits_source(LimitsSource source);
  // Notifications for the tenants of `provider` (Tenant::provider, e.g. "ecommpay").
  void set_notifier(std::string provider, CardNotifier notifier);
  // Called after a batch that wrote outbox messages is durable (the dispatcher's wake-up).
  void on_outbox(std::function<void()> wake);
  const cards::BinTable& bins() const { return bins_; }
  PayoutEngine& engine() { return engine_; }
  // The tenants' corporate cards, bindings and settings.
  CorporateCards& corporate() { return corporate_; }
  const CorporateCards& corporate() const { return corporate_; }

  // Registers (hosted) or performs a payout. Answers once the outcome is durable and, for a
  // payout sent to the rail, once the rail's first answer is (or after waiter_timeout_ms). After
  // a first answer kNotSent the payout is answered as it stands: processing, still sending.
  // Errors: kIdConflict, kSourceNotFound, kDestinationNotFound, kCurrencyMismatch, kUnavailable.
  void submit(CardPayoutRequest request, CardPayoutCallback done);
  // The hosted page's confirmation of a registered order with a card (kNotFound, kUnavailable;
  // an order no longer registered is answered as it stands).
  void confirm(const Tenant& tenant, std::string partner_id, CardEntry card,
               CardPayoutCallback done);
  // The same with one of the order's client's saved cards (a recipient binding, as saved_cards
  // lists them) and the cardholder's name the page gave. The binding is checked in the batch that
  // reserves: one that is not a saved card of the order's client is refused kUnknownCard and
  // changes nothing. Then it pays as confirm() does, and as submit() with a target binding.
  void confirm_saved(const Tenant& tenant, std::string partner_id, std::string binding_id,
                     std::string cardholder, CardPayoutCallback done);

  // Confirmation by code. request_code attaches the card to a registered order (sealed, nothing
  // reserved) and sends a new code through the tenant's notifier; confirm_code checks it and,
  // when right, confirms the order with that card (as confirm() does). Refusals: see OrderError
  // (request_code: kNotOpen, kTooManyCodes, kNoCard, kUnknownCard; confirm_code: kNoCode,
  // kCodeExpired, kWrongCode), and kNotFound, kUnavailable.
  struct CodeAsk {
    CardEntry card;     // a new card; or
    std::string saved;  // one of the client's recipient bindings; neither: the card attached before
    bool save = false;  // bind the new card to the client
    bool send = true;   // false: only attach the card (the page asks for more before the code)
    std::optional<std::string> parties;  // replaces the order's parties (CardOrder::parties)
  };
  void request_code(const Tenant& tenant, std::string partner_id, CodeAsk ask,
                    CardPayoutCallback done);
  void confirm_code(const Tenant& tenant, std::string partner_id, std::string code,
                    CardPayoutCallback done);
  // Declines a registered order at once with the dialect's `decline_code` (e.g. a program's
  // requirement the payout does not meet); nothing was reserved. kNotOpen when the order is no
  // longer registered.
  void refuse(const Tenant& tenant, std::string partner_id, std::string decline_code,
              CardPayoutCallback done);
  // Keeps the hosted page's description of a registered order (CardOrder::description), as the
  // dialect checked it. kNotOpen when the order is no longer registered; an order whose session
  // is over is declined EXPIRED instead (and answered as it then stands).
  void describe(const Tenant& tenant, std::string partner_id, std::string description,
                CardPayoutCallback done);

  struct SavedCard {
    std::string binding_id, masked_pan, scheme, country;
  };
  // The client's recipient bindings (saved cards) of this tenant that payouts may go to, oldest
  // card id first, at most 20; the store's ReadError when it cannot be read.
  store::Read<std::vector<SavedCard>> saved_cards(const Tenant& tenant,
                                                  std::string_view client_id) const;

  // kNotFound, or kUnavailable when the store cannot be read (so get_by_order_id too).
  CardPayoutResult get(const Tenant& tenant, std::string_view partner_id) const;
  // By the engine's order id: the order and its tenant (`owner`), when that tenant is one of
  // `provider`'s ("bereke", "ecommpay"); kNotFound otherwise. Order ids are unique across
  // tenants, so every caller says whose orders it serves: one provider's pages never show
  // another provider's order.
  CardPayoutResult get_by_order_id(std::string_view order_id, std::string_view provider,
                                   Tenant* owner) const;

  // A processing card payout found overdue by the settlement sweep.
  void resume(const store::PayoutRecord& payout);

 private:
  struct Shared;
  // A card as the request sealed it (its id and ciphertext), before the vault deduplicated it.
  struct Sealed {
    std::string card_id, blob;
  };

  // confirm() and confirm_saved(): the input's card reserved and sent.
  void run_confirm(const Tenant& tenant, card_jobs::ConfirmInput in, CardPayoutCallback done);
  // get() by the tenant's stored key (store.h).
  CardPayoutResult get_stored(std::string_view tenant, std::string_view partner_id) const;
  void fire(std::int64_t id);
  void examine(std::int64_t payout_id);
  void ask_status(std::int64_t payout_id, const CardOrder& order);
  void dispatch(const store::PayoutRecord& payout, const CardOrder& order,
                const Sealed* sealed = nullptr);
  rails::CardRail* rail_of(std::int64_t payout_id, const CardOrder& order);
  void answered(std::int64_t payout_id, rails::Answer answer, bool status_check, std::string rail);
  card_jobs::ReserveRules reserve_rules(const Tenant& tenant) const;
  void after_change(const CardPayoutResult& result);
  void send_when_due(const CardPayoutResult& result);
  // A command's answer once the order is final or the rail has answered (see submit).
  void answer_when_sent(CardPayoutResult result, const Sealed* sealed, CardPayoutCallback done);
  // Whether the order was sent and the rail's first answer is still to come.
  bool awaits_rail(const CardPayoutResult& result) const;
  // `sends`: the request sends the payout itself (notify() will answer it).
  void wait_for_rail(const store::PayoutRecord& payout, bool sends, CardPayoutCallback done);
  void notify(const CardPayoutResult& result);
  void expire_waiters();
  void answer_stored(CardPayoutResult result, const CardPayoutCallback& done);
  bool write_notifications(store::WriteTxn& txn, const store::PayoutRecord& payout,
                           const CardOrder& order, std::int64_t now_ms);

  PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  cards::Vault& vault_;
  LimitsSource limits_source_;
  const cards::BinTable& bins_;
  rails::RailSet& rails_;
  CardEngineOptions options_;
  std::unique_ptr<Shared> shared_;  // notifiers and waiting requests, under one mutex
  std::function<bool(store::WriteTxn&, const store::PayoutRecord&, const CardOrder&, std::int64_t)>
      notify_;
  CorporateCards corporate_;
  Scheduler scheduler_;
};

}  // namespace payoutd::engine
