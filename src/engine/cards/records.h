#pragma once
// The card engine's records (store::Store::get_record, WriteTxn::find_record) and their stored
// form: a JSON document per record. Each record's fields are listed once (records.cc), and that
// one list both writes and reads it, so the two directions cannot drift apart. The stored form is
// the one earlier releases wrote, byte for byte.
//
// Readers are lenient as they always were: a missing or mistyped field reads as empty or 0. A
// document that does not parse, or an enum name this build does not know, is a damaged record:
// nullopt.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cards/enrolment.h"
#include "engine/cards/order.h"

namespace payoutd::engine {

// Record kinds of the card engine.
inline constexpr std::string_view kCardRecord = "card";              // card id -> VaultedCard
inline constexpr std::string_view kCardIndex = "card-by-pan";        // PAN fingerprint -> card id
inline constexpr std::string_view kBindingRecord = "binding";        // binding id -> Binding
inline constexpr std::string_view kClientCardIndex = "client-card";  // client|card id -> binding id
inline constexpr std::string_view kOrderRecord = "card-order";       // partner id -> CardOrder
inline constexpr std::string_view kOrderIdIndex = "card-order-id";  // order id -> tenant|partner id
inline constexpr std::string_view kCardUsage = "card-usage";        // card id -> Usage
inline constexpr std::string_view kEnrolmentRecord = "card-enrolment";  // id -> Enrolment
// Setting name -> value (the names below).
inline constexpr std::string_view kTenantSettings = "tenant-settings";
inline constexpr std::string_view kPrimaryCardSetting = "primary_card";  // a binding id, or empty
inline constexpr std::string_view kKnpSetting = "knp";
// "debit-card:<card id>" -> the binding id of the corporate card with that card.
inline constexpr std::string_view kDebitCardSetting = "debit-card:";

// A card in the vault: its number sealed (cards::Vault::seal), and what may be shown of it.
struct VaultedCard {
  std::string sealed, masked, scheme, country;
  std::int64_t created_ms = 0;
};

// Stored as its name: "recipient", "debit".
enum class BindingKind : std::uint8_t {
  kRecipient,  // a client's card that payouts go to (a saved card)
  kDebit,      // a partner's corporate card: a funding source with an account of its own
};

// A tenant's binding to a card of the vault.
struct Binding {
  BindingKind kind = BindingKind::kRecipient;
  std::string client_id;  // recipient bindings: whose card it is
  std::string card_id, masked;
  std::string holder, expiry;  // corporate cards added in the cabinet
  bool deleted = false;        // deleted: it funds nothing and is paid nothing
  std::int64_t created_ms = 0;
  bool debit_tool() const { return kind == BindingKind::kDebit && !deleted; }
  // A saved card payouts may go to (performPayout's target.bindingId, the pages' saved cards).
  bool recipient_card() const {
    return kind == BindingKind::kRecipient && !deleted && !card_id.empty();
  }
};

// A card's credits that count against its limits (CardLimits), oldest first.
struct Usage {
  struct Credit {
    std::string order_id;
    std::int64_t at_ms = 0, amount = 0;
  };
  std::vector<Credit> credits;
};

std::string order_to_json(const CardOrder& order);
std::optional<CardOrder> order_from_json(std::string_view text);

std::string binding_to_json(const Binding& binding);
std::optional<Binding> binding_from_json(std::string_view text);

// The record does not hold the enrolment's id (its key).
std::string enrolment_to_json(const Enrolment& enrolment);
std::optional<Enrolment> enrolment_from_json(std::string_view id, std::string_view text);

std::string vaulted_card_to_json(const VaultedCard& card);
std::optional<VaultedCard> vaulted_card_from_json(std::string_view text);

// A JSON array of [order id, at_ms, amount]; entries of another shape are skipped, and a damaged
// record reads as no credits.
std::string usage_to_json(const Usage& usage);
Usage usage_from_json(std::string_view text);

}  // namespace payoutd::engine
