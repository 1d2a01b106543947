#pragma once
// The hosted page's events on a registered order, in a committer batch: its card (confirm), a
// code emailed to the customer and entered (request_code, confirm_code), the dialect's refusal,
// and the page's description of the payout. Each reads the order, calls its transition
// (transitions.h) and carries out its effects (order_jobs.h). Internal to src/engine/cards.
#include <cstdint>
#include <optional>
#include <string>

#include "engine/cards/card_store.h"
#include "engine/cards/jobs.h"
#include "engine/cards/order.h"

namespace payoutd::engine::card_jobs {

// Each input's `tenant` is the tenant's stored key (Tenant::key(), store.h), made once by the
// CardPayouts command that builds the input: the jobs hand it to the store and the vault, and
// the job's footprint points into it.

struct ConfirmInput {
  std::string tenant, partner_id;
  SealedCard card;         // a new card; or
  std::string saved;       // one of the client's saved cards (its binding id), and
  std::string cardholder;  // the name the page gave with it
  ReserveRules rules;
};
// The order takes the card and is reserved. A saved card that is not the order's client's is
// refused kUnknownCard (transitions::confirm_saved). An order no longer registered is answered as
// it stands (kNone): the page shows where it is.
CardPayoutResult apply_confirm(store::WriteTxn& txn, const ConfirmInput& in,
                               const CardEngineOptions& options, const Notify& notify,
                               std::int64_t now_ms);

struct CodeInput {
  std::string tenant, partner_id;
  SealedCard card;    // a new card; or
  std::string saved;  // one of the client's recipient bindings; neither: the card attached before
  bool save = false;
  bool send = true;
  std::optional<std::string> parties;
  std::string code;      // in clear, for the message (sealed before it is stored)
  std::string code_mac;  // what the order keeps
};
// kNotOpen, kTooManyCodes, kUnknownCard, kNoCard (transitions::ask_code).
CardPayoutResult apply_request_code(store::WriteTxn& txn, const CodeInput& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms);

struct CodeEntry {
  std::string tenant, partner_id, code_mac;  // the MAC of the code entered
  ReserveRules rules;
};
// kNoCode, kCodeExpired, kWrongCode (transitions::enter_code). An order no longer registered is
// answered as it stands (kNone).
CardPayoutResult apply_confirm_code(store::WriteTxn& txn, const CodeEntry& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms);

struct RefuseInput {
  std::string tenant, partner_id, decline_code;
};
// kNotOpen (transitions::refuse).
CardPayoutResult apply_refuse(store::WriteTxn& txn, const RefuseInput& in, const Notify& notify,
                              std::int64_t now_ms);

struct DescribeInput {
  std::string tenant, partner_id, description;
};
// kNotOpen (transitions::describe).
CardPayoutResult apply_describe(store::WriteTxn& txn, const DescribeInput& in, const Notify& notify,
                                std::int64_t now_ms);

}  // namespace payoutd::engine::card_jobs
