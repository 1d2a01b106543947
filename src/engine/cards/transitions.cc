#include "engine/cards/transitions.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "core/secrets.h"

namespace payoutd::engine::transitions {

using store::PayoutStatus;

namespace {

// The event changes nothing; `refusal` (if any) is the command's answer.
Step kept(OrderState s, OrderError refusal = OrderError::kNone) {
  Step step;
  step.state = std::move(s);
  step.refusal = refusal;
  return step;
}

Step changed(OrderState s, Write write = Write::kPayoutAndOrder) {
  Step step;
  step.state = std::move(s);
  step.write = write;
  return step;
}

// The order goes on with its card: bound if it saves cards, and reserved.
Step to_reserve(OrderState s) {
  Step step = kept(std::move(s));
  step.move = Move::kReserve;
  return step;
}

bool registered(const OrderState& s) {
  return s.order.stage == OrderStage::kRegistered && s.payout.status == PayoutStatus::kProcessing;
}

bool session_over(const OrderState& s, std::int64_t now_ms) { return now_ms >= s.order.expires_ms; }

// A saved card is the order's client's card to be paid.
bool clients_card(const SavedCard& saved, const CardOrder& o) {
  return saved.binding && saved.binding->recipient_card() &&
         saved.binding->client_id == o.client_id;
}

// The card ask_code attaches; false when the saved card is not the client's.
bool attach(CardOrder& o, const CodeRequest& ask, Step& step) {
  switch (ask.card) {
    case CodeRequest::Card::kSaved:
      if (!clients_card(ask.saved, o)) return false;
      take_saved(o, ask.saved);
      o.save_card = true;
      break;
    case CodeRequest::Card::kNew:
      take_card(o, ask.facts);
      o.target_binding.clear();
      o.save_card = ask.save;
      step.vault_card = true;
      break;
    case CodeRequest::Card::kAttached:
      break;
  }
  return true;
}

}  // namespace

void take_card(CardOrder& o, const CardFacts& card) {
  o.card_id = card.card_id;
  o.masked_pan = card.masked_pan;
  o.scheme = card.scheme;
  o.country = card.country;
  o.cardholder = card.cardholder;
}

void take_saved(CardOrder& o, const SavedCard& saved) {
  PAYOUTD_ASSERT(saved.binding.has_value(), "a saved card taken exists");
  o.card_id = saved.binding->card_id;
  o.masked_pan = saved.binding->masked;
  o.scheme = saved.scheme;
  o.country = saved.country;
  o.target_binding = saved.id;
}

// --- a new order ----------------------------------------------------------------------------

Step open(OrderState s, const Opening& how, std::int64_t now_ms) {
  PAYOUTD_ASSERT(registered(s) && s.payout.pending_transfer_id == 0, "a new order is open");
  if (!how.refuse_code.empty()) return decline(std::move(s), how.refuse_code, now_ms);
  if (!how.hosted) return to_reserve(std::move(s));
  s.order.stage = OrderStage::kRegistered;
  s.order.expires_ms = now_ms + how.session_timeout_ms;
  s.payout.due_ms = s.order.expires_ms;
  return changed(std::move(s));
}

// --- the reservation ------------------------------------------------------------------------

Step reserved(OrderState s, std::int64_t transfer_id, const rails::Route& route,
              std::int64_t resend_after_ms, std::int64_t now_ms) {
  PAYOUTD_ASSERT(registered(s) && s.payout.pending_transfer_id == 0,
                 "only an open order without a reservation is reserved");
  PAYOUTD_ASSERT(!route.rail.empty(), "a reserved order has a rail");
  s.order.rail = route.rail;
  s.order.rail_fallback = route.fallback;
  s.order.rail_sends = 1;
  s.payout.pending_transfer_id = transfer_id;
  s.payout.updated_ms = now_ms;
  s.payout.due_ms = now_ms + resend_after_ms;
  s.order.stage = OrderStage::kSending;
  Step step = changed(std::move(s));
  step.send = true;
  return step;
}

Step decline(OrderState s, std::string_view decline_code, std::int64_t now_ms) {
  PAYOUTD_ASSERT(s.payout.status == PayoutStatus::kProcessing, "only an open payout is declined");
  s.payout.status = PayoutStatus::kDeclined;
  s.payout.decline_code = std::string(decline_code);
  s.payout.updated_ms = now_ms;
  s.payout.due_ms = 0;
  s.order.stage = OrderStage::kFinal;
  return changed(std::move(s));
}

std::string_view reservation_decline(ledger::TransferResult refused) {
  return refused == ledger::TransferResult::kOverflow ? kDeclineLimitExceeded
                                                      : kDeclineInsufficientFunds;
}

bool counts_credits(const CardLimits& limits) {
  return limits.total_max > 0 || limits.count_max > 0;
}

std::string_view count_credit(Usage& usage, const CardLimits& limits, std::string_view order_id,
                              std::int64_t amount, std::int64_t now_ms) {
  if (limits.single_max > 0 && amount > limits.single_max) return kDeclineCardSingle;
  if (!counts_credits(limits)) return {};
  std::vector<Usage::Credit> recent = usage.credits;
  std::erase_if(recent,
                [&](const Usage::Credit& c) { return c.at_ms <= now_ms - limits.window_ms; });
  std::int64_t total = 0;
  for (const Usage::Credit& c : recent) total += c.amount;
  if (limits.count_max > 0 && static_cast<int>(recent.size()) >= limits.count_max) {
    return kDeclineCardCount;
  }
  if (limits.total_max > 0 && total + amount > limits.total_max) return kDeclineCardTotal;
  recent.push_back({std::string(order_id), now_ms, amount});
  usage.credits = std::move(recent);
  return {};
}

void forget_credit(Usage& usage, std::string_view order_id) {
  std::erase_if(usage.credits, [&](const Usage::Credit& c) { return c.order_id == order_id; });
}

// --- the rail's answers ---------------------------------------------------------------------

std::int64_t backoff_ms(const CardEngineOptions& options, int checks) {
  std::int64_t wait = options.reconcile_first_ms;
  for (int i = 0; i < checks && wait < options.reconcile_max_ms; ++i) wait *= 2;
  return std::min(wait, options.reconcile_max_ms);
}

namespace {

constexpr std::string_view kNotSentState = "not-sent";

// The order leaves the state a kNotSent answer left it in: its credit went out this time.
void sent(CardOrder& o) {
  if (o.rail_state != kNotSentState) return;
  o.rail_state.clear();
  o.rail_code.clear();
  o.rail_text.clear();
}

// kNotSent: the request never reached the network. A credit the order was sending goes again
// after a backoff that grows with each refused send (never at once: the network may be down for
// long). The reservation stands: nothing was declined, and nothing is unknown to ask about.
// The order leaves its rail for its fallback (the rail certainly has not taken the credit,
// `why`): the rail left is recorded, and the credit goes to the fallback at once.
Step fall_back(OrderState s, std::string_view why, const rails::Answer& a,
               const CardEngineOptions& options, std::int64_t now_ms) {
  CardOrder& o = s.order;
  o.rail_attempts.push_back({o.rail, std::string(why), a.code, a.text, now_ms});
  o.rail = std::exchange(o.rail_fallback, std::string());
  o.rail_sends = 1;
  o.rail_not_sent = 0;
  o.rail_checks = 0;
  o.rail_state.clear();
  o.rail_code.clear();
  o.rail_text.clear();
  o.stage = OrderStage::kSending;
  s.payout.due_ms = now_ms + options.resend_after_ms;
  s.payout.updated_ms = now_ms;
  Step step = changed(std::move(s));
  step.send = true;
  return step;
}

Step not_sent(OrderState s, const rails::Answer& a, bool status_check,
              const CardEngineOptions& options, std::int64_t now_ms) {
  CardOrder& o = s.order;
  // A send overtaken by one that may have reached the network (the order awaits its outcome)
  // tells nothing; so does a status request for an order no longer awaiting.
  if (o.stage != (status_check ? OrderStage::kAwaiting : OrderStage::kSending)) {
    return kept(std::move(s));
  }
  // Every send to the rail that may have been made was refused before it left: the rail has
  // nothing, so the fallback cannot pay twice. (rail_sends is 0 on orders stored before it was
  // counted: never a fallback for those.)
  if (!status_check && !o.rail_fallback.empty() && o.rail_sends > 0 &&
      o.rail_not_sent + 1 >= o.rail_sends) {
    return fall_back(std::move(s), kNotSentState, a, options, now_ms);
  }
  if (status_check) {
    s.payout.due_ms = now_ms + backoff_ms(options, o.rail_checks);  // asked again later
  } else {
    s.payout.due_ms = now_ms + backoff_ms(options, o.rail_not_sent);
    ++o.rail_not_sent;
    o.rail_state = kNotSentState;
    o.rail_code = a.code;
    o.rail_text = a.text;
  }
  s.payout.updated_ms = now_ms;
  return changed(std::move(s));
}

}  // namespace

bool waits_to_send(const OrderState& s, std::int64_t now_ms) {
  return s.order.stage == OrderStage::kSending && s.order.rail_state == kNotSentState &&
         now_ms < s.payout.due_ms;
}

Step resend(OrderState s, std::int64_t now_ms) {
  const bool sending =
      s.payout.status == PayoutStatus::kProcessing && s.order.stage == OrderStage::kSending;
  if (!sending || waits_to_send(s, now_ms)) return kept(std::move(s));
  ++s.order.rail_sends;
  Step step = changed(std::move(s), Write::kOrder);
  step.send = true;
  return step;
}

Step answer(OrderState s, const rails::Answer& a, bool status_check,
            const CardEngineOptions& options, std::int64_t now_ms) {
  CardOrder& o = s.order;
  const bool with_rail = o.stage == OrderStage::kSending || o.stage == OrderStage::kAwaiting;
  if (s.payout.status != PayoutStatus::kProcessing || !with_rail) {
    return kept(std::move(s), OrderError::kNotOpen);
  }
  PAYOUTD_ASSERT(s.payout.pending_transfer_id != 0, "an order with the rail holds a reservation");
  if (status_check) ++o.rail_checks;
  if (a.outcome != rails::Outcome::kNotSent) sent(o);
  Step step;
  switch (a.outcome) {
    case rails::Outcome::kApproved:
    case rails::Outcome::kDeclined:
      o.approval = a.approval;
      o.rail_code = a.code;
      o.rail_text = a.text;
      o.operation_ms = a.at_ms ? a.at_ms : now_ms;
      o.rail_state.clear();
      if (a.outcome == rails::Outcome::kDeclined) {
        step = decline(std::move(s), kDeclineCardDeclined, now_ms);
        step.move = Move::kVoid;
        return step;
      }
      s.payout.status = PayoutStatus::kSuccess;
      s.payout.due_ms = 0;
      o.stage = OrderStage::kFinal;
      step.move = Move::kPost;
      break;
    case rails::Outcome::kProcessing:
      o.stage = OrderStage::kAwaiting;
      o.rail_state = "processing";
      s.payout.due_ms = now_ms + backoff_ms(options, o.rail_checks);
      break;
    case rails::Outcome::kUnknown:
      o.stage = OrderStage::kAwaiting;
      if (o.rail_state.empty()) o.rail_state = "unknown";
      step.rail_timeout = !status_check;
      s.payout.due_ms = now_ms + backoff_ms(options, o.rail_checks);
      break;
    case rails::Outcome::kNotFound:
      // The network never received it: its fallback, or the same rail again (same reference),
      // at once.
      if (!o.rail_fallback.empty()) return fall_back(std::move(s), "not-found", a, options, now_ms);
      o.stage = OrderStage::kSending;
      ++o.rail_sends;
      s.payout.due_ms = now_ms + options.resend_after_ms;
      step.send = true;
      break;
    case rails::Outcome::kNotSent:
      return not_sent(std::move(s), a, status_check, options, now_ms);
  }
  s.payout.updated_ms = now_ms;
  step.state = std::move(s);
  step.write = Write::kPayoutAndOrder;
  return step;
}

// --- the hosted page ------------------------------------------------------------------------

Step expire(OrderState s, std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (!session_over(s, now_ms)) return kept(std::move(s));
  return decline(std::move(s), kDeclineExpired, now_ms);
}

Step confirm_card(OrderState s, const CardFacts& card, std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (session_over(s, now_ms)) return decline(std::move(s), kDeclineExpired, now_ms);
  take_card(s.order, card);
  Step step = to_reserve(std::move(s));
  step.vault_card = true;
  return step;
}

Step confirm_saved(OrderState s, const SavedCard& saved, std::string_view cardholder,
                   std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (session_over(s, now_ms)) return decline(std::move(s), kDeclineExpired, now_ms);
  if (!clients_card(saved, s.order)) return kept(std::move(s), OrderError::kUnknownCard);
  take_saved(s.order, saved);
  s.order.cardholder = cardholder;
  return to_reserve(std::move(s));
}

Step ask_code(OrderState s, const CodeRequest& ask, const CardEngineOptions& options,
              std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (session_over(s, now_ms)) return decline(std::move(s), kDeclineExpired, now_ms);
  if (ask.send && s.order.codes_sent >= options.codes_max) {
    return kept(std::move(s), OrderError::kTooManyCodes);
  }
  Step step;
  CardOrder o = s.order;
  if (!attach(o, ask, step)) return kept(std::move(s), OrderError::kUnknownCard);
  if (o.card_id.empty()) return kept(std::move(s), OrderError::kNoCard);
  if (ask.parties) o.parties = *ask.parties;
  o.code_hash.clear();
  if (ask.send) {
    o.code_hash = ask.code_mac;
    o.code_expires_ms = std::min(now_ms + options.code_lifetime_ms, o.expires_ms);
    o.code_attempts = 0;
    ++o.codes_sent;
    o.code_plain = ask.code;
  }
  s.order = std::move(o);
  step.state = std::move(s);
  step.write = Write::kPayoutAndOrder;
  return step;
}

Step enter_code(OrderState s, std::string_view code_mac, const CardEngineOptions& options,
                std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (session_over(s, now_ms)) return decline(std::move(s), kDeclineExpired, now_ms);
  CardOrder& o = s.order;
  if (o.code_hash.empty() || o.card_id.empty()) return kept(std::move(s), OrderError::kNoCode);
  Step step;
  if (now_ms >= o.code_expires_ms) {
    o.code_hash.clear();
    step = changed(std::move(s), Write::kOrder);
    step.refusal = OrderError::kCodeExpired;
    return step;
  }
  if (!secrets_equal(code_mac, o.code_hash)) {
    if (++o.code_attempts >= options.code_attempts_max) o.code_hash.clear();
    step = changed(std::move(s), Write::kOrder);
    step.refusal = OrderError::kWrongCode;
    return step;
  }
  o.code_hash.clear();
  return to_reserve(std::move(s));
}

Step refuse(OrderState s, std::string_view decline_code, std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  const bool over = session_over(s, now_ms);
  Step step = decline(std::move(s), over ? kDeclineExpired : decline_code, now_ms);
  step.state.order.code_hash.clear();
  return step;
}

Step describe(OrderState s, std::string_view description, std::int64_t now_ms) {
  if (!registered(s)) return kept(std::move(s), OrderError::kNotOpen);
  if (session_over(s, now_ms)) return decline(std::move(s), kDeclineExpired, now_ms);
  if (s.order.description == description) return kept(std::move(s));
  s.order.description = std::string(description);
  return changed(std::move(s), Write::kOrder);
}

// --- enrolment of a corporate card ----------------------------------------------------------

Enrolment start_enrolment(std::string id, const CardFacts& card, std::string expiry,
                          std::string phone, std::string code_mac, std::int64_t now_ms) {
  Enrolment e;
  e.id = std::move(id);
  e.state = EnrolmentState::kCodeSent;
  e.card_id = card.card_id;
  e.masked_pan = card.masked_pan;
  e.holder = card.cardholder;
  e.expiry = std::move(expiry);
  e.phone = std::move(phone);
  e.code_hash = std::move(code_mac);
  e.code_expires_ms = now_ms + kEnrolmentCodeLifeMs;
  e.created_ms = now_ms;
  return e;
}

EnrolmentStep enter_enrolment_code(Enrolment e, std::string_view code_mac, std::int64_t now_ms) {
  if (e.state != EnrolmentState::kCodeSent || e.code_hash.empty()) {
    return {std::move(e), EnrolmentError::kNotOpen, false};
  }
  if (now_ms >= e.code_expires_ms) {
    e.state = EnrolmentState::kDeclined;
    e.reason = "code-expired";
    e.code_hash.clear();
    return {std::move(e), EnrolmentError::kCodeExpired, true};
  }
  if (!secrets_equal(code_mac, e.code_hash)) {
    if (++e.attempts >= kEnrolmentAttemptsMax) {
      e.state = EnrolmentState::kDeclined;
      e.reason = "wrong-code";
      e.code_hash.clear();
    }
    return {std::move(e), EnrolmentError::kWrongCode, true};
  }
  e.state = EnrolmentState::kVerifying;
  e.code_hash.clear();
  return {std::move(e), EnrolmentError::kNone, true};
}

EnrolmentStep verified(Enrolment e, const rails::Answer& answer, std::string binding_id) {
  if (e.state != EnrolmentState::kVerifying) return {std::move(e), EnrolmentError::kNone, false};
  switch (answer.outcome) {
    case rails::Outcome::kApproved:
      e.state = EnrolmentState::kBound;
      e.binding_id = std::move(binding_id);
      break;
    case rails::Outcome::kDeclined:
      e.state = EnrolmentState::kDeclined;
      e.reason = "declined " + answer.code;
      break;
    default:
      e.state = EnrolmentState::kDeclined;
      e.reason = "no-answer";
      break;
  }
  return {std::move(e), EnrolmentError::kNone, true};
}

}  // namespace payoutd::engine::transitions
