#include "engine/cards/card_store.h"

#include <sodium.h>

#include "core/ids.h"
#include "engine/payouts.h"

namespace payoutd::engine::card_jobs {

SealedCard seal_card(const cards::Vault& vault, const std::string& tenant, std::string& pan,
                     const cards::Issuer& issuer, std::string cardholder) {
  SealedCard c;
  if (pan.empty()) return c;
  c.facts.card_id = new_uuid();
  c.sealed = vault.seal(tenant, c.facts.card_id, pan);
  c.fingerprint = vault.fingerprint(tenant, pan);
  c.facts.masked_pan = cards::mask_pan(pan);
  c.facts.scheme = issuer.scheme;
  c.facts.country = issuer.country;
  c.facts.cardholder = std::move(cardholder);
  sodium_memzero(pan.data(), pan.size());
  pan.clear();
  return c;
}

std::string vault_card(store::WriteTxn& txn, const std::string& tenant, const SealedCard& card,
                       std::int64_t now_ms) {
  if (auto id = txn.find_record(tenant, kCardIndex, card.fingerprint)) return *id;
  const transitions::CardFacts& f = card.facts;
  const VaultedCard record{card.sealed, f.masked_pan, f.scheme, f.country, now_ms};
  txn.insert_record(tenant, kCardRecord, f.card_id, vaulted_card_to_json(record));
  txn.insert_record(tenant, kCardIndex, card.fingerprint, f.card_id);
  return f.card_id;
}

std::optional<VaultedCard> find_card(store::WriteTxn& txn, std::string_view tenant,
                                     std::string_view card_id) {
  auto text = txn.find_record(tenant, kCardRecord, card_id);
  return text ? vaulted_card_from_json(*text) : std::nullopt;
}

store::Read<std::optional<VaultedCard>> get_card(const store::Store& store, std::string_view tenant,
                                                 std::string_view card_id) {
  auto text = store.get_record(tenant, kCardRecord, card_id);
  if (!text.ok()) return Failure{text.error()};
  return *text ? vaulted_card_from_json(**text) : std::nullopt;
}

store::Read<std::optional<std::string>> open_card(const store::Store& store,
                                                  const cards::Vault& vault,
                                                  std::string_view tenant,
                                                  std::string_view card_id) {
  auto card = get_card(store, tenant, card_id);
  if (!card.ok()) return Failure{card.error()};
  if (!*card) return std::optional<std::string>();
  return vault.unseal(tenant, card_id, (*card)->sealed);
}

std::optional<Binding> find_binding(store::WriteTxn& txn, std::string_view tenant,
                                    std::string_view binding_id) {
  auto text = txn.find_record(tenant, kBindingRecord, binding_id);
  return text ? binding_from_json(*text) : std::nullopt;
}

transitions::SavedCard find_saved(store::WriteTxn& txn, std::string_view tenant,
                                  std::string_view binding_id) {
  transitions::SavedCard saved{
      std::string(binding_id), find_binding(txn, tenant, binding_id), {}, {}};
  if (saved.binding && !saved.binding->card_id.empty()) {
    if (auto card = find_card(txn, tenant, saved.binding->card_id)) {
      saved.scheme = card->scheme;
      saved.country = card->country;
    }
  }
  return saved;
}

store::Read<std::optional<Binding>> get_binding(const store::Store& store, std::string_view tenant,
                                                std::string_view binding_id) {
  auto text = store.get_record(tenant, kBindingRecord, binding_id);
  if (!text.ok()) return Failure{text.error()};
  return *text ? binding_from_json(**text) : std::nullopt;
}

void insert_binding(store::WriteTxn& txn, const std::string& tenant, const std::string& id,
                    Binding binding, std::int64_t now_ms) {
  binding.created_ms = now_ms;
  txn.insert_record(tenant, kBindingRecord, id, binding_to_json(binding));
  if (binding.kind == BindingKind::kRecipient) {
    txn.insert_record(tenant, kClientCardIndex,
                      binding.client_id + kFieldSeparator + binding.card_id, id);
  }
}

std::string recipient_binding(store::WriteTxn& txn, const std::string& tenant,
                              const CardOrder& order, std::int64_t now_ms) {
  if (order.client_id.empty() || order.card_id.empty()) return {};
  const std::string key = order.client_id + kFieldSeparator + order.card_id;
  if (auto id = txn.find_record(tenant, kClientCardIndex, key)) return *id;
  std::string id = new_uuid();
  Binding b;
  b.kind = BindingKind::kRecipient;
  b.client_id = order.client_id;
  b.card_id = order.card_id;
  b.masked = order.masked_pan;
  insert_binding(txn, tenant, id, std::move(b), now_ms);
  return id;
}

namespace {

void store_usage(store::WriteTxn& txn, const std::string& tenant, const std::string& card_id,
                 const Usage& usage, bool existed) {
  if (existed) {
    txn.update_record(tenant, kCardUsage, card_id, usage_to_json(usage));
  } else {
    txn.insert_record(tenant, kCardUsage, card_id, usage_to_json(usage));
  }
}

}  // namespace

std::string_view use_card(store::WriteTxn& txn, const store::PayoutRecord& payout,
                          const CardOrder& order, const CardLimits& limits, std::int64_t now_ms) {
  // Without a total or a count, nothing is kept per card: only the single limit applies.
  std::optional<std::string> stored;
  if (transitions::counts_credits(limits))
    stored = txn.find_record(payout.tenant, kCardUsage, order.card_id);
  Usage usage = stored ? usage_from_json(*stored) : Usage{};
  const std::string_view over =
      transitions::count_credit(usage, limits, order.order_id, payout.amount, now_ms);
  if (over.empty() && transitions::counts_credits(limits)) {
    store_usage(txn, payout.tenant, order.card_id, usage, stored.has_value());
  }
  return over;
}

void release_card(store::WriteTxn& txn, const store::PayoutRecord& payout, const CardOrder& order) {
  auto stored = txn.find_record(payout.tenant, kCardUsage, order.card_id);
  if (!stored) return;
  Usage usage = usage_from_json(*stored);
  transitions::forget_credit(usage, order.order_id);
  store_usage(txn, payout.tenant, order.card_id, usage, true);
}

void put_setting(store::WriteTxn& txn, const std::string& tenant, std::string_view name,
                 const std::string& value) {
  if (txn.find_record(tenant, kTenantSettings, name)) {
    txn.update_record(tenant, kTenantSettings, name, value);
  } else {
    txn.insert_record(tenant, kTenantSettings, name, value);
  }
}

std::string new_code() { return std::to_string(100000 + randombytes_uniform(900000)); }

std::string order_code_mac(const cards::Vault& vault, std::string_view tenant,
                           std::string_view partner_id, std::string_view code) {
  return vault.code_mac("order:" + std::string(tenant) + ":" + std::string(partner_id), code);
}

std::string enrolment_code_mac(const cards::Vault& vault, std::string_view tenant,
                               std::string_view id, std::string_view code) {
  return vault.code_mac("enrolment:" + std::string(tenant) + ":" + std::string(id), code);
}

}  // namespace payoutd::engine::card_jobs
