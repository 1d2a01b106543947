#include "engine/cards/hosted_jobs.h"

#include <utility>

#include "engine/cards/order_jobs.h"
#include "engine/cards/transitions.h"

namespace payoutd::engine::card_jobs {

using store::WriteTxn;
using transitions::CodeRequest;
using transitions::Step;

namespace {

// The card a code request names, as the batch finds it.
CodeRequest code_request(WriteTxn& txn, const CodeInput& in) {
  CodeRequest ask;
  ask.save = in.save;
  ask.send = in.send;
  ask.parties = in.parties;
  ask.code = in.code;
  ask.code_mac = in.code_mac;
  if (!in.saved.empty()) {
    ask.card = CodeRequest::Card::kSaved;
    ask.saved = find_saved(txn, in.tenant, in.saved);
  } else if (!in.card.empty()) {
    ask.card = CodeRequest::Card::kNew;
    ask.facts = in.card.facts;
  }
  return ask;
}

}  // namespace

CardPayoutResult apply_confirm(WriteTxn& txn, const ConfirmInput& in,
                               const CardEngineOptions& options, const Notify& notify,
                               std::int64_t now_ms) {
  CardPayoutResult current = load_order(txn, in.tenant, in.partner_id);
  if (current.error != OrderError::kNone) return current;
  Step step = in.saved.empty() ? transitions::confirm_card(state_of(current), in.card.facts, now_ms)
                               : transitions::confirm_saved(state_of(current),
                                                            find_saved(txn, in.tenant, in.saved),
                                                            in.cardholder, now_ms);
  if (step.refusal == OrderError::kNotOpen) return current;
  return carry_out(txn, std::move(step), &in.card, in.rules, options, notify, now_ms);
}

CardPayoutResult apply_request_code(WriteTxn& txn, const CodeInput& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms) {
  CardPayoutResult current = load_order(txn, in.tenant, in.partner_id);
  if (current.error != OrderError::kNone) return current;
  Step step = transitions::ask_code(state_of(current), code_request(txn, in), options, now_ms);
  CardPayoutResult r = carry_out(txn, std::move(step), &in.card, {}, options, notify, now_ms);
  r.order.code_plain.clear();  // it was only for the notification, sealed in the batch
  return r;
}

CardPayoutResult apply_confirm_code(WriteTxn& txn, const CodeEntry& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms) {
  CardPayoutResult current = load_order(txn, in.tenant, in.partner_id);
  if (current.error != OrderError::kNone) return current;
  Step step = transitions::enter_code(state_of(current), in.code_mac, options, now_ms);
  if (step.refusal == OrderError::kNotOpen) return current;
  return carry_out(txn, std::move(step), nullptr, in.rules, options, notify, now_ms);
}

CardPayoutResult apply_refuse(WriteTxn& txn, const RefuseInput& in, const Notify& notify,
                              std::int64_t now_ms) {
  CardPayoutResult current = load_order(txn, in.tenant, in.partner_id);
  if (current.error != OrderError::kNone) return current;
  Step step = transitions::refuse(state_of(current), in.decline_code, now_ms);
  return carry_out(txn, std::move(step), nullptr, {}, {}, notify, now_ms);
}

CardPayoutResult apply_describe(WriteTxn& txn, const DescribeInput& in, const Notify& notify,
                                std::int64_t now_ms) {
  CardPayoutResult current = load_order(txn, in.tenant, in.partner_id);
  if (current.error != OrderError::kNone) return current;
  Step step = transitions::describe(state_of(current), in.description, now_ms);
  return carry_out(txn, std::move(step), nullptr, {}, {}, notify, now_ms);
}

}  // namespace payoutd::engine::card_jobs
