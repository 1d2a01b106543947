#pragma once
// Card payouts: money from a partner's funding account (its transit account, or one of its
// corporate cards) to a bank card, through a card rail. Protocol-free: the Bereke dialect (and
// later ecommpay's) translate their wire formats into these commands.
//
// Two phases on the ledger. Confirming a payout reserves its amount (a pending transfer from the
// funding account to the rail's settlement account) in one durable batch; then, off the request
// path, the rail is asked to credit the card; its answer posts the reservation (success) or voids
// it (decline) in a later batch. An answer that does not come in time is never guessed: the
// payout waits, and the engine asks the rail for the credit's status with a growing backoff until
// it is final. A restart resumes every payout where it stood (the rail dedupes a re-sent credit
// by its reference).
//
// An order registered for the hosted card page reserves nothing until the page confirms it with
// a card; it expires after its session timeout (declined, nothing moved).
//
// Card numbers go to the vault (cards/vault.h) as soon as a command carries one; records keep
// only the card's id and its mask.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cards/card.h"
#include "cards/vault.h"
#include "engine/payouts.h"
#include "engine/scheduler.h"
#include "rails/rail.h"

namespace payoutd::engine {

// Record kinds (store::WriteTxn::find_record) of the card engine.
inline constexpr std::string_view kCardRecord = "card";              // card id -> sealed card
inline constexpr std::string_view kCardIndex = "card-by-pan";        // PAN fingerprint -> card id
inline constexpr std::string_view kBindingRecord = "binding";        // binding id -> binding
inline constexpr std::string_view kClientCardIndex = "client-card";  // client|card id -> binding id
inline constexpr std::string_view kOrderRecord = "card-order";       // partner id -> order
inline constexpr std::string_view kOrderIdIndex = "card-order-id";   // order id -> tenant|partner id
inline constexpr std::string_view kCardUsage = "card-usage";         // card id -> recent credits
inline constexpr std::string_view kEnrolmentRecord = "card-enrolment";  // id -> a corporate card being added
inline constexpr std::string_view kTenantSettings = "tenant-settings";  // "primary_card", "knp"

// The account every funding source of a tenant is, by code: the transit account, or a corporate
// card's account, whose code is its binding id.
inline constexpr std::string_view kTransitAccount = "transit";

inline constexpr std::string_view kDeclineExpired = "EXPIRED";
inline constexpr std::string_view kDeclineCardDeclined = "CARD_DECLINED";
// The per-card limit a payout would exceed: one payout's amount, the card's total, or its count of
// credits within the window.
inline constexpr std::string_view kDeclineCardSingle = "CARD_LIMIT_SINGLE";
inline constexpr std::string_view kDeclineCardTotal = "CARD_LIMIT_TOTAL";
inline constexpr std::string_view kDeclineCardCount = "CARD_LIMIT_COUNT";
// Any per-card limit, including the single code earlier releases stored ("CARD_LIMIT_EXCEEDED").
bool is_card_limit(std::string_view decline_code);

enum class OrderStage : std::uint8_t {
  kRegistered = 0,  // waits for its card on the hosted page; nothing reserved
  kSending = 1,     // reserved; the credit is being sent to the rail
  kAwaiting = 2,    // the rail said processing, or did not answer in time: ask its status
  kFinal = 3,       // success or declined
};

// Per-card limits of a tenant (0: no limit). Checked when a payout reserves its amount, against
// the card's credits of the last window that did not fail.
struct CardLimits {
  std::int64_t single_max = 0;   // minor units of one payout
  std::int64_t total_max = 0;    // minor units per card per window
  int count_max = 0;             // credits per card per window
  std::int64_t window_ms = 24 * 3600 * 1000;
};

// A card payout's order: what the partner sent, and what the rail answered.
struct CardOrder {
  std::string order_id;  // UUID, the engine's id of the order (and the rail reference)
  OrderStage stage = OrderStage::kRegistered;
  std::string card_id;   // vault id; empty until a card is known
  std::string masked_pan;
  std::string scheme, country;
  std::string cardholder;
  std::string client_id, email, phone, name;
  std::string source_binding;  // the corporate card funding it; empty: the transit account
  std::string target_binding;  // the recipient binding used or created
  std::string description, language, return_url, fail_url;
  std::string params_json;  // the partner's extra parameters, a JSON object
  std::string knp;          // payment purpose code carried by the payout
  // The payout's sender and recipient as its card program needs them (a JSON object the
  // dialect defines; empty: none). It travels to the rail with the credit.
  std::string parties;
  std::string callback_url;  // where the payout's notifications go (dialects with callbacks)
  std::string client_ip;     // the recipient's IP address, as the partner gave it
  // Confirmation by a code sent to the customer (ecommpay's Payment Page): the card is attached
  // to the order first, and the order is confirmed with it once the code is entered.
  std::string code_hash;          // Vault::code_mac of the code in force; empty: none
  std::int64_t code_expires_ms = 0;
  int code_attempts = 0;          // wrong entries of the code in force
  int codes_sent = 0;
  // Only in the batch that made it, for its notification, which must then be sealed
  // (OutboxMessage::sealed): never stored in clear.
  std::string code_plain;
  bool save_card = true;          // bind the card to the client (a recipient binding)
  std::int64_t fee = 0;
  std::int64_t expires_ms = 0;  // registered orders: the end of the page's session
  std::string rail_state;       // "", "processing", "unknown": why it is awaiting
  std::string approval;         // rail's retrieval reference number (refNum)
  std::string rail_code, rail_text;
  std::int64_t operation_ms = 0;  // when the rail decided
  int rail_checks = 0;            // status requests so far
};

struct CardPayoutRequest {
  std::string tenant;
  std::string partner_id;  // orderNumber
  Amount amount;
  // The dialect's canonical form of the request's other fields (no secrets): with the card's
  // fingerprint, the payout's fingerprint for replays.
  std::string canonical;
  bool hosted = false;        // registerPayout: the card comes later, from the page
  std::string funding_code;   // the funding account when no source binding (default: transit)
  std::string refuse_code;    // registered, then declined at once with this code (e.g. payouts
                              // not enabled for the project): the partner learns it by callback
  std::string pan;            // clear, checked by the dialect; or empty
  cards::Issuer issuer;       // of the pan
  std::string target_binding;  // instead of a pan
  std::int64_t session_timeout_ms = 1'200'000;
  CardOrder order;  // the partner's fields (client, description, urls, params, source_binding)
};

struct CardPayoutResult {
  Error error = Error::kNone;
  std::string detail;
  store::PayoutRecord payout;
  CardOrder order;
  bool fresh = false;         // this command sent the payout to the rail (not a replay)
  bool notified = false;      // the batch wrote an outbox message about it
  bool rail_timeout = false;  // the rail's first answer did not come in time
};
using CardPayoutCallback = std::function<void(CardPayoutResult)>;

// A partner's corporate card: a debit tool, funding payouts from its own account.
struct CorporateCard {
  std::string binding_id, masked_pan, holder, expiry;
  bool primary = false;
  ledger::Account account;
};

// Adding a corporate card (the cabinet's "My cards"): a one-time code goes by SMS to the card's
// phone; the right code has the rail verify the card (a minimal debit, returned at once); an
// approved card becomes a debit binding with its own funding account.
struct Enrolment {
  std::string id;
  std::string state;  // "code-sent", "verifying", "bound", "declined"
  std::string card_id, masked_pan, holder, expiry, phone;
  std::string binding_id;  // bound: the new card's
  std::string reason;      // declined: why
  std::string code_hash;   // Vault::code_mac of the SMS's code
  std::int64_t code_expires_ms = 0, created_ms = 0;
  int attempts = 0;
};

struct EnrolmentResult {
  Error error = Error::kNone;
  std::string detail;  // kInvalid: "wrong-code", "code-expired", "not-open", "already-added"
  Enrolment enrolment;
};
using EnrolmentCallback = std::function<void(EnrolmentResult)>;

// A card as the page or a dialect confirms it.
struct CardEntry {
  std::string pan;
  cards::Issuer issuer;
  std::string cardholder;
};

// A dialect's notifications about its payouts: called inside the batch that changed a payout,
// with its new state; what it returns goes to the outbox in that same batch (once per event id).
// Must be quick and must not block: it runs on the committer thread.
using CardNotifier = std::function<std::vector<store::OutboxMessage>(
    const store::PayoutRecord& payout, const CardOrder& order, std::int64_t now_ms)>;

struct CardEngineOptions {
  std::int64_t reconcile_first_ms = 1000;  // the first status request after kUnknown/processing
  std::int64_t reconcile_max_ms = 60'000;  // the backoff's ceiling
  std::int64_t resend_after_ms = 10'000;   // a credit not answered this long is sent again
  std::int64_t waiter_timeout_ms = 30'000;  // a request waiting for the rail's first answer
  std::int64_t code_lifetime_ms = 5 * 60'000;  // a verification code's life
  int code_attempts_max = 3;                   // wrong entries before a new code is needed
  int codes_max = 5;                           // codes one order may send
};

class CardPayouts {
 public:
  CardPayouts(PayoutEngine& engine, const store::Store& store, const Clock& clock,
              cards::Vault& vault, const cards::BinTable& bins, rails::CardRail& rail,
              CardEngineOptions options = {});
  ~CardPayouts();

  // Opens the vault with the data key stored in the database (creating it on first start).
  // Returns an empty string, or why the vault cannot open.
  std::string open_vault();
  // Resumes every card payout that is not final, and starts the timers.
  void start();
  void stop();

  void set_limits(std::string tenant, CardLimits limits);
  // Notifications for the tenants whose name starts with `tenant_prefix` (e.g. "ecommpay:").
  void set_notifier(std::string tenant_prefix, CardNotifier notifier);
  // Called after a batch that wrote outbox messages is durable (the dispatcher's wake-up).
  void on_outbox(std::function<void()> wake);
  const cards::BinTable& bins() const { return bins_; }
  std::string_view rail_name() const { return rail_.name(); }
  PayoutEngine& engine() { return engine_; }

  // Registers (hosted) or performs a payout. Answers once the outcome is durable and, for a
  // payout sent to the rail, once the rail's first answer is (or after waiter_timeout_ms).
  void submit(CardPayoutRequest request, CardPayoutCallback done);
  // The hosted page's confirmation of a registered order with a card.
  void confirm(std::string tenant, std::string partner_id, CardEntry card,
               CardPayoutCallback done);

  // Confirmation by code. request_code attaches the card to a registered order (sealed, nothing
  // reserved) and sends a new code through the tenant's notifier; confirm_code checks it and,
  // when right, confirms the order with that card (as confirm() does). Refusals are kInvalid
  // with detail "no-code", "code-expired", "wrong-code", "too-many-codes", "not-open", "no-card"
  // (neither a card nor a saved one, and none attached before) or "unknown-card" (a saved card
  // that is not the client's).
  struct CodeAsk {
    CardEntry card;     // a new card; or
    std::string saved;  // one of the client's recipient bindings; neither: the card attached before
    bool save = false;  // bind the new card to the client
    bool send = true;   // false: only attach the card (the page asks for more before the code)
    std::optional<std::string> parties;  // replaces the order's parties (CardOrder::parties)
  };
  void request_code(std::string tenant, std::string partner_id, CodeAsk ask,
                    CardPayoutCallback done);
  // Declines a registered order at once with the dialect's `decline_code` (e.g. a program's
  // requirement the payout does not meet); nothing was reserved. kInvalid "not-open" when the
  // order is no longer registered.
  void refuse(std::string tenant, std::string partner_id, std::string decline_code,
              CardPayoutCallback done);

  struct SavedCard {
    std::string binding_id, masked_pan, scheme, country;
  };
  // The client's recipient bindings (saved cards), oldest card id first.
  std::vector<SavedCard> saved_cards(std::string_view tenant, std::string_view client_id) const;
  void confirm_code(std::string tenant, std::string partner_id, std::string code,
                    CardPayoutCallback done);

  CardPayoutResult get(std::string_view tenant, std::string_view partner_id) const;
  // By the engine's order id: the order and its tenant, when its tenant starts with
  // `tenant_prefix` (a provider's tenants: "bereke:", "ecommpay:"); kNotFound otherwise. Order ids
  // are unique across tenants, so every caller says whose orders it serves: one provider's pages
  // never show another provider's order.
  CardPayoutResult get_by_order_id(std::string_view order_id, std::string_view tenant_prefix,
                                   std::string* tenant) const;

  // Sandbox provisioning: a binding of the tenant to a card (idempotent by binding id).
  // debit: a corporate card, a funding source; else a recipient binding of `client_id`.
  void provision_binding(std::string tenant, std::string binding_id, bool debit,
                         std::string client_id, CardEntry card, AdminCallback done);

  // The funding account of `source_binding` (empty: the transit account), if it exists and the
  // binding is one of the tenant's debit tools.
  std::optional<ledger::Account> funding_account(std::string_view tenant,
                                                 std::string_view source_binding) const;

  // Corporate cards (debit bindings) of the tenant, oldest first, and the one that funds payouts
  // that name no source (empty: none, the transit account does).
  std::vector<CorporateCard> corporate_cards(std::string_view tenant) const;
  std::string primary_card(std::string_view tenant) const;
  // A tenant's setting (kTenantSettings), if set.
  std::optional<std::string> setting(std::string_view tenant, std::string_view name) const;
  void set_setting(std::string tenant, std::string name, std::string value, AdminCallback done);
  // Starts adding a corporate card: seals it, and sends a code by SMS (the outbox, target
  // "sms:<phone>") in the same batch. kIdConflict "already-added" when it is one already.
  void enrol_card(std::string tenant, CardEntry card, std::string expiry, std::string phone,
                  EnrolmentCallback done);
  // Checks the code (three entries, five minutes); when right, the rail verifies the card and an
  // approved card is bound; `opening_minor` (the sandbox's simulated balance of the card) is then
  // credited to its account. `done` runs once the enrolment is bound or declined.
  void confirm_enrolment(std::string tenant, std::string id, std::string code,
                         std::int64_t opening_minor, EnrolmentCallback done);
  std::optional<Enrolment> enrolment(std::string_view tenant, std::string_view id) const;
  // Makes a corporate card the primary one (kNotFound when it is not the tenant's).
  void set_primary_card(std::string tenant, std::string binding_id, AdminCallback done);
  // Deletes a corporate card: it funds nothing from now on (kInvalid "in-use" while payouts in
  // flight hold a reservation on it). Its account and its history stay.
  void remove_card(std::string tenant, std::string binding_id, AdminCallback done);

  // A processing card payout found overdue by the settlement sweep.
  void resume(const store::PayoutRecord& payout);

  struct Shared;

 private:
  void fire(std::int64_t id);
  void examine(std::int64_t payout_id);
  // A card as the request sealed it (its id and ciphertext), before the vault deduplicated it.
  struct Sealed {
    std::string card_id, blob;
  };
  void dispatch(const store::PayoutRecord& payout, const CardOrder& order,
                const Sealed* sealed = nullptr);
  void answered(std::int64_t payout_id, rails::Answer answer);
  void after_change(const CardPayoutResult& result);
  void wait_for_rail(const store::PayoutRecord& payout, CardPayoutCallback done);
  void notify(const CardPayoutResult& result);
  void verify_enrolment(std::string tenant, Enrolment e, std::int64_t opening_minor, EnrolmentCallback done);
  void expire_waiters();
  std::optional<std::string> card_pan(std::string_view tenant, std::string_view card_id) const;

  PayoutEngine& engine_;
  const store::Store& store_;
  const Clock& clock_;
  cards::Vault& vault_;
  const cards::BinTable& bins_;
  rails::CardRail& rail_;
  CardEngineOptions options_;
  std::unique_ptr<Shared> shared_;  // limits, notifiers and waiting requests, under one mutex
  std::function<bool(store::WriteTxn&, const store::PayoutRecord&, const CardOrder&, std::int64_t)>
      notify_;
  Scheduler scheduler_;
};

// The JSON form of an order (its record), and back; nullopt for a damaged record.
std::string order_to_json(const CardOrder& order);
std::optional<CardOrder> order_from_json(std::string_view text);

}  // namespace payoutd::engine
