#pragma once
// The card engine's vocabulary for orders: a card payout's order as the dialects see it, the
// per-card limits, the engine's options, and what an order command answers (card_payouts.h).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cards/card.h"
#include "core/tenant.h"
#include "engine/payouts.h"
#include "rails/rail.h"

namespace payoutd::engine {

// The account every funding source of a tenant is, by code: the transit account, or a corporate
// card's account, whose code is its binding id.
inline constexpr std::string_view kTransitAccount = "transit";

inline constexpr std::string_view kDeclineExpired = "EXPIRED";
inline constexpr std::string_view kDeclineCardDeclined = "CARD_DECLINED";
// No rail takes the tenant's payouts to this card (its scheme, country, currency or amount):
// declined before anything was reserved.
inline constexpr std::string_view kDeclineNoRoute = "NO_ROUTE";
// The per-card limit a payout would exceed: one payout's amount, the card's total, or its count of
// credits within the window.
inline constexpr std::string_view kDeclineCardSingle = "CARD_LIMIT_SINGLE";
inline constexpr std::string_view kDeclineCardTotal = "CARD_LIMIT_TOTAL";
inline constexpr std::string_view kDeclineCardCount = "CARD_LIMIT_COUNT";
// The tenant's per-card limits could not be read (its settings do not decode on this node): the
// payout is declined before anything is reserved, never paid without its limits.
inline constexpr std::string_view kDeclineLimitsUnknown = "LIMITS_UNKNOWN";

// Any per-card limit, including the single code earlier releases stored ("CARD_LIMIT_EXCEEDED").
inline bool is_card_limit(std::string_view decline_code) {
  return decline_code == kDeclineCardSingle || decline_code == kDeclineCardTotal ||
         decline_code == kDeclineCardCount || decline_code == "CARD_LIMIT_EXCEEDED";
}

// Stored as its number (CardOrder's record): the values never change.
enum class OrderStage : std::uint8_t {
  kRegistered = 0,  // waits for its card on the hosted page; nothing reserved
  kSending = 1,     // reserved; the credit is being sent to the rail
  kAwaiting = 2,    // the rail said processing, or did not answer in time: ask its status
  kFinal = 3,       // success or declined
};

// Per-card limits of a tenant (0: no limit). Checked when a payout reserves its amount, against
// the card's credits of the last window that did not fail.
struct CardLimits {
  std::int64_t single_max = 0;  // minor units of one payout
  std::int64_t total_max = 0;   // minor units per card per window
  int count_max = 0;            // credits per card per window
  std::int64_t window_ms = 24 * 3600 * 1000;
};

// A rail an order left for its fallback, and why: "not-sent" (every send to it was answered
// kNotSent) or "not-found" (its status query found no credit under the reference).
struct RailAttempt {
  std::string rail, result, code, text;
  std::int64_t at_ms = 0;
  friend bool operator==(const RailAttempt&, const RailAttempt&) = default;
};

// A card payout's order: what the partner sent, and what the rail answered.
struct CardOrder {
  std::string order_id;  // UUID, the engine's id of the order (and the rail reference)
  OrderStage stage = OrderStage::kRegistered;
  std::string card_id;  // vault id; empty until a card is known
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
  // Who pays whom, set by the dialect when it creates the order: a business paying a person
  // (every order stored before programs were recorded) or a person sending to a person.
  rails::Program program = rails::Program::kDisbursement;
  std::string callback_url;  // where the payout's notifications go (dialects with callbacks)
  std::string client_ip;     // the recipient's IP address, as the partner gave it
  // The id of the partner's request that created the order (X-Request-Id): every notification
  // of the payout carries it (store::OutboxMessage::request_id). Empty for older orders.
  std::string request_id;
  // Confirmation by a code sent to the customer (ecommpay's Payment Page): the card is attached
  // to the order first, and the order is confirmed with it once the code is entered.
  std::string code_hash;  // Vault::code_mac of the code in force; empty: none
  std::int64_t code_expires_ms = 0;
  int code_attempts = 0;  // wrong entries of the code in force
  int codes_sent = 0;
  // Only in the batch that made it, for its notification, which must then be sealed
  // (OutboxMessage::sealed): never stored in clear.
  std::string code_plain;
  bool save_card = true;  // bind the card to the client (a recipient binding)
  std::int64_t fee = 0;
  std::int64_t expires_ms = 0;  // registered orders: the end of the page's session
  // Why it is awaiting ("processing", "unknown"), or why it is still sending: "not-sent" (the
  // rail answered kNotSent; the credit goes again when the payout is due). "" otherwise.
  std::string rail_state;
  std::string approval;  // rail's retrieval reference number (refNum)
  std::string rail_code, rail_text;
  std::int64_t operation_ms = 0;  // when the rail decided
  int rail_checks = 0;            // status requests so far
  int rail_not_sent = 0;          // credits the rail answered kNotSent: the re-sends' backoff
  // The rail the credit goes to (a rails::RailSet name), chosen in the batch that reserves (an
  // order stored before rails had names reads as rails::kLegacyRail), and the rail it may move
  // to while the first certainly has not taken the credit (empty: none, or used).
  std::string rail, rail_fallback;
  // Sends of the credit to `rail` that may have been made, counted in the batch that decides
  // each one, before it leaves: a fallback needs every one of them answered kNotSent.
  int rail_sends = 0;
  std::vector<RailAttempt> rail_attempts;  // the rails the order left, oldest first
};

// A card as the page or a dialect gives it: the clear number, checked by the dialect.
struct CardEntry {
  std::string pan;
  cards::Issuer issuer;
  std::string cardholder;
};

// The submit command (CardPayouts::submit): a payout to a card, or an order for the hosted page.
struct CardPayoutRequest {
  Tenant tenant;
  std::string partner_id;  // orderNumber
  Amount amount;
  // The dialect's canonical form of the request's other fields (no secrets): with the card's
  // fingerprint, the payout's fingerprint for replays.
  std::string canonical;
  bool hosted = false;         // registerPayout: the card comes later, from the page
  std::string funding_code;    // the funding account when no source binding (default: transit)
  std::string refuse_code;     // registered, then declined at once with this code (e.g. payouts
                               // not enabled for the project): the partner learns it by callback
  std::string pan;             // clear, checked by the dialect; or empty
  cards::Issuer issuer;        // of the pan
  std::string target_binding;  // instead of a pan
  std::int64_t session_timeout_ms = 1'200'000;
  CardOrder order;  // the partner's fields (client, description, urls, params, source_binding)
};

struct CardEngineOptions {
  std::int64_t reconcile_first_ms = 1000;      // the first status request after kUnknown/processing
  std::int64_t reconcile_max_ms = 60'000;      // the backoff's ceiling
  std::int64_t resend_after_ms = 10'000;       // a credit not answered this long is sent again
  std::int64_t waiter_timeout_ms = 30'000;     // a request waiting for the rail's first answer
  std::int64_t code_lifetime_ms = 5 * 60'000;  // a verification code's life
  int code_attempts_max = 3;                   // wrong entries before a new code is needed
  int codes_max = 5;                           // codes one order may send
};

// What an order command did (CardPayoutResult::error); each command in card_payouts.h says which
// of these it answers. Anything but kNone changed nothing, except where a value says otherwise.
enum class OrderError : std::uint8_t {
  kNone,
  kIdConflict,           // submit: the order number was used with another request
  kSourceNotFound,       // submit: no funding account, or a source binding that is not a debit tool
  kDestinationNotFound,  // submit: a target binding that holds no recipient card
  kCurrencyMismatch,     // submit: the funding account holds another currency
  kNotFound,             // no such order
  kNotOpen,              // request_code, refuse: the order is no longer registered
  kNoCode,               // confirm_code: no code in force (none sent, or used up)
  kCodeExpired,          // confirm_code: the code's life is over (it is dropped)
  kWrongCode,            // confirm_code: another code (counted; the last attempt drops the code)
  kTooManyCodes,         // request_code: the order sent every code it may
  kNoCard,               // request_code: neither a card nor a saved one, and none attached before
  kUnknownCard,          // request_code: the saved card is not one of the client's
  kUnavailable,          // overloaded, stopping, or a storage failure: nothing happened, retry
};

struct CardPayoutResult {
  OrderError error = OrderError::kNone;
  std::string detail;  // English, for the error's description (never compared)
  store::PayoutRecord payout;
  CardOrder order;
  bool fresh = false;         // this command's batch decided to send the credit to the order's rail
                              // (a first send, a re-send or a fallback): the engine sends it now
  bool notified = false;      // the batch wrote an outbox message about it
  bool finished = false;      // the batch made the payout final (success or declined)
  bool rail_timeout = false;  // the rail's first answer did not come in time
};

}  // namespace payoutd::engine
