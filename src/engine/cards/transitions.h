#pragma once
// The stage changes of a card payout's order (and of a corporate card's enrolment) as pure
// functions: each takes the record as it stands, an event and the time, and returns the record as
// it must be stored with what the batch must do besides (its effects), or a refusal of the event.
// No store, no clock, no threads: the jobs (order_jobs.h, hosted_jobs.h, corporate_cards.cc) read
// what a transition needs in their batch, call it, and carry out its effects in the same batch.
//
//   stage             event                     next
//   new               open (hosted)             registered: waits for the page's card
//   new               open (direct)             reserve
//   new               open (refused)            final, declined with the dialect's code
//   registered        ask_code                  registered, the card attached (a code sent)
//   registered        confirm_card, enter_code  reserve
//   registered        describe                  registered, with the page's description
//   registered        expire, refuse            final, declined
//   reserve           reserved                  sending: the credit goes to the rail
//   reserve           decline                   final, declined (the card's limits, the funds)
//   sending/awaiting  answer: approved          final, success (post)
//   sending/awaiting  answer: declined          final, declined (void)
//   sending/awaiting  answer: processing, none  awaiting: asked again after a backoff
//   sending/awaiting  answer: never received    sending: sent again with its reference, or
//                                               to its fallback rail (below)
//   sending           resend                    sending, the send counted (rail_sends)
// ("reserve" is no stage: the batch reserves the amount, Move::kReserve, then calls reserved() or
// decline() with the ledger's outcome.)
//
// Invariants a transition relies on (a payout being declined is processing; only an order
// without a reservation is reserved; an order the rail works on holds one) are PAYOUTD_ASSERTs:
// a caller that breaks them is a bug, never an input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/cards/enrolment.h"
#include "engine/cards/order.h"
#include "engine/cards/records.h"
#include "ledger/ledger.h"
#include "rails/rail.h"
#include "rails/routing.h"

namespace payoutd::engine::transitions {

// A card payout as stored: its payout row and its order record.
struct OrderState {
  store::PayoutRecord payout;
  CardOrder order;
};

// What the batch stores after a transition.
enum class Write : std::uint8_t {
  kNothing,         // nothing changed
  kOrder,           // only the order record (a code's attempts): the dialect is not told
  kPayoutAndOrder,  // both, and the payout's dialect is told (CardNotifier)
};

// What the batch asks of the ledger, on the payout's reservation.
enum class Move : std::uint8_t {
  kNone,
  kReserve,  // bind the card to the client if it saves cards, then reserve the amount: the step
             // that follows is reserved() or decline() (write is decided by that step)
  kPost,     // the credit was approved
  kVoid,     // the credit was declined: the card's usage forgets it too (forget_credit)
};

struct Step {
  OrderState state;                        // as it must be stored (as given when write is kNothing)
  OrderError refusal = OrderError::kNone;  // the event is not allowed: the command's answer
  Write write = Write::kNothing;
  Move move = Move::kNone;
  bool vault_card = false;    // the order took the event's new card: keep it in the vault (the
                              // vault's id replaces card_id when it holds the number already)
  bool rail_timeout = false;  // the rail's first answer did not come in time
  bool send = false;          // the credit goes to the order's rail once the batch is durable
                              // (its send counted in rail_sends)
};

// A card as an event brings it to an order: a new card (its id is provisional, see vault_card),
// or the scheme and country of a saved one.
struct CardFacts {
  std::string card_id, masked_pan, scheme, country, cardholder;
};

// The order's card from now on: what it shows of `card`.
void take_card(CardOrder& order, const CardFacts& card);

// A saved card (a recipient binding) as an event names it and its batch finds it.
struct SavedCard {
  std::string id;                  // the binding id the event names
  std::optional<Binding> binding;  // as stored; nullopt: no such binding
  std::string scheme, country;     // of its card in the vault
};
// The order's card from now on: the saved card's, paid through its binding.
// REQUIRES: saved.binding.
void take_saved(CardOrder& order, const SavedCard& saved);

// --- a new order (submit) -------------------------------------------------------------------

struct Opening {
  std::string_view refuse_code;  // declined at once with it (the partner learns it by callback)
  bool hosted = false;           // registered: waits for the hosted page's card
  std::int64_t session_timeout_ms = 0;
};
// REQUIRES: a new order (processing, registered, no reservation).
Step open(OrderState s, const Opening& how, std::int64_t now_ms);

// --- the reservation ------------------------------------------------------------------------

// The reservation is placed (pending transfer `transfer_id`): the credit goes to `route`'s rail
// (its first send counted), and is sent again if no answer comes within `resend_after_ms`.
Step reserved(OrderState s, std::int64_t transfer_id, const rails::Route& route,
              std::int64_t resend_after_ms, std::int64_t now_ms);
// Declined with `decline_code` (a card limit, the funds, the dialect, the rail, the session).
Step decline(OrderState s, std::string_view decline_code, std::int64_t now_ms);
// The decline code of a reservation the ledger refused.
std::string_view reservation_decline(ledger::TransferResult refused);

// Whether the limits count a card's credits (a total or a count): else no usage is kept.
bool counts_credits(const CardLimits& limits);
// Counts a credit of `amount` against the card's limits: the decline code of the limit it would
// exceed (`usage` then unchanged), or empty with the credit added to `usage` and the credits out
// of the window dropped.
std::string_view count_credit(Usage& usage, const CardLimits& limits, std::string_view order_id,
                              std::int64_t amount, std::int64_t now_ms);
// A declined credit no longer counts against the card.
void forget_credit(Usage& usage, std::string_view order_id);

// --- the rail's answers ---------------------------------------------------------------------

// The wait before status request number `checks` + 1: doubling from reconcile_first_ms up to
// reconcile_max_ms.
std::int64_t backoff_ms(const CardEngineOptions& options, int checks);
// The rail's answer to the credit (`status_check` false) or to a status request. Refused
// (kNotOpen) when the order is not with the rail: answered already.
// kNotSent to a credit keeps the order sending, with its reservation, rail_state "not-sent" and
// the answer's code and text, due again after backoff_ms(rail_not_sent) (then counted); it is
// never a decline, and never an unknown outcome to ask status() about. kNotSent to a status
// request asks again after the status backoff. Either, when the order has moved on (a send
// overtaken by another that may have reached the network), changes nothing.
// Fallback: an order with a fallback rail moves to it (the rail left recorded in rail_attempts,
// sending at once, due again after resend_after_ms) only when its rail certainly has not taken
// the credit: kNotSent to a credit when every send to the rail was answered kNotSent
// (rail_not_sent == rail_sends), or kNotFound to a status request. Never after kUnknown or
// kProcessing: that order stays with its rail until the rail's answer is final.
Step answer(OrderState s, const rails::Answer& answer, bool status_check,
            const CardEngineOptions& options, std::int64_t now_ms);
// Whether an order in stage kSending waits out a kNotSent backoff at `now_ms`: it is sent when
// due, not before. Any other sending order is sent at once (its send may have been lost with a
// process).
bool waits_to_send(const OrderState& s, std::int64_t now_ms);
// A sending order about to be sent again (after a restart, a lost answer, or a kNotSent backoff):
// the send is counted (rail_sends; Write::kOrder). Any other order, or one waiting out its
// backoff, is kept (Write::kNothing).
Step resend(OrderState s, std::int64_t now_ms);

// --- the hosted page: events on a registered order ------------------------------------------
// Each refuses kNotOpen when the order is no longer registered, and declines it EXPIRED when its
// session is over (except enter_code's and ask_code's later refusals, which change the order only
// as they say).

// The scheduler's look at a registered order: declined EXPIRED once its session is over;
// nothing before.
Step expire(OrderState s, std::int64_t now_ms);
// The page's card: the order takes it and is reserved (Move::kReserve, vault_card).
Step confirm_card(OrderState s, const CardFacts& card, std::int64_t now_ms);
// The page's choice of one of the client's saved cards, with the cardholder's name as the page
// gave it: the order takes the card and is reserved (Move::kReserve). Refused kUnknownCard, the
// order unchanged, when the binding is not a saved card of the order's client.
Step confirm_saved(OrderState s, const SavedCard& saved, std::string_view cardholder,
                   std::int64_t now_ms);

struct CodeRequest {
  enum class Card : std::uint8_t {
    kAttached,  // none given: the card attached before
    kNew,       // `facts`, kept in the vault (vault_card)
    kSaved,     // one of the client's recipient bindings: `saved`
  };
  Card card = Card::kAttached;
  CardFacts facts;                     // kNew: the card
  SavedCard saved;                     // kSaved: the binding named
  bool save = false;                   // kNew: bind it to the client when the order pays
  bool send = true;                    // false: only attach the card (the page asks for more first)
  std::optional<std::string> parties;  // replaces the order's parties (CardOrder::parties)
  std::string code, code_mac;          // the new code (clear, for its message only) and its MAC
};
// The page's request for a code: the card attached, and (send) a new code in force. Refused
// kTooManyCodes, kUnknownCard (a saved card that is not the client's), kNoCard.
Step ask_code(OrderState s, const CodeRequest& ask, const CardEngineOptions& options,
              std::int64_t now_ms);
// A code entered (its MAC): the right one confirms the order with its card (Move::kReserve).
// Refused kNoCode; kCodeExpired (the code dropped) and kWrongCode (counted; the last attempt
// drops it) change the order record only.
Step enter_code(OrderState s, std::string_view code_mac, const CardEngineOptions& options,
                std::int64_t now_ms);
// The dialect refuses the order (a program's requirement it does not meet): declined with
// `decline_code` (EXPIRED when its session is over), its code dropped.
Step refuse(OrderState s, std::string_view decline_code, std::int64_t now_ms);
// The page describes the payout (ecommpay's payment_description, from the link that opened it):
// the order keeps the description, which the result page, the callbacks and the cabinet show.
// Only the order record is written (Write::kOrder), and nothing when it is the one stored.
Step describe(OrderState s, std::string_view description, std::int64_t now_ms);

// --- enrolment of a corporate card ----------------------------------------------------------

inline constexpr std::int64_t kEnrolmentCodeLifeMs = 5 * 60'000;
inline constexpr int kEnrolmentAttemptsMax = 3;

struct EnrolmentStep {
  Enrolment enrolment;  // as it must be stored
  EnrolmentError refusal = EnrolmentError::kNone;
  bool write = false;
};

// A new enrolment of `card` (its vault id), waiting for the code whose MAC is `code_mac`.
Enrolment start_enrolment(std::string id, const CardFacts& card, std::string expiry,
                          std::string phone, std::string code_mac, std::int64_t now_ms);
// The SMS's code entered: the right one has the card verified (kVerifying). Refused kNotOpen
// (unchanged), kCodeExpired (declined), kWrongCode (counted; the last attempt declines it).
EnrolmentStep enter_enrolment_code(Enrolment e, std::string_view code_mac, std::int64_t now_ms);
// The rail's verification: approved binds the card as `binding_id`; anything else declines it.
// Nothing changes unless it is being verified (a decision made before stands).
EnrolmentStep verified(Enrolment e, const rails::Answer& answer, std::string binding_id);

}  // namespace payoutd::engine::transitions
