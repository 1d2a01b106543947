#pragma once
// The card engine's records in the store (records.h): cards sealed on the caller's thread and
// kept in the vault by a batch, bindings, per-card usage, tenant settings, and a card opened for
// the rail. Internal to src/engine/cards; functions taking a WriteTxn run inside a batch.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cards/card.h"
#include "cards/vault.h"
#include "engine/cards/records.h"
#include "engine/cards/transitions.h"
#include "store/store.h"

namespace payoutd::engine::card_jobs {

// A card sealed on the caller's thread: the committer never sees a clear PAN.
struct SealedCard {
  transitions::CardFacts facts;  // card_id: a new id, used unless the vault holds the PAN already
  std::string sealed, fingerprint;
  bool empty() const { return sealed.empty(); }
};

// Seals `pan` (then wipes it); an empty SealedCard when `pan` is empty.
SealedCard seal_card(const cards::Vault& vault, const std::string& tenant, std::string& pan,
                     const cards::Issuer& issuer, std::string cardholder);

// The id of the tenant's card with this PAN: the vault's, or the sealed card's, stored now.
std::string vault_card(store::WriteTxn& txn, const std::string& tenant, const SealedCard& card,
                       std::int64_t now_ms);
std::optional<VaultedCard> find_card(store::WriteTxn& txn, std::string_view tenant,
                                     std::string_view card_id);
// Reads of the committed records (get_card, open_card, get_binding): a storage failure is the
// Read's error.
store::Read<std::optional<VaultedCard>> get_card(const store::Store& store, std::string_view tenant,
                                                 std::string_view card_id);
// The card's number, for the rail only: nullopt when there is no such card or it does not open.
store::Read<std::optional<std::string>> open_card(const store::Store& store,
                                                  const cards::Vault& vault,
                                                  std::string_view tenant,
                                                  std::string_view card_id);

std::optional<Binding> find_binding(store::WriteTxn& txn, std::string_view tenant,
                                    std::string_view binding_id);
// The binding `binding_id` and its card's scheme and country, as the batch finds them.
transitions::SavedCard find_saved(store::WriteTxn& txn, std::string_view tenant,
                                  std::string_view binding_id);
store::Read<std::optional<Binding>> get_binding(const store::Store& store, std::string_view tenant,
                                                std::string_view binding_id);
// A new binding created now; a recipient binding is indexed by (client, card) too.
void insert_binding(store::WriteTxn& txn, const std::string& tenant, const std::string& id,
                    Binding binding, std::int64_t now_ms);
// The client's binding to the card, created on its first payout to it (empty: no client or card).
std::string recipient_binding(store::WriteTxn& txn, const std::string& tenant,
                              const CardOrder& order, std::int64_t now_ms);

// Counts the payout against its card's limits (transitions::count_credit) and stores the card's
// usage when it counts: the decline code of the limit it would exceed, or empty.
std::string_view use_card(store::WriteTxn& txn, const store::PayoutRecord& payout,
                          const CardOrder& order, const CardLimits& limits, std::int64_t now_ms);
// A declined credit no longer counts against its card.
void release_card(store::WriteTxn& txn, const store::PayoutRecord& payout, const CardOrder& order);

void put_setting(store::WriteTxn& txn, const std::string& tenant, std::string_view name,
                 const std::string& value);

// A new one-time code: six decimal digits.
std::string new_code();
// What the store keeps of a one-time code: its MAC under the vault's code key, bound to what the
// code confirms (a card payout's order, or a card's enrolment).
std::string order_code_mac(const cards::Vault& vault, std::string_view tenant,
                           std::string_view partner_id, std::string_view code);
std::string enrolment_code_mac(const cards::Vault& vault, std::string_view tenant,
                               std::string_view id, std::string_view code);

}  // namespace payoutd::engine::card_jobs
