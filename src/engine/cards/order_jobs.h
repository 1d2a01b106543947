#pragma once
// The batch side of a card payout's order: each apply_* runs inside a committer batch, reads
// what its transition needs (transitions.h), calls it, and carries out its effects (the card in
// the vault, the ledger's moves, the records, the dialect's notification) in that batch.
// Internal to src/engine/cards; hosted_jobs.h holds the hosted page's events.
#include <cstdint>
#include <string>

#include "cards/vault.h"
#include "engine/cards/card_store.h"
#include "engine/cards/jobs.h"
#include "engine/cards/order.h"
#include "engine/cards/transitions.h"
#include "rails/rail.h"
#include "store/store.h"

namespace payoutd::engine::card_jobs {

// --- submit ---------------------------------------------------------------------------------

struct SubmitInput {
  CardPayoutRequest request;  // its pan sealed into `card` and wiped
  std::string tenant;         // request.tenant's stored key (store.h); the footprint points into it
  SealedCard card;
  std::string fingerprint;  // the payout's, for replays
  std::string source_code;  // the funding account's code
  ReserveRules rules;
};
// On the caller's thread: the card sealed, the replay fingerprint and the funding account named.
SubmitInput prepare_submit(CardPayoutRequest request, const cards::Vault& vault,
                           ReserveRules rules);
// Registers or performs the payout (a replay answers the stored one): kIdConflict,
// kSourceNotFound, kDestinationNotFound, kCurrencyMismatch.
CardPayoutResult apply_submit(store::WriteTxn& txn, const SubmitInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms);

// --- the rail and the scheduler -------------------------------------------------------------

struct AnswerInput {
  std::int64_t payout_id = 0;
  rails::Answer answer;
  bool status_check = false;  // the answer to a status request (else to the credit itself)
  std::string rail;           // the rail that answered: an answer of a rail the order left is
                              // not the order's (it changes nothing)
};
// Applies the rail's answer; an order answered already is returned as it stands.
CardPayoutResult apply_answer(store::WriteTxn& txn, const AnswerInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms);
// Expires a registered order whose session is over, and counts the send of a sending order about
// to be sent again (transitions::resend); otherwise only reads.
CardPayoutResult apply_examine(store::WriteTxn& txn, std::int64_t payout_id, const Notify& notify,
                               std::int64_t now_ms);

// --- shared with the hosted page's jobs -----------------------------------------------------

// The card payout (tenant, partner id) and its order as stored; kNotFound when there is none.
CardPayoutResult load_order(store::WriteTxn& txn, const std::string& tenant,
                            const std::string& partner_id);
transitions::OrderState state_of(const CardPayoutResult& r);
// Carries out a step: the event's new card kept in the vault (`card`, when step.vault_card), the
// card bound, its rail chosen and the amount reserved (Move::kReserve: `rules` has the routing),
// then the writes and the notification.
CardPayoutResult carry_out(store::WriteTxn& txn, transitions::Step step, const SealedCard* card,
                           const ReserveRules& rules, const CardEngineOptions& options,
                           const Notify& notify, std::int64_t now_ms);

}  // namespace payoutd::engine::card_jobs
