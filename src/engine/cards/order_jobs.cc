#include "engine/cards/order_jobs.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "core/assert.h"
#include "core/ids.h"
#include "engine/postings.h"

namespace payoutd::engine::card_jobs {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferKind;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::WriteTxn;
using transitions::Move;
using transitions::OrderState;
using transitions::Step;
using transitions::Write;

namespace {

CardPayoutResult stored(WriteTxn& txn, PayoutRecord p) {
  CardPayoutResult r;
  if (auto order = txn.find_record(p.tenant, kOrderRecord, p.partner_id)) {
    if (auto parsed = order_from_json(*order)) r.order = std::move(*parsed);
  }
  r.payout = std::move(p);
  return r;
}

// Stores what a step changed and tells the payout's dialect; the command's answer.
CardPayoutResult finish(WriteTxn& txn, Step step, const Notify& notify, std::int64_t now_ms) {
  CardPayoutResult r;
  r.error = step.refusal;
  r.rail_timeout = step.rail_timeout;
  r.fresh = step.send;
  r.payout = std::move(step.state.payout);
  r.order = std::move(step.state.order);
  if (step.write == Write::kPayoutAndOrder) txn.update_payout(r.payout);
  if (step.write != Write::kNothing) {
    txn.update_record(r.payout.tenant, kOrderRecord, r.payout.partner_id, order_to_json(r.order));
  }
  if (step.write == Write::kPayoutAndOrder) {
    r.notified = notify(txn, r.payout, r.order, now_ms);
    r.finished = r.payout.status != store::PayoutStatus::kProcessing;
  }
  return r;
}

// The rail the payout goes to (rails::Routing::choose); nullopt: none takes it.
std::optional<rails::Route> route_of(const OrderState& s, const rails::Routing& routing) {
  const PayoutRecord& p = s.payout;
  const std::optional<Tenant> tenant = Tenant::parse(p.tenant);
  if (!tenant) return std::nullopt;
  return routing.choose(*tenant, {s.order.scheme, s.order.country, {p.amount, p.currency}});
}

// Reserves the payout's amount on its funding account: its rail, the card's limits, then the
// ledger.
Step reserve(WriteTxn& txn, OrderState s, const ReserveRules& rules,
             const CardEngineOptions& options, std::int64_t now_ms) {
  PAYOUTD_ASSERT(rules.routing != nullptr, "a job that reserves has the routing");
  const std::optional<rails::Route> route = route_of(s, *rules.routing);
  if (!route) return transitions::decline(std::move(s), kDeclineNoRoute, now_ms);
  const PayoutRecord& p = s.payout;
  Account* funder = txn.account(p.source_account_id);
  Account* rail = txn.account(p.destination_account_id);
  PAYOUTD_ASSERT(funder && rail, "a card payout's accounts exist");
  if (!rules.limits) return transitions::decline(std::move(s), kDeclineLimitsUnknown, now_ms);
  if (const std::string_view limit = use_card(txn, p, s.order, *rules.limits, now_ms);
      !limit.empty()) {
    return transitions::decline(std::move(s), limit, now_ms);
  }
  Transfer t;
  t.debit_account_id = funder->id;
  t.credit_account_id = rail->id;
  t.amount = p.amount;
  t.currency = p.currency;
  t.kind = TransferKind::kPending;
  t.timestamp_ms = now_ms;
  t.reference = transfer_reference(p);
  std::int64_t id = 0;
  const TransferResult moved = engine::move(txn, t, *funder, *rail, nullptr, &id);
  if (moved != TransferResult::kOk) {
    release_card(txn, p, s.order);
    return transitions::decline(std::move(s), transitions::reservation_decline(moved), now_ms);
  }
  return transitions::reserved(std::move(s), id, *route, options.resend_after_ms, now_ms);
}

// Posts (Move::kPost) or voids (Move::kVoid) the payout's reservation.
void settle(WriteTxn& txn, const Step& step, std::int64_t now_ms) {
  if (step.move != Move::kPost && step.move != Move::kVoid) return;
  const PayoutRecord& p = step.state.payout;
  auto pending = txn.find_transfer(p.pending_transfer_id);
  Account* funder = txn.account(p.source_account_id);
  Account* rail = txn.account(p.destination_account_id);
  PAYOUTD_ASSERT(pending && funder && rail, "a card payout's reservation exists");
  Transfer t = *pending;
  t.id = 0;
  t.kind = step.move == Move::kPost ? TransferKind::kPost : TransferKind::kVoid;
  t.pending_id = pending->id;
  t.timestamp_ms = now_ms;
  const TransferResult moved = engine::move(txn, t, *funder, *rail, &*pending, nullptr);
  PAYOUTD_ASSERT(moved == TransferResult::kOk, ledger::to_string(moved));
  if (step.move == Move::kVoid) release_card(txn, p, step.state.order);
}

std::string fingerprint_of(const CardPayoutRequest& r, const SealedCard& card) {
  std::string f = r.hosted ? "hosted" : "direct";
  f.append(1, kFieldSeparator).append(std::to_string(r.amount.minor));
  f.append(1, kFieldSeparator).append(r.amount.currency.code());
  f.append(1, kFieldSeparator).append(card.fingerprint);
  f.append(1, kFieldSeparator).append(r.target_binding);
  f.append(1, kFieldSeparator).append(r.canonical);
  return f;
}

// The stored payout of a replayed request; kNotFound when the order number is new.
CardPayoutResult replayed(WriteTxn& txn, const SubmitInput& in) {
  const CardPayoutRequest& r = in.request;
  auto seen = replay(txn, in.tenant, PayoutKind::kCardPayout, r.partner_id, in.fingerprint);
  if (!seen) return {OrderError::kNotFound};
  if (seen->first == Error::kIdConflict) {
    return {OrderError::kIdConflict, "the order number was already used with a different request"};
  }
  return stored(txn, std::move(seen->second));
}

// The request's funding account, checked; nullptr with the refusal in `refusal` otherwise.
Account* funding(WriteTxn& txn, const SubmitInput& in, CardPayoutResult& refusal) {
  const CardPayoutRequest& r = in.request;
  if (!r.order.source_binding.empty()) {
    auto source = find_binding(txn, in.tenant, r.order.source_binding);
    if (!source || !source->debit_tool()) {
      refusal = {OrderError::kSourceNotFound,
                 "source.bindingId is not a debit tool of the partner"};
      return nullptr;
    }
  }
  Account* funder = txn.find_account(in.tenant, AccountKind::kFunder, in.source_code);
  if (!funder) {
    refusal = {OrderError::kSourceNotFound, "no funding account"};
    return nullptr;
  }
  if (!(funder->currency == r.amount.currency)) {
    refusal = {OrderError::kCurrencyMismatch, "the funding account holds another currency"};
    return nullptr;
  }
  return funder;
}

// The card of the request's target binding on the order; false when it holds no recipient card.
bool take_target(WriteTxn& txn, const SubmitInput& in, CardOrder& o) {
  const CardPayoutRequest& r = in.request;
  if (r.target_binding.empty()) return true;
  const transitions::SavedCard target = find_saved(txn, in.tenant, r.target_binding);
  if (!target.binding || !target.binding->recipient_card()) return false;
  transitions::take_saved(o, target);
  if (o.client_id.empty()) o.client_id = target.binding->client_id;
  return true;
}

PayoutRecord new_payout(const SubmitInput& in, const Account& funder, const Account& rail,
                        std::int64_t now_ms) {
  const CardPayoutRequest& r = in.request;
  PayoutRecord p;
  p.tenant = in.tenant;
  p.kind = PayoutKind::kCardPayout;
  p.partner_id = r.partner_id;
  p.fingerprint = in.fingerprint;
  p.status = store::PayoutStatus::kProcessing;
  p.source_account_id = funder.id;
  p.destination_account_id = rail.id;
  p.amount = r.amount.minor;
  p.currency = r.amount.currency;
  p.source_ref = in.source_code;
  p.destination_ref = "card";
  p.created_ms = p.updated_ms = now_ms;
  return p;
}

// A new order's card: the request's (kept in the vault), and the client's binding to it.
void attach_request_card(WriteTxn& txn, const SubmitInput& in, CardOrder& o, std::int64_t now_ms) {
  const std::string& tenant = in.tenant;
  if (!in.card.empty()) {
    transitions::take_card(o, in.card.facts);
    o.card_id = vault_card(txn, tenant, in.card, now_ms);
  }
  if (o.target_binding.empty() && o.save_card) {
    o.target_binding = recipient_binding(txn, tenant, o, now_ms);
  }
}

}  // namespace

SubmitInput prepare_submit(CardPayoutRequest request, const cards::Vault& vault,
                           ReserveRules rules) {
  SubmitInput in;
  in.tenant = request.tenant.key();
  in.card = seal_card(vault, in.tenant, request.pan, request.issuer, request.order.cardholder);
  in.fingerprint = fingerprint_of(request, in.card);
  in.source_code = !request.order.source_binding.empty() ? request.order.source_binding
                   : request.funding_code.empty()        ? std::string(kTransitAccount)
                                                         : request.funding_code;
  in.rules = rules;
  in.request = std::move(request);
  return in;
}

CardPayoutResult apply_submit(WriteTxn& txn, const SubmitInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms) {
  const CardPayoutRequest& r = in.request;
  if (CardPayoutResult seen = replayed(txn, in); seen.error != OrderError::kNotFound) return seen;
  CardPayoutResult refusal;
  Account* funder = funding(txn, in, refusal);
  if (!funder) return refusal;
  CardOrder o = r.order;
  if (!take_target(txn, in, o)) {
    return {OrderError::kDestinationNotFound, "no card data for target.bindingId"};
  }
  Account* rail = system_account(txn, in.tenant, "card-rail", r.amount.currency, now_ms);
  OrderState s{new_payout(in, *funder, *rail, now_ms), std::move(o)};
  s.payout.id = txn.insert_payout_if_new(s.payout);
  if (s.payout.id == 0) return replayed(txn, in);  // another node's batch took the id first
  s.order.order_id = new_uuid();
  attach_request_card(txn, in, s.order, now_ms);
  Step step =
      transitions::open(std::move(s), {r.refuse_code, r.hosted, r.session_timeout_ms}, now_ms);
  CardPayoutResult result;
  if (step.move == Move::kReserve) {
    step = reserve(txn, std::move(step.state), in.rules, options, now_ms);
    result.fresh = step.send;
  }
  const OrderState& done = step.state;
  txn.update_payout(done.payout);
  txn.insert_record(in.tenant, kOrderRecord, r.partner_id, order_to_json(done.order));
  txn.insert_record("", kOrderIdIndex, done.order.order_id,
                    in.tenant + kFieldSeparator + r.partner_id);
  result.notified = notify(txn, done.payout, done.order, now_ms);
  result.finished = done.payout.status != store::PayoutStatus::kProcessing;  // declined at once
  result.payout = std::move(step.state.payout);
  result.order = std::move(step.state.order);
  return result;
}

CardPayoutResult apply_answer(WriteTxn& txn, const AnswerInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms) {
  auto found = txn.find_payout_by_id(in.payout_id);
  if (!found) return {OrderError::kNotFound, "no such payout"};
  CardPayoutResult current = stored(txn, std::move(*found));
  if (current.order.rail != in.rail) {
    // Only a call made before the order left that rail: by the fallback's rule, it has not taken
    // the credit, so whatever it says now is logged for the operator and changes nothing.
    spdlog::error("card payout {}: rail {} answered {} after the order moved to {}", in.payout_id,
                  in.rail, rails::to_string(in.answer.outcome), current.order.rail);
    return current;
  }
  Step step = transitions::answer(state_of(current), in.answer, in.status_check, options, now_ms);
  if (step.refusal != OrderError::kNone) return current;  // answered already
  settle(txn, step, now_ms);
  return finish(txn, std::move(step), notify, now_ms);
}

CardPayoutResult apply_examine(WriteTxn& txn, std::int64_t payout_id, const Notify& notify,
                               std::int64_t now_ms) {
  auto found = txn.find_payout_by_id(payout_id);
  if (!found) return {OrderError::kNotFound, "no such payout"};
  CardPayoutResult current = stored(txn, std::move(*found));
  Step step = transitions::expire(state_of(current), now_ms);
  if (step.write == Write::kNothing) step = transitions::resend(std::move(step.state), now_ms);
  if (step.write == Write::kNothing) return current;
  return finish(txn, std::move(step), notify, now_ms);
}

CardPayoutResult load_order(WriteTxn& txn, const std::string& tenant,
                            const std::string& partner_id) {
  auto found = txn.find_payout(tenant, PayoutKind::kCardPayout, partner_id);
  if (!found) return {OrderError::kNotFound, "no such order"};
  return stored(txn, std::move(*found));
}

OrderState state_of(const CardPayoutResult& r) { return {r.payout, r.order}; }

CardPayoutResult carry_out(WriteTxn& txn, Step step, const SealedCard* card,
                           const ReserveRules& rules, const CardEngineOptions& options,
                           const Notify& notify, std::int64_t now_ms) {
  if (step.vault_card) {
    PAYOUTD_ASSERT(card != nullptr, "a step that takes a new card has one");
    step.state.order.card_id = vault_card(txn, step.state.payout.tenant, *card, now_ms);
  }
  if (step.move == Move::kReserve) {
    OrderState& s = step.state;
    if (s.order.target_binding.empty() && s.order.save_card) {
      s.order.target_binding = recipient_binding(txn, s.payout.tenant, s.order, now_ms);
    }
    step = reserve(txn, std::move(s), rules, options, now_ms);
  }
  return finish(txn, std::move(step), notify, now_ms);
}

}  // namespace payoutd::engine::card_jobs
