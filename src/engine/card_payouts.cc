#include "engine/card_payouts.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <future>
#include <limits>

#include "core/assert.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/secrets.h"
#include "engine/postings.h"

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferKind;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::PayoutStatus;
using store::WriteTxn;

// --- records ------------------------------------------------------------------------------------

namespace {

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

std::int64_t int_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (!v || !v->is_number()) return 0;
  return v->as_int64().value_or(0);
}

std::optional<json::Value> parse_record(std::string_view text) {
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value);
}

}  // namespace

bool is_card_limit(std::string_view code) {
  return code == kDeclineCardSingle || code == kDeclineCardTotal || code == kDeclineCardCount ||
         code == "CARD_LIMIT_EXCEEDED";
}

std::string order_to_json(const CardOrder& o) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("order_id").string(o.order_id);
  w.key("stage").integer(static_cast<int>(o.stage));
  for (const auto& [k, v] :
       std::initializer_list<std::pair<std::string_view, const std::string*>>{
           {"card_id", &o.card_id}, {"masked_pan", &o.masked_pan}, {"scheme", &o.scheme},
           {"country", &o.country}, {"cardholder", &o.cardholder}, {"client_id", &o.client_id},
           {"email", &o.email}, {"phone", &o.phone}, {"name", &o.name},
           {"source_binding", &o.source_binding}, {"target_binding", &o.target_binding},
           {"description", &o.description}, {"language", &o.language},
           {"return_url", &o.return_url}, {"fail_url", &o.fail_url}, {"knp", &o.knp},
           {"rail_state", &o.rail_state}, {"approval", &o.approval}, {"rail_code", &o.rail_code},
           {"rail_text", &o.rail_text}, {"callback_url", &o.callback_url},
           {"client_ip", &o.client_ip}}) {
    if (!v->empty()) w.key(k).string(*v);
  }
  if (!o.params_json.empty()) w.key("params").string(o.params_json);
  if (!o.parties.empty()) w.key("parties").string(o.parties);
  w.key("fee").integer(o.fee);
  w.key("expires_ms").integer(o.expires_ms);
  w.key("operation_ms").integer(o.operation_ms);
  w.key("rail_checks").integer(o.rail_checks);
  if (!o.code_hash.empty()) w.key("code_hash").string(o.code_hash);
  if (!o.save_card) w.key("no_save").integer(1);
  w.key("code_expires_ms").integer(o.code_expires_ms);
  w.key("code_attempts").integer(o.code_attempts);
  w.key("codes_sent").integer(o.codes_sent);
  w.end_object();
  return out;
}

std::optional<CardOrder> order_from_json(std::string_view text) {
  auto v = parse_record(text);
  if (!v) return std::nullopt;
  CardOrder o;
  o.order_id = string_member(*v, "order_id");
  o.stage = static_cast<OrderStage>(int_member(*v, "stage"));
  o.card_id = string_member(*v, "card_id");
  o.masked_pan = string_member(*v, "masked_pan");
  o.scheme = string_member(*v, "scheme");
  o.country = string_member(*v, "country");
  o.cardholder = string_member(*v, "cardholder");
  o.client_id = string_member(*v, "client_id");
  o.email = string_member(*v, "email");
  o.phone = string_member(*v, "phone");
  o.name = string_member(*v, "name");
  o.source_binding = string_member(*v, "source_binding");
  o.target_binding = string_member(*v, "target_binding");
  o.description = string_member(*v, "description");
  o.language = string_member(*v, "language");
  o.return_url = string_member(*v, "return_url");
  o.fail_url = string_member(*v, "fail_url");
  o.knp = string_member(*v, "knp");
  o.rail_state = string_member(*v, "rail_state");
  o.approval = string_member(*v, "approval");
  o.rail_code = string_member(*v, "rail_code");
  o.rail_text = string_member(*v, "rail_text");
  o.params_json = string_member(*v, "params");
  o.parties = string_member(*v, "parties");
  o.callback_url = string_member(*v, "callback_url");
  o.client_ip = string_member(*v, "client_ip");
  o.fee = int_member(*v, "fee");
  o.expires_ms = int_member(*v, "expires_ms");
  o.operation_ms = int_member(*v, "operation_ms");
  o.rail_checks = static_cast<int>(int_member(*v, "rail_checks"));
  o.code_hash = string_member(*v, "code_hash");
  o.code_expires_ms = int_member(*v, "code_expires_ms");
  o.code_attempts = static_cast<int>(int_member(*v, "code_attempts"));
  o.codes_sent = static_cast<int>(int_member(*v, "codes_sent"));
  o.save_card = int_member(*v, "no_save") == 0;
  return o;
}

namespace {

// A card sealed on the caller's thread: the committer never sees a clear PAN.
struct SealedCard {
  std::string card_id;  // a new id, used unless the vault already holds the PAN
  std::string sealed, fingerprint, masked, scheme, country, cardholder;
  bool empty() const { return sealed.empty(); }
};

SealedCard seal_card(const cards::Vault& vault, const std::string& tenant, std::string& pan,
                     const cards::Issuer& issuer, std::string cardholder) {
  SealedCard c;
  if (pan.empty()) return c;
  c.card_id = new_uuid();
  c.sealed = vault.seal(tenant, c.card_id, pan);
  c.fingerprint = vault.fingerprint(tenant, pan);
  c.masked = cards::mask_pan(pan);
  c.scheme = issuer.scheme;
  c.country = issuer.country;
  c.cardholder = std::move(cardholder);
  sodium_memzero(pan.data(), pan.size());
  pan.clear();
  return c;
}

// The id of the tenant's card with this PAN: the vault's, or this one, stored now.
std::string vault_card(WriteTxn& txn, const std::string& tenant, const SealedCard& c,
                       std::int64_t now_ms) {
  if (auto id = txn.find_record(tenant, kCardIndex, c.fingerprint)) return *id;
  std::string record;
  json::Writer w(record);
  w.begin_object();
  w.key("sealed").string(c.sealed).key("masked").string(c.masked);
  w.key("scheme").string(c.scheme).key("country").string(c.country);
  w.key("created_ms").integer(now_ms);
  w.end_object();
  txn.insert_record(tenant, kCardRecord, c.card_id, record);
  txn.insert_record(tenant, kCardIndex, c.fingerprint, c.card_id);
  return c.card_id;
}

struct Binding {
  std::string type;  // "recipient" or "debit"
  std::string client_id, card_id, masked;
  std::string holder, expiry;  // corporate cards added in the cabinet
  bool deleted = false;        // a corporate card deleted in the cabinet: it funds nothing
  std::int64_t created_ms = 0;
  bool debit_tool() const { return type == "debit" && !deleted; }
};

std::optional<Binding> parse_binding(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto v = parse_record(*text);
  if (!v) return std::nullopt;
  return Binding{string_member(*v, "type"),   string_member(*v, "client_id"),
                 string_member(*v, "card_id"), string_member(*v, "masked"),
                 string_member(*v, "holder"), string_member(*v, "expiry"),
                 int_member(*v, "deleted") != 0, int_member(*v, "created_ms")};
}

std::string binding_json(const Binding& b) {
  std::string record;
  json::Writer w(record);
  w.begin_object();
  w.key("type").string(b.type).key("client_id").string(b.client_id);
  w.key("card_id").string(b.card_id).key("masked").string(b.masked);
  if (!b.holder.empty()) w.key("holder").string(b.holder);
  if (!b.expiry.empty()) w.key("expiry").string(b.expiry);
  if (b.deleted) w.key("deleted").integer(1);
  w.key("created_ms").integer(b.created_ms);
  w.end_object();
  return record;
}

void insert_binding(WriteTxn& txn, const std::string& tenant, const std::string& id,
                    Binding b, std::int64_t now_ms) {
  b.created_ms = now_ms;
  txn.insert_record(tenant, kBindingRecord, id, binding_json(b));
  if (b.type == "recipient") {
    txn.insert_record(tenant, kClientCardIndex, b.client_id + kFieldSeparator + b.card_id, id);
  }
}

// The client's binding to the card, created on its first payout to it.
std::string recipient_binding(WriteTxn& txn, const std::string& tenant,
                              const std::string& client_id, const std::string& card_id,
                              const std::string& masked, std::int64_t now_ms) {
  if (client_id.empty() || card_id.empty()) return {};
  if (auto id = txn.find_record(tenant, kClientCardIndex, client_id + kFieldSeparator + card_id)) {
    return *id;
  }
  std::string id = new_uuid();
  insert_binding(txn, tenant, id, {"recipient", client_id, card_id, masked, {}, {}, false, 0}, now_ms);
  return id;
}

// A command's completion: its result once durable, or kUnavailable when its batch failed.
template <typename Result, typename Done>
auto or_unavailable(Done done) {
  return [done = std::move(done)](Result r, const store::Status& status) {
    if (!status.ok) return done(Result{Error::kUnavailable, "storage unavailable"});
    done(std::move(r));
  };
}

// --- corporate cards' records -----------------------------------------------------------------

constexpr std::int64_t kEnrolmentCodeLifeMs = 5 * 60'000;
constexpr int kEnrolmentAttemptsMax = 3;
constexpr std::int64_t kVerificationMinor = 1;  // the rail's check debits this and returns it

std::string enrolment_json(const Enrolment& e) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("state").string(e.state).key("card_id").string(e.card_id);
  w.key("masked").string(e.masked_pan).key("holder").string(e.holder).key("expiry").string(e.expiry);
  w.key("phone").string(e.phone).key("binding_id").string(e.binding_id).key("reason").string(e.reason);
  w.key("code_hash").string(e.code_hash).key("code_expires_ms").integer(e.code_expires_ms);
  w.key("created_ms").integer(e.created_ms).key("attempts").integer(e.attempts);
  w.end_object();
  return out;
}

std::optional<Enrolment> parse_enrolment(std::string_view id, const std::optional<std::string>& text) {
  auto v = text ? parse_record(*text) : std::nullopt;
  if (!v) return std::nullopt;
  Enrolment e;
  e.id = std::string(id);
  e.state = string_member(*v, "state");
  e.card_id = string_member(*v, "card_id");
  e.masked_pan = string_member(*v, "masked");
  e.holder = string_member(*v, "holder");
  e.expiry = string_member(*v, "expiry");
  e.phone = string_member(*v, "phone");
  e.binding_id = string_member(*v, "binding_id");
  e.reason = string_member(*v, "reason");
  e.code_hash = string_member(*v, "code_hash");
  e.code_expires_ms = int_member(*v, "code_expires_ms");
  e.created_ms = int_member(*v, "created_ms");
  e.attempts = static_cast<int>(int_member(*v, "attempts"));
  return e;
}

void put_setting(WriteTxn& txn, const std::string& tenant, const std::string& name, const std::string& value) {
  if (txn.find_record(tenant, kTenantSettings, name)) {
    txn.update_record(tenant, kTenantSettings, name, value);
  } else {
    txn.insert_record(tenant, kTenantSettings, name, value);
  }
}

template <typename Result, typename Apply, typename Done>
void run_simple(PayoutEngine& engine, const std::function<void()>& wake, Apply apply, Done done,
                bool notifies = false) {
  auto job = make_job<Result>(std::move(apply), [done, wake, notifies](Result r, const store::Status& status) {
    if (status.ok && notifies && wake) wake();
    done(std::move(r), status);
  });
  if (!engine.committer().submit(std::move(job))) done(Result{Error::kUnavailable, "overloaded"}, store::Status::Error("overloaded"));
}


// --- per-card limits ----------------------------------------------------------------------------

struct Usage {
  struct Credit {
    std::string order_id;
    std::int64_t at_ms, amount;
  };
  std::vector<Credit> credits;
};

Usage load_usage(WriteTxn& txn, const std::string& tenant, const std::string& card_id) {
  Usage u;
  auto text = txn.find_record(tenant, kCardUsage, card_id);
  if (!text) return u;
  json::ParseResult parsed = json::parse(*text);
  if (!parsed.value || !parsed.value->is_array()) return u;
  for (const json::Value& item : parsed.value->as_array()) {
    if (!item.is_array() || item.as_array().size() != 3) continue;
    const auto& a = item.as_array();
    if (!a[0].is_string()) continue;
    u.credits.push_back({a[0].as_string(), a[1].as_int64().value_or(0), a[2].as_int64().value_or(0)});
  }
  return u;
}

void store_usage(WriteTxn& txn, const std::string& tenant, const std::string& card_id,
                 const Usage& u, bool existed) {
  std::string text;
  json::Writer w(text);
  w.begin_array();
  for (const Usage::Credit& c : u.credits) {
    w.begin_array().string(c.order_id).integer(c.at_ms).integer(c.amount).end_array();
  }
  w.end_array();
  if (existed) {
    txn.update_record(tenant, kCardUsage, card_id, text);
  } else {
    txn.insert_record(tenant, kCardUsage, card_id, text);
  }
}

// Records the payout against the card's limits; the decline code of the limit it would exceed
// (nothing recorded), or empty.
std::string_view use_card(WriteTxn& txn, const PayoutRecord& p, const CardOrder& o,
                          const CardLimits& limits, std::int64_t now_ms) {
  const std::string& card_id = o.card_id;
  if (limits.single_max > 0 && p.amount > limits.single_max) return kDeclineCardSingle;
  if (limits.total_max == 0 && limits.count_max == 0) return {};
  const bool existed = txn.find_record(p.tenant, kCardUsage, card_id).has_value();
  Usage u = load_usage(txn, p.tenant, card_id);
  std::erase_if(u.credits, [&](const Usage::Credit& c) { return c.at_ms <= now_ms - limits.window_ms; });
  std::int64_t total = 0;
  for (const Usage::Credit& c : u.credits) total += c.amount;
  if (limits.count_max > 0 && static_cast<int>(u.credits.size()) >= limits.count_max) {
    return kDeclineCardCount;
  }
  if (limits.total_max > 0 && total + p.amount > limits.total_max) return kDeclineCardTotal;
  u.credits.push_back({o.order_id, now_ms, p.amount});
  store_usage(txn, p.tenant, card_id, u, existed);
  return {};
}

// A declined credit no longer counts against the card.
void release_card(WriteTxn& txn, const PayoutRecord& p, const CardOrder& o) {
  if (!txn.find_record(p.tenant, kCardUsage, o.card_id)) return;
  Usage u = load_usage(txn, p.tenant, o.card_id);
  std::erase_if(u.credits, [&](const Usage::Credit& c) { return c.order_id == o.order_id; });
  store_usage(txn, p.tenant, o.card_id, u, true);
}

// --- the state machine --------------------------------------------------------------------------

// Tells the payout's dialect of its new state, inside the batch (see CardNotifier); true when an
// outbox message was written.
using Notify = std::function<bool(WriteTxn&, const PayoutRecord&, const CardOrder&, std::int64_t)>;

void decline(PayoutRecord& p, CardOrder& o, std::string_view code, std::int64_t now_ms) {
  p.status = PayoutStatus::kDeclined;
  p.decline_code = std::string(code);
  p.updated_ms = now_ms;
  p.due_ms = 0;
  o.stage = OrderStage::kFinal;
}

// Reserves the payout's amount on its funding account; declines it when the card's limits or
// the balance do not allow it.
void reserve(WriteTxn& txn, PayoutRecord& p, CardOrder& o, const CardLimits& limits,
             const CardEngineOptions& options, std::int64_t now_ms) {
  Account* funder = txn.account(p.source_account_id);
  Account* rail = txn.account(p.destination_account_id);
  PAYOUTD_ASSERT(funder && rail, "a card payout's accounts exist");
  if (const std::string_view limit = use_card(txn, p, o, limits, now_ms); !limit.empty()) {
    return decline(p, o, limit, now_ms);
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
  const TransferResult moved = move(txn, t, *funder, *rail, nullptr, &id);
  if (moved != TransferResult::kOk) {
    release_card(txn, p, o);
    return decline(p, o, moved == TransferResult::kOverflow ? kDeclineLimitExceeded
                                                            : kDeclineInsufficientFunds,
                   now_ms);
  }
  p.pending_transfer_id = id;
  p.updated_ms = now_ms;
  p.due_ms = now_ms + options.resend_after_ms;
  o.stage = OrderStage::kSending;
}

// Posts (success) or voids (declined) the reservation.
void resolve(WriteTxn& txn, PayoutRecord& p, CardOrder& o, bool approved, std::int64_t now_ms) {
  auto pending = txn.find_transfer(p.pending_transfer_id);
  Account* funder = txn.account(p.source_account_id);
  Account* rail = txn.account(p.destination_account_id);
  PAYOUTD_ASSERT(pending && funder && rail, "a card payout's reservation exists");
  Transfer t = *pending;
  t.id = 0;
  t.kind = approved ? TransferKind::kPost : TransferKind::kVoid;
  t.pending_id = pending->id;
  t.timestamp_ms = now_ms;
  const TransferResult moved = move(txn, t, *funder, *rail, &*pending, nullptr);
  PAYOUTD_ASSERT(moved == TransferResult::kOk, ledger::to_string(moved));
  if (approved) {
    p.status = PayoutStatus::kSuccess;
    p.updated_ms = now_ms;
    p.due_ms = 0;
    o.stage = OrderStage::kFinal;
  } else {
    release_card(txn, p, o);
    decline(p, o, kDeclineCardDeclined, now_ms);
  }
}

// The order's card from now on: the vault's entry for it, and what the order shows of it.
void attach_card(WriteTxn& txn, const std::string& tenant, CardOrder& o, const SealedCard& card,
                 std::int64_t now_ms) {
  o.card_id = vault_card(txn, tenant, card, now_ms);
  o.masked_pan = card.masked;
  o.scheme = card.scheme;
  o.country = card.country;
  o.cardholder = card.cardholder;
}

// A registered order confirmed with its card: bound to the client when it saves cards, and
// reserved. True when it goes to the rail.
bool confirm_with_card(WriteTxn& txn, const std::string& tenant, PayoutRecord& p, CardOrder& o,
                       const CardLimits& limits, const CardEngineOptions& options,
                       std::int64_t now_ms) {
  if (o.target_binding.empty() && o.save_card) {
    o.target_binding = recipient_binding(txn, tenant, o.client_id, o.card_id, o.masked_pan, now_ms);
  }
  reserve(txn, p, o, limits, options, now_ms);
  return o.stage == OrderStage::kSending;
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

struct SubmitInput {
  CardPayoutRequest request;
  SealedCard card;
  std::string fingerprint;
  std::string source_code;  // the funding account's code
  CardLimits limits;
};

CardPayoutResult stored(WriteTxn& txn, PayoutRecord p) {
  CardPayoutResult r;
  auto order = txn.find_record(p.tenant, kOrderRecord, p.partner_id);
  if (order) {
    if (auto parsed = order_from_json(*order)) r.order = std::move(*parsed);
  }
  r.payout = std::move(p);
  return r;
}

CardPayoutResult replayed(WriteTxn& txn, const SubmitInput& in) {
  const CardPayoutRequest& r = in.request;
  auto seen = replay(txn, r.tenant, PayoutKind::kCardPayout, r.partner_id, in.fingerprint);
  if (!seen) return {Error::kNotFound};
  if (seen->first == Error::kIdConflict) {
    return {Error::kIdConflict, "the order number was already used with a different request"};
  }
  return stored(txn, std::move(seen->second));
}

CardPayoutResult apply_submit(WriteTxn& txn, const SubmitInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms) {
  const CardPayoutRequest& r = in.request;
  if (CardPayoutResult seen = replayed(txn, in); seen.error != Error::kNotFound) return seen;

  if (!r.order.source_binding.empty()) {
    auto source = parse_binding(txn.find_record(r.tenant, kBindingRecord, r.order.source_binding));
    if (!source || !source->debit_tool()) {
      return {Error::kSourceNotFound, "source.bindingId is not a debit tool of the partner"};
    }
  }
  Account* funder = txn.find_account(r.tenant, AccountKind::kFunder, in.source_code);
  if (!funder) return {Error::kSourceNotFound, "no funding account"};
  if (!(funder->currency == r.amount.currency)) {
    return {Error::kCurrencyMismatch, "the funding account holds another currency"};
  }
  CardOrder o = r.order;
  if (!r.target_binding.empty()) {
    auto target = parse_binding(txn.find_record(r.tenant, kBindingRecord, r.target_binding));
    if (!target || target->type != "recipient" || target->card_id.empty()) {
      return {Error::kDestinationNotFound, "no card data for target.bindingId"};
    }
    o.card_id = target->card_id;
    o.masked_pan = target->masked;
    o.target_binding = r.target_binding;
    if (o.client_id.empty()) o.client_id = target->client_id;
    if (auto card = txn.find_record(r.tenant, kCardRecord, o.card_id)) {
      if (auto v = parse_record(*card)) {
        o.scheme = string_member(*v, "scheme");
        o.country = string_member(*v, "country");
      }
    }
  }
  Account* rail = system_account(txn, r.tenant, "card-rail", r.amount.currency, now_ms);

  PayoutRecord p;
  p.tenant = r.tenant;
  p.kind = PayoutKind::kCardPayout;
  p.partner_id = r.partner_id;
  p.fingerprint = in.fingerprint;
  p.status = PayoutStatus::kProcessing;
  p.source_account_id = funder->id;
  p.destination_account_id = rail->id;
  p.amount = r.amount.minor;
  p.currency = r.amount.currency;
  p.source_ref = in.source_code;
  p.destination_ref = "card";
  p.created_ms = p.updated_ms = now_ms;
  p.id = txn.insert_payout_if_new(p);
  if (p.id == 0) return replayed(txn, in);  // another node's batch took the id first
  o.order_id = new_uuid();
  if (!in.card.empty()) {
    attach_card(txn, r.tenant, o, in.card, now_ms);
  }
  if (o.target_binding.empty() && o.save_card) {
    o.target_binding = recipient_binding(txn, r.tenant, o.client_id, o.card_id, o.masked_pan, now_ms);
  }
  CardPayoutResult result;
  if (!r.refuse_code.empty()) {
    decline(p, o, r.refuse_code, now_ms);
  } else if (r.hosted) {
    o.stage = OrderStage::kRegistered;
    o.expires_ms = now_ms + r.session_timeout_ms;
    p.due_ms = o.expires_ms;
  } else {
    reserve(txn, p, o, in.limits, options, now_ms);
    result.fresh = o.stage == OrderStage::kSending;
  }
  txn.update_payout(p);
  txn.insert_record(r.tenant, kOrderRecord, r.partner_id, order_to_json(o));
  txn.insert_record("", kOrderIdIndex, o.order_id, r.tenant + kFieldSeparator + r.partner_id);
  result.notified = notify(txn, p, o, now_ms);
  result.payout = std::move(p);
  result.order = std::move(o);
  return result;
}

// Loads the payout and its order into `r`. False when there is none (r.error kNotFound) or when
// the order is no longer registered (r holds it as it stands).
bool load_registered(WriteTxn& txn, const std::string& tenant, const std::string& partner_id,
                     CardPayoutResult& r) {
  auto found = txn.find_payout(tenant, PayoutKind::kCardPayout, partner_id);
  if (!found) {
    r = {Error::kNotFound, "no such order"};
    return false;
  }
  r = stored(txn, std::move(*found));
  return r.order.stage == OrderStage::kRegistered && r.payout.status == PayoutStatus::kProcessing;
}

// The refusal of a command that needs a registered order ("not-open" when it is another's).
CardPayoutResult not_open(CardPayoutResult r) {
  if (r.error == Error::kNone) r.error = Error::kInvalid, r.detail = "not-open";
  return r;
}

struct ConfirmInput {
  std::string tenant, partner_id;
  SealedCard card;
  CardLimits limits;
};

CardPayoutResult apply_confirm(WriteTxn& txn, const ConfirmInput& in,
                               const CardEngineOptions& options, const Notify& notify,
                               std::int64_t now_ms) {
  CardPayoutResult r;
  if (!load_registered(txn, in.tenant, in.partner_id, r)) return r;
  PayoutRecord& p = r.payout;
  CardOrder& o = r.order;
  if (now_ms >= o.expires_ms) {
    decline(p, o, kDeclineExpired, now_ms);
  } else {
    attach_card(txn, in.tenant, o, in.card, now_ms);
    r.fresh = confirm_with_card(txn, in.tenant, p, o, in.limits, options, now_ms);
  }
  txn.update_payout(p);
  txn.update_record(in.tenant, kOrderRecord, in.partner_id, order_to_json(o));
  r.notified = notify(txn, p, o, now_ms);
  return r;
}

// What the store keeps of a one-time code: its MAC under the vault's code key, bound to what the
// code confirms (a card payout's order, or a card's enrolment).
std::string order_code_mac(const cards::Vault& vault, std::string_view tenant, std::string_view partner_id,
                           std::string_view code) {
  return vault.code_mac("order:" + std::string(tenant) + ":" + std::string(partner_id), code);
}
std::string enrolment_code_mac(const cards::Vault& vault, std::string_view tenant, std::string_view id,
                               std::string_view code) {
  return vault.code_mac("enrolment:" + std::string(tenant) + ":" + std::string(id), code);
}

struct CodeRequest {
  std::string tenant, partner_id;
  SealedCard card;
  std::string saved;  // a recipient binding of the client instead of a new card
  bool save = false;
  bool send = true;
  std::optional<std::string> parties;
  std::string code;      // in clear, for the message (sealed before it is stored)
  std::string code_mac;  // what the order keeps
};

// The scheme and country of a card in the vault.
std::pair<std::string, std::string> card_issuer(WriteTxn& txn, const std::string& tenant,
                                                const std::string& card_id) {
  auto text = txn.find_record(tenant, kCardRecord, card_id);
  auto v = text ? parse_record(*text) : std::nullopt;
  if (!v) return {};
  return {string_member(*v, "scheme"), string_member(*v, "country")};
}

CardPayoutResult apply_request_code(WriteTxn& txn, const CodeRequest& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms) {
  CardPayoutResult r;
  if (!load_registered(txn, in.tenant, in.partner_id, r)) return not_open(std::move(r));
  PayoutRecord& p = r.payout;
  CardOrder& o = r.order;
  auto refuse = [&](const char* why) {
    r.error = Error::kInvalid;
    r.detail = why;
    return r;
  };
  if (now_ms >= o.expires_ms) {
    decline(p, o, kDeclineExpired, now_ms);
  } else if (in.send && o.codes_sent >= options.codes_max) {
    return refuse("too-many-codes");
  } else {
    if (!in.saved.empty()) {
      auto b = parse_binding(txn.find_record(in.tenant, kBindingRecord, in.saved));
      if (!b || b->type != "recipient" || b->client_id != o.client_id || b->card_id.empty()) {
        return refuse("unknown-card");
      }
      o.card_id = b->card_id;
      o.masked_pan = b->masked;
      std::tie(o.scheme, o.country) = card_issuer(txn, in.tenant, b->card_id);
      o.target_binding = in.saved;
      o.save_card = true;
    } else if (!in.card.empty()) {
      attach_card(txn, in.tenant, o, in.card, now_ms);
      o.target_binding.clear();
      o.save_card = in.save;
    } else if (o.card_id.empty()) {
      return refuse("no-card");
    }
    if (in.parties) o.parties = *in.parties;
    o.code_hash.clear();
    if (in.send) {
      o.code_hash = in.code_mac;
      o.code_expires_ms = std::min(now_ms + options.code_lifetime_ms, o.expires_ms);
      o.code_attempts = 0;
      ++o.codes_sent;
      o.code_plain = in.code;
    }
  }
  txn.update_payout(p);
  txn.update_record(in.tenant, kOrderRecord, in.partner_id, order_to_json(o));
  r.notified = notify(txn, p, o, now_ms);
  o.code_plain.clear();
  return r;
}

struct RefuseInput {
  std::string tenant, partner_id, code;
};

CardPayoutResult apply_refuse(WriteTxn& txn, const RefuseInput& in, const Notify& notify,
                              std::int64_t now_ms) {
  CardPayoutResult r;
  if (!load_registered(txn, in.tenant, in.partner_id, r)) return not_open(std::move(r));
  decline(r.payout, r.order, now_ms >= r.order.expires_ms ? kDeclineExpired : in.code, now_ms);
  r.order.code_hash.clear();
  txn.update_payout(r.payout);
  txn.update_record(in.tenant, kOrderRecord, in.partner_id, order_to_json(r.order));
  r.notified = notify(txn, r.payout, r.order, now_ms);
  return r;
}

struct CodeEntry {
  std::string tenant, partner_id, code_mac;  // the MAC of the code entered
  CardLimits limits;
};

CardPayoutResult apply_confirm_code(WriteTxn& txn, const CodeEntry& in,
                                    const CardEngineOptions& options, const Notify& notify,
                                    std::int64_t now_ms) {
  CardPayoutResult r;
  if (!load_registered(txn, in.tenant, in.partner_id, r)) return r;
  PayoutRecord& p = r.payout;
  CardOrder& o = r.order;
  auto refuse = [&](const char* why) {
    txn.update_record(in.tenant, kOrderRecord, in.partner_id, order_to_json(o));
    r.error = Error::kInvalid;
    r.detail = why;
    return r;
  };
  if (now_ms >= o.expires_ms) {
    decline(p, o, kDeclineExpired, now_ms);
  } else if (o.code_hash.empty() || o.card_id.empty()) {
    r.error = Error::kInvalid;
    r.detail = "no-code";
    return r;
  } else if (now_ms >= o.code_expires_ms) {
    o.code_hash.clear();
    return refuse("code-expired");
  } else if (!secrets_equal(in.code_mac, o.code_hash)) {
    if (++o.code_attempts >= options.code_attempts_max) o.code_hash.clear();
    return refuse("wrong-code");
  } else {
    o.code_hash.clear();
    r.fresh = confirm_with_card(txn, in.tenant, p, o, in.limits, options, now_ms);
  }
  txn.update_payout(p);
  txn.update_record(in.tenant, kOrderRecord, in.partner_id, order_to_json(o));
  r.notified = notify(txn, p, o, now_ms);
  return r;
}

std::int64_t backoff_ms(const CardEngineOptions& options, int checks) {
  std::int64_t wait = options.reconcile_first_ms;
  for (int i = 0; i < checks && wait < options.reconcile_max_ms; ++i) wait *= 2;
  return std::min(wait, options.reconcile_max_ms);
}

struct AnswerInput {
  std::int64_t payout_id;
  rails::Answer answer;
  bool status_check;  // the answer to a status request (else to the credit itself)
};

CardPayoutResult apply_answer(WriteTxn& txn, const AnswerInput& in,
                              const CardEngineOptions& options, const Notify& notify,
                              std::int64_t now_ms) {
  auto found = txn.find_payout_by_id(in.payout_id);
  if (!found) return {Error::kNotFound, "no such payout"};
  CardPayoutResult r = stored(txn, std::move(*found));
  PayoutRecord& p = r.payout;
  CardOrder& o = r.order;
  const bool open = o.stage == OrderStage::kSending || o.stage == OrderStage::kAwaiting;
  if (p.status != PayoutStatus::kProcessing || !open) return r;  // answered already
  const rails::Answer& a = in.answer;
  if (in.status_check) ++o.rail_checks;
  switch (a.outcome) {
    case rails::Outcome::kApproved:
    case rails::Outcome::kDeclined:
      o.approval = a.approval;
      o.rail_code = a.code;
      o.rail_text = a.text;
      o.operation_ms = a.at_ms ? a.at_ms : now_ms;
      o.rail_state.clear();
      resolve(txn, p, o, a.outcome == rails::Outcome::kApproved, now_ms);
      break;
    case rails::Outcome::kProcessing:
      o.stage = OrderStage::kAwaiting;
      o.rail_state = "processing";
      p.due_ms = now_ms + backoff_ms(options, o.rail_checks);
      break;
    case rails::Outcome::kUnknown:
      o.stage = OrderStage::kAwaiting;
      if (o.rail_state.empty()) o.rail_state = "unknown";
      r.rail_timeout = !in.status_check;
      p.due_ms = now_ms + backoff_ms(options, o.rail_checks);
      break;
    case rails::Outcome::kNotFound:
      // The network never received it: send it again (same reference) at once.
      o.stage = OrderStage::kSending;
      p.due_ms = now_ms;
      break;
  }
  p.updated_ms = now_ms;
  txn.update_payout(p);
  txn.update_record(p.tenant, kOrderRecord, p.partner_id, order_to_json(o));
  r.notified = notify(txn, p, o, now_ms);
  return r;
}

// Expires a registered order whose session is over; otherwise only reads.
CardPayoutResult apply_examine(WriteTxn& txn, std::int64_t payout_id, const Notify& notify,
                               std::int64_t now_ms) {
  auto found = txn.find_payout_by_id(payout_id);
  if (!found) return {Error::kNotFound, "no such payout"};
  CardPayoutResult r = stored(txn, std::move(*found));
  if (r.payout.status == PayoutStatus::kProcessing && r.order.stage == OrderStage::kRegistered &&
      now_ms >= r.order.expires_ms) {
    decline(r.payout, r.order, kDeclineExpired, now_ms);
    txn.update_payout(r.payout);
    txn.update_record(r.payout.tenant, kOrderRecord, r.payout.partner_id, order_to_json(r.order));
    r.notified = notify(txn, r.payout, r.order, now_ms);
  }
  return r;
}

// The scheduler's id of the check on requests waiting too long; payout ids are positive.
constexpr std::int64_t kWaiterCheck = -1;
constexpr std::int64_t kWaiterCheckIntervalMs = 1000;
constexpr std::size_t kResumeMax = 1'000'000;
constexpr std::string_view kVaultKey = "data-key";

// Submits a card job; `wake` runs once a batch that wrote outbox messages is durable.
template <typename Input, typename Apply, typename Done>
void run_job(PayoutEngine& engine, const std::function<void()>& wake, Input input,
             void (*declare)(const Input&, store::Footprint&), Apply apply, Done done) {
  auto job = make_job<CardPayoutResult>(
      std::move(input), declare, std::move(apply),
      [done, wake](CardPayoutResult r, const store::Status& status) {
        if (status.ok && r.notified && wake) wake();
        done(std::move(r), status);
      });
  if (!engine.committer().submit(std::move(job))) {
    done(CardPayoutResult{Error::kUnavailable, "the engine is overloaded"},
         store::Status::Error("overloaded"));
  }
}

}  // namespace

// --- the engine ---------------------------------------------------------------------------------

struct CardPayouts::Shared {
  std::mutex mutex;
  std::unordered_map<std::string, CardLimits> limits;
  struct Waiter {
    std::int64_t deadline_ms;
    std::string tenant, partner_id;
    CardPayoutCallback done;
  };
  std::unordered_map<std::int64_t, std::vector<Waiter>> waiters;
  bool stopping = false;
  std::vector<std::pair<std::string, CardNotifier>> notifiers;  // by tenant prefix
  std::function<void()> wake;  // set before start(), read by jobs' completions

  CardNotifier notifier_of(const std::string& tenant) {
    std::lock_guard lock(mutex);
    for (const auto& [prefix, n] : notifiers) {
      if (tenant.starts_with(prefix)) return n;
    }
    return nullptr;
  }

  CardLimits limits_of(const std::string& tenant) {
    std::lock_guard lock(mutex);
    auto it = limits.find(tenant);
    return it == limits.end() ? CardLimits{} : it->second;
  }
};

CardPayouts::CardPayouts(PayoutEngine& engine, const store::Store& store, const Clock& clock,
                         cards::Vault& vault, const cards::BinTable& bins, rails::CardRail& rail,
                         CardEngineOptions options)
    : engine_(engine),
      store_(store),
      clock_(clock),
      vault_(vault),
      bins_(bins),
      rail_(rail),
      options_(options),
      shared_(std::make_unique<Shared>()),
      notify_([shared = shared_.get(), vault = &vault](WriteTxn& txn, const PayoutRecord& p, const CardOrder& o,
                                       std::int64_t now_ms) {
        const CardNotifier notifier = shared->notifier_of(p.tenant);
        if (!notifier) return false;
        bool wrote = false;
        for (store::OutboxMessage& m : notifier(p, o, now_ms)) {
          m.payout_id = p.id;
          m.sealed = m.sealed || store::to_a_person(m.target);  // a code: never stored in clear
          if (m.sealed) m.body = vault->seal_message(m.tenant, m.event_id, m.body);
          wrote |= txn.insert_outbox(m) != 0;
        }
        return wrote;
      }),
      scheduler_(clock, [this](std::int64_t id) { fire(id); }) {}

CardPayouts::~CardPayouts() { stop(); }

std::string CardPayouts::open_vault() {
  std::promise<std::optional<std::string>> promise;
  auto future = promise.get_future();
  const std::string fresh = vault_.new_wrapped_data_key();
  const bool submitted = engine_.committer().submit(make_job<std::string>(
      [fresh](WriteTxn& txn, std::int64_t) {
        if (auto stored_key = txn.find_record("", "vault", kVaultKey)) return *stored_key;
        txn.insert_record("", "vault", kVaultKey, fresh);
        return fresh;
      },
      [&promise](std::string key, const store::Status& status) {
        promise.set_value(status.ok ? std::optional<std::string>(std::move(key)) : std::nullopt);
      }));
  if (!submitted) return "the engine refused the vault's set-up";
  const auto key = future.get();
  if (!key) return "cannot read or store the vault's data key";
  if (!vault_.open(*key)) {
    return "the key-encryption key does not open the stored data key (wrong key?)";
  }
  return {};
}

void CardPayouts::start() {
  for (const PayoutRecord& p :
       store_.processing_payouts(std::numeric_limits<std::int64_t>::max(), kResumeMax)) {
    if (p.kind == PayoutKind::kCardPayout) resume(p);
  }
  engine_.on_overdue_card_payout([this](const PayoutRecord& p) { resume(p); });
  scheduler_.schedule(kWaiterCheck, clock_.now_ms() + kWaiterCheckIntervalMs);
  scheduler_.start();
}

void CardPayouts::stop() {
  engine_.on_overdue_card_payout(nullptr);
  rail_.stop();
  scheduler_.stop();
  std::unordered_map<std::int64_t, std::vector<Shared::Waiter>> waiting;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    waiting.swap(shared_->waiters);
  }
  for (auto& [id, list] : waiting) {
    for (auto& w : list) w.done({Error::kUnavailable, "the server is stopping"});
  }
}

void CardPayouts::set_notifier(std::string tenant_prefix, CardNotifier notifier) {
  std::lock_guard lock(shared_->mutex);
  shared_->notifiers.emplace_back(std::move(tenant_prefix), std::move(notifier));
}

void CardPayouts::on_outbox(std::function<void()> wake) { shared_->wake = std::move(wake); }

void CardPayouts::set_limits(std::string tenant, CardLimits limits) {
  std::lock_guard lock(shared_->mutex);
  shared_->limits[std::move(tenant)] = limits;
}

// A payout in a state this engine should look at: at its due time (expiry, status check), or
// now when it may be waiting for a credit nobody is sending.
void CardPayouts::resume(const PayoutRecord& p) {
  const std::int64_t now = clock_.now_ms();
  scheduler_.schedule(p.id, std::min(p.due_ms, now));
}

void CardPayouts::fire(std::int64_t id) {
  if (id == kWaiterCheck) {
    expire_waiters();
    scheduler_.schedule(kWaiterCheck, clock_.now_ms() + kWaiterCheckIntervalMs);
    return;
  }
  examine(id);
}

void CardPayouts::examine(std::int64_t payout_id) {
  run_job(
      engine_, shared_->wake, payout_id,
      +[](const std::int64_t& id, store::Footprint& f) { f.payout_ids.push_back(id); },
      [this](const std::int64_t& id, WriteTxn& txn, std::int64_t now_ms) {
        return apply_examine(txn, id, notify_, now_ms);
      },
      [this, payout_id](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) {
          scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_first_ms);
          return;
        }
        if (r.error != Error::kNone || r.payout.status != PayoutStatus::kProcessing) {
          if (r.error == Error::kNone) notify(r);  // expired while a page waited
          return;
        }
        switch (r.order.stage) {
          case OrderStage::kRegistered:
            scheduler_.schedule(payout_id, r.order.expires_ms);
            break;
          case OrderStage::kSending:
            dispatch(r.payout, r.order);
            break;
          case OrderStage::kAwaiting:
            rail_.status(r.order.order_id, [this, payout_id](rails::Answer a) {
              AnswerInput in{payout_id, std::move(a), true};
              run_job(
                  engine_, shared_->wake, std::move(in),
                  +[](const AnswerInput& i, store::Footprint& f) { f.payout_ids.push_back(i.payout_id); },
                  [this](const AnswerInput& i, WriteTxn& txn, std::int64_t now_ms) {
                    return apply_answer(txn, i, options_, notify_, now_ms);
                  },
                  [this, payout_id](CardPayoutResult r2, const store::Status& s) {
                    if (!s.ok) {
                      scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_first_ms);
                      return;
                    }
                    after_change(r2);
                  });
            });
            break;
          case OrderStage::kFinal:
            break;
        }
      });
}

std::optional<std::string> CardPayouts::card_pan(std::string_view tenant,
                                                 std::string_view card_id) const {
  auto record = store_.get_record(tenant, kCardRecord, card_id);
  if (!record) return std::nullopt;
  auto v = parse_record(*record);
  if (!v) return std::nullopt;
  return vault_.unseal(tenant, card_id, string_member(*v, "sealed"));
}

void CardPayouts::dispatch(const PayoutRecord& p, const CardOrder& o, const Sealed* sealed) {
  std::optional<std::string> pan;
  try {
    // The card the request brought is still at hand, sealed: no read of the store for it.
    pan = sealed && !sealed->blob.empty() ? vault_.unseal(p.tenant, sealed->card_id, sealed->blob)
                                          : card_pan(p.tenant, o.card_id);
  } catch (const std::exception& e) {
    spdlog::warn("card payout {}: cannot read its card: {}", p.id, e.what());
    scheduler_.schedule(p.id, clock_.now_ms() + options_.reconcile_first_ms);
    return;
  }
  if (!pan) {
    // The vault cannot open the card: an operator must look (audit shows the payout open).
    spdlog::error("card payout {}: its card {} does not open in the vault", p.id, o.card_id);
    return;
  }
  rails::CreditOrder credit{o.order_id, std::move(*pan), o.cardholder, {p.amount, p.currency}, o.parties};
  const std::int64_t payout_id = p.id;
  rail_.credit(std::move(credit), [this, payout_id](rails::Answer a) { answered(payout_id, std::move(a)); });
}

void CardPayouts::answered(std::int64_t payout_id, rails::Answer answer) {
  run_job(
      engine_, shared_->wake, AnswerInput{payout_id, std::move(answer), false},
      +[](const AnswerInput& i, store::Footprint& f) { f.payout_ids.push_back(i.payout_id); },
      [this](const AnswerInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_answer(txn, i, options_, notify_, now_ms);
      },
      [this, payout_id](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) {
          // The answer is lost with the batch; the rail still has it: ask again later.
          scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_first_ms);
          return;
        }
        after_change(r);
      });
}

// After an answer of the rail is durable: wake the requests waiting for it, and plan what next.
void CardPayouts::after_change(const CardPayoutResult& r) {
  if (r.error != Error::kNone) return;
  notify(r);
  if (r.payout.status != PayoutStatus::kProcessing) return;
  if (r.order.stage == OrderStage::kSending) {
    dispatch(r.payout, r.order);
  } else {
    scheduler_.schedule(r.payout.id, r.payout.due_ms);
  }
}

void CardPayouts::wait_for_rail(const PayoutRecord& p, CardPayoutCallback done) {
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->stopping) {
      shared_->waiters[p.id].push_back(
          {clock_.now_ms() + options_.waiter_timeout_ms, p.tenant, p.partner_id, std::move(done)});
      return;
    }
  }
  done({Error::kUnavailable, "the server is stopping"});
}

void CardPayouts::notify(const CardPayoutResult& r) {
  std::vector<Shared::Waiter> waiting;
  {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->waiters.find(r.payout.id);
    if (it == shared_->waiters.end()) return;
    waiting.swap(it->second);
    shared_->waiters.erase(it);
  }
  for (auto& w : waiting) w.done(r);
}

// Requests that waited longer than waiter_timeout_ms get the payout as it stands.
void CardPayouts::expire_waiters() {
  const std::int64_t now = clock_.now_ms();
  std::vector<std::pair<std::int64_t, Shared::Waiter>> late;
  {
    std::lock_guard lock(shared_->mutex);
    for (auto it = shared_->waiters.begin(); it != shared_->waiters.end();) {
      auto& list = it->second;
      for (auto w = list.begin(); w != list.end();) {
        if (w->deadline_ms <= now) {
          late.emplace_back(it->first, std::move(*w));
          w = list.erase(w);
        } else {
          ++w;
        }
      }
      it = list.empty() ? shared_->waiters.erase(it) : std::next(it);
    }
  }
  for (auto& [id, w] : late) {
    CardPayoutResult r;
    try {
      r = get(w.tenant, w.partner_id);
    } catch (const std::exception& e) {
      r = {Error::kUnavailable, "storage unavailable"};
    }
    engine_.after_durable([r = std::move(r), done = std::move(w.done)]() mutable { done(std::move(r)); });
  }
}

void CardPayouts::submit(CardPayoutRequest request, CardPayoutCallback done) {
  SubmitInput in;
  in.card = seal_card(vault_, request.tenant, request.pan, request.issuer, request.order.cardholder);
  Sealed sealed{in.card.card_id, in.card.sealed};
  in.fingerprint = fingerprint_of(request, in.card);
  in.source_code = !request.order.source_binding.empty() ? request.order.source_binding
                   : request.funding_code.empty()        ? std::string(kTransitAccount)
                                                         : request.funding_code;
  in.limits = shared_->limits_of(request.tenant);
  in.request = std::move(request);
  run_job(
      engine_, shared_->wake, std::move(in),
      +[](const SubmitInput& i, store::Footprint& f) {
        f.payouts.push_back({i.request.tenant, PayoutKind::kCardPayout, i.request.partner_id});
        f.accounts.push_back({i.request.tenant, AccountKind::kFunder, i.source_code});
      },
      [this](const SubmitInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_submit(txn, i, options_, notify_, now_ms);
      },
      [this, done, sealed = std::move(sealed)](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done({Error::kUnavailable, "storage unavailable"});
        if (r.error != Error::kNone) return done(std::move(r));
        const bool in_flight = r.payout.status == PayoutStatus::kProcessing &&
                               r.order.stage == OrderStage::kSending;
        if (r.payout.status == PayoutStatus::kProcessing && r.order.stage == OrderStage::kRegistered) {
          scheduler_.schedule(r.payout.id, r.order.expires_ms);
        }
        if (!in_flight) return done(std::move(r));
        wait_for_rail(r.payout, done);
        if (r.fresh) dispatch(r.payout, r.order, &sealed);
      });
}

void CardPayouts::confirm(std::string tenant, std::string partner_id, CardEntry card,
                          CardPayoutCallback done) {
  ConfirmInput in;
  in.card = seal_card(vault_, tenant, card.pan, card.issuer, std::move(card.cardholder));
  Sealed sealed{in.card.card_id, in.card.sealed};
  in.limits = shared_->limits_of(tenant);
  in.tenant = std::move(tenant);
  in.partner_id = std::move(partner_id);
  run_job(
      engine_, shared_->wake, std::move(in),
      +[](const ConfirmInput& i, store::Footprint& f) {
        f.payouts.push_back({i.tenant, PayoutKind::kCardPayout, i.partner_id});
      },
      [this](const ConfirmInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_confirm(txn, i, options_, notify_, now_ms);
      },
      [this, done, sealed = std::move(sealed)](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done({Error::kUnavailable, "storage unavailable"});
        if (r.error != Error::kNone) return done(std::move(r));
        if (r.payout.status == PayoutStatus::kProcessing && r.order.stage == OrderStage::kSending) {
          wait_for_rail(r.payout, done);
          if (r.fresh) dispatch(r.payout, r.order, &sealed);
          return;
        }
        done(std::move(r));
      });
}

void CardPayouts::request_code(std::string tenant, std::string partner_id, CodeAsk ask,
                               CardPayoutCallback done) {
  CodeRequest in;
  in.card = seal_card(vault_, tenant, ask.card.pan, ask.card.issuer, std::move(ask.card.cardholder));
  in.saved = std::move(ask.saved);
  in.save = ask.save;
  in.send = ask.send;
  in.parties = std::move(ask.parties);
  in.code = std::to_string(100000 + randombytes_uniform(900000));  // six digits
  in.code_mac = order_code_mac(vault_, tenant, partner_id, in.code);
  in.tenant = std::move(tenant);
  in.partner_id = std::move(partner_id);
  run_job(
      engine_, shared_->wake, std::move(in),
      +[](const CodeRequest& i, store::Footprint& f) {
        f.payouts.push_back({i.tenant, PayoutKind::kCardPayout, i.partner_id});
      },
      [this](const CodeRequest& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_request_code(txn, i, options_, notify_, now_ms);
      },
      or_unavailable<CardPayoutResult>(done));
}

void CardPayouts::refuse(std::string tenant, std::string partner_id, std::string decline_code,
                         CardPayoutCallback done) {
  run_job(
      engine_, shared_->wake, RefuseInput{std::move(tenant), std::move(partner_id), std::move(decline_code)},
      +[](const RefuseInput& i, store::Footprint& f) {
        f.payouts.push_back({i.tenant, PayoutKind::kCardPayout, i.partner_id});
      },
      [this](const RefuseInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_refuse(txn, i, notify_, now_ms);
      },
      or_unavailable<CardPayoutResult>(done));
}

void CardPayouts::confirm_code(std::string tenant, std::string partner_id, std::string code,
                               CardPayoutCallback done) {
  const std::string mac = order_code_mac(vault_, tenant, partner_id, code);
  sodium_memzero(code.data(), code.size());
  CodeEntry in{std::move(tenant), std::move(partner_id), mac, {}};
  in.limits = shared_->limits_of(in.tenant);
  run_job(
      engine_, shared_->wake, std::move(in),
      +[](const CodeEntry& i, store::Footprint& f) {
        f.payouts.push_back({i.tenant, PayoutKind::kCardPayout, i.partner_id});
      },
      [this](const CodeEntry& i, WriteTxn& txn, std::int64_t now_ms) {
        return apply_confirm_code(txn, i, options_, notify_, now_ms);
      },
      [this, done](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done({Error::kUnavailable, "storage unavailable"});
        if (r.error == Error::kNone && r.payout.status == PayoutStatus::kProcessing &&
            r.order.stage == OrderStage::kSending) {
          wait_for_rail(r.payout, done);
          if (r.fresh) dispatch(r.payout, r.order);
          return;
        }
        done(std::move(r));
      });
}

std::vector<CardPayouts::SavedCard> CardPayouts::saved_cards(std::string_view tenant,
                                                             std::string_view client_id) const {
  std::vector<SavedCard> cards;
  // A client id holding the separator could spell the start of another client's keys.
  if (client_id.empty() || client_id.find(kFieldSeparator) != std::string_view::npos) return cards;
  std::string prefix(client_id);
  prefix.push_back(kFieldSeparator);
  for (const auto& [key, binding_id] : store_.records_with_prefix(tenant, kClientCardIndex, prefix, 20)) {
    auto b = parse_binding(store_.get_record(tenant, kBindingRecord, binding_id));
    // The binding itself names its client: a key an earlier version let another client's id
    // spell (a separator inside it) shows nothing.
    if (!b || b->type != "recipient" || b->client_id != client_id) continue;
    auto card = store_.get_record(tenant, kCardRecord, b->card_id);
    auto v = card ? parse_record(*card) : std::nullopt;
    cards.push_back({binding_id, b->masked, v ? string_member(*v, "scheme") : "",
                     v ? string_member(*v, "country") : ""});
  }
  return cards;
}

CardPayoutResult CardPayouts::get(std::string_view tenant, std::string_view partner_id) const {
  auto payout = store_.get_payout(tenant, PayoutKind::kCardPayout, partner_id);
  if (!payout) return {Error::kNotFound, "no such order"};
  CardPayoutResult r;
  if (auto order = store_.get_record(tenant, kOrderRecord, partner_id)) {
    if (auto parsed = order_from_json(*order)) r.order = std::move(*parsed);
  }
  r.payout = std::move(*payout);
  return r;
}

CardPayoutResult CardPayouts::get_by_order_id(std::string_view order_id, std::string_view tenant_prefix,
                                              std::string* tenant) const {
  auto index = store_.get_record("", kOrderIdIndex, order_id);
  if (!index) return {Error::kNotFound, "no such order"};
  const auto sep = index->find(kFieldSeparator);
  if (sep == std::string::npos || !std::string_view(*index).substr(0, sep).starts_with(tenant_prefix)) {
    return {Error::kNotFound, "no such order"};
  }
  *tenant = index->substr(0, sep);
  return get(*tenant, std::string_view(*index).substr(sep + 1));
}

std::optional<Account> CardPayouts::funding_account(std::string_view tenant,
                                                    std::string_view source_binding) const {
  if (!source_binding.empty()) {
    auto binding = parse_binding(store_.get_record(tenant, kBindingRecord, source_binding));
    if (!binding || !binding->debit_tool()) return std::nullopt;
  }
  return store_.get_account(tenant, AccountKind::kFunder,
                            source_binding.empty() ? kTransitAccount : source_binding);
}

void CardPayouts::provision_binding(std::string tenant, std::string binding_id, bool debit,
                                    std::string client_id, CardEntry card, AdminCallback done) {
  struct Input {
    std::string tenant, binding_id, client_id;
    bool debit;
    SealedCard card;
  };
  Input in{tenant, std::move(binding_id), std::move(client_id), debit,
           seal_card(vault_, tenant, card.pan, card.issuer, std::move(card.cardholder))};
  auto job = make_job<AdminResult>(
      std::move(in), [](const Input&, store::Footprint&) {},
      [](const Input& i, WriteTxn& txn, std::int64_t now_ms) -> AdminResult {
        if (auto existing = parse_binding(txn.find_record(i.tenant, kBindingRecord, i.binding_id))) {
          if (existing->type == (i.debit ? "debit" : "recipient")) return {};
          return {Error::kIdConflict, "the binding exists with another type"};
        }
        const std::string card_id = vault_card(txn, i.tenant, i.card, now_ms);
        Binding b{i.debit ? "debit" : "recipient", i.client_id, card_id, i.card.masked, i.card.cardholder, {}, false, 0};
        insert_binding(txn, i.tenant, i.binding_id, b, now_ms);
        if (i.debit) put_setting(txn, i.tenant, "debit-card:" + card_id, i.binding_id);
        return {};
      },
      or_unavailable<AdminResult>(done));
  if (!engine_.committer().submit(std::move(job))) done({Error::kUnavailable, "overloaded"});
}


// --- corporate cards ----------------------------------------------------------------------------


std::vector<CorporateCard> CardPayouts::corporate_cards(std::string_view tenant) const {
  std::vector<CorporateCard> out;
  const std::string primary = primary_card(tenant);
  for (const Account& a : store_.tenant_accounts(tenant, AccountKind::kFunder)) {
    if (a.code == kTransitAccount) continue;
    auto b = parse_binding(store_.get_record(tenant, kBindingRecord, a.code));
    if (!b || !b->debit_tool()) continue;
    out.push_back({a.code, b->masked, b->holder, b->expiry, a.code == primary, a});
  }
  return out;
}

std::optional<std::string> CardPayouts::setting(std::string_view tenant, std::string_view name) const {
  return store_.get_record(tenant, kTenantSettings, name);
}

std::string CardPayouts::primary_card(std::string_view tenant) const {
  auto id = setting(tenant, "primary_card");
  if (!id || id->empty()) return {};
  auto b = parse_binding(store_.get_record(tenant, kBindingRecord, *id));
  return b && b->debit_tool() ? *id : std::string();
}

void CardPayouts::set_setting(std::string tenant, std::string name, std::string value, AdminCallback done) {
  run_simple<AdminResult>(
      engine_, shared_->wake,
      [tenant, name, value](WriteTxn& txn, std::int64_t) {
        put_setting(txn, tenant, name, value);
        return AdminResult{};
      },
      or_unavailable<AdminResult>(done));
}

void CardPayouts::set_primary_card(std::string tenant, std::string binding_id, AdminCallback done) {
  run_simple<AdminResult>(
      engine_, shared_->wake,
      [tenant, binding_id](WriteTxn& txn, std::int64_t) {
        auto b = parse_binding(txn.find_record(tenant, kBindingRecord, binding_id));
        if (!b || !b->debit_tool()) return AdminResult{Error::kNotFound, "not a corporate card of the tenant"};
        put_setting(txn, tenant, "primary_card", binding_id);
        return AdminResult{};
      },
      or_unavailable<AdminResult>(done));
}

void CardPayouts::remove_card(std::string tenant, std::string binding_id, AdminCallback done) {
  run_simple<AdminResult>(
      engine_, shared_->wake,
      [tenant, binding_id](WriteTxn& txn, std::int64_t) {
        auto b = parse_binding(txn.find_record(tenant, kBindingRecord, binding_id));
        if (!b || !b->debit_tool()) return AdminResult{Error::kNotFound, "not a corporate card of the tenant"};
        Account* a = txn.find_account(tenant, AccountKind::kFunder, binding_id);
        if (a && a->debits_pending > 0) return AdminResult{Error::kInvalid, "in-use"};
        b->deleted = true;
        txn.update_record(tenant, kBindingRecord, binding_id, binding_json(*b));
        if (txn.find_record(tenant, kTenantSettings, "primary_card") == binding_id) {
          put_setting(txn, tenant, "primary_card", "");
        }
        return AdminResult{};
      },
      or_unavailable<AdminResult>(done));
}

std::optional<Enrolment> CardPayouts::enrolment(std::string_view tenant, std::string_view id) const {
  return parse_enrolment(id, store_.get_record(tenant, kEnrolmentRecord, id));
}

void CardPayouts::enrol_card(std::string tenant, CardEntry card, std::string expiry, std::string phone,
                             EnrolmentCallback done) {
  const SealedCard sealed = seal_card(vault_, tenant, card.pan, card.issuer, card.cardholder);
  const std::string id = new_uuid();
  std::string code = std::to_string(100000 + randombytes_uniform(900000));
  const std::string code_mac = enrolment_code_mac(vault_, tenant, id, code);
  // The SMS is stored sealed: the clear code exists only in this process until it is sent.
  const std::string event_id = "card-enrolment:" + id + ":code";
  const std::string text = vault_.seal_message(
      tenant, event_id,
      "Код подтверждения карты " + sealed.masked + ": " + code + ". Никому не сообщайте его. / Card confirmation code: " +
          code + ".");
  sodium_memzero(code.data(), code.size());
  run_simple<EnrolmentResult>(
      engine_, shared_->wake,
      [tenant, sealed, expiry, phone, id, code_mac, event_id, text](WriteTxn& txn, std::int64_t now_ms) {
        EnrolmentResult r;
        const std::string card_id = vault_card(txn, tenant, sealed, now_ms);
        // A card already among the tenant's corporate cards is not added twice.
        if (auto existing = txn.find_record(tenant, kTenantSettings, "debit-card:" + card_id)) {
          auto b = parse_binding(txn.find_record(tenant, kBindingRecord, *existing));
          if (b && b->debit_tool()) return EnrolmentResult{Error::kIdConflict, "already-added", {}};
        }
        Enrolment& e = r.enrolment;
        e.id = id;
        e.state = "code-sent";
        e.card_id = card_id;
        e.masked_pan = sealed.masked;
        e.holder = sealed.cardholder;
        e.expiry = expiry;
        e.phone = phone;
        e.code_hash = code_mac;
        e.code_expires_ms = now_ms + kEnrolmentCodeLifeMs;
        e.created_ms = now_ms;
        txn.insert_record(tenant, kEnrolmentRecord, id, enrolment_json(e));
        store::OutboxMessage m;
        m.tenant = tenant;
        m.event_id = event_id;
        m.target = "sms:" + phone;
        m.body = text;
        m.sealed = true;
        m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
        txn.insert_outbox(m);
        return r;
      },
      or_unavailable<EnrolmentResult>(done),
      true);
}

void CardPayouts::confirm_enrolment(std::string tenant, std::string id, std::string code,
                                    std::int64_t opening_minor, EnrolmentCallback done) {
  const std::string code_mac = enrolment_code_mac(vault_, tenant, id, code);
  sodium_memzero(code.data(), code.size());
  run_simple<EnrolmentResult>(
      engine_, shared_->wake,
      [tenant, id, code_mac](WriteTxn& txn, std::int64_t now_ms) {
        auto e = parse_enrolment(id, txn.find_record(tenant, kEnrolmentRecord, id));
        if (!e) return EnrolmentResult{Error::kNotFound, "no such enrolment", {}};
        EnrolmentResult r{Error::kNone, {}, *e};
        auto refuse = [&](const char* why) {
          txn.update_record(tenant, kEnrolmentRecord, id, enrolment_json(r.enrolment));
          r.error = Error::kInvalid;
          r.detail = why;
          return r;
        };
        Enrolment& en = r.enrolment;
        if (en.state != "code-sent" || en.code_hash.empty()) return EnrolmentResult{Error::kInvalid, "not-open", en};
        if (now_ms >= en.code_expires_ms) {
          en.state = "declined", en.reason = "code-expired", en.code_hash.clear();
          return refuse("code-expired");
        }
        if (!secrets_equal(code_mac, en.code_hash)) {
          if (++en.attempts >= kEnrolmentAttemptsMax) en.state = "declined", en.reason = "wrong-code", en.code_hash.clear();
          return refuse("wrong-code");
        }
        en.state = "verifying";
        en.code_hash.clear();
        txn.update_record(tenant, kEnrolmentRecord, id, enrolment_json(en));
        return r;
      },
      [this, tenant, opening_minor, done](EnrolmentResult r, const store::Status& status) {
        if (!status.ok) return done({Error::kUnavailable, "storage unavailable", {}});
        if (r.error != Error::kNone) return done(std::move(r));
        verify_enrolment(tenant, std::move(r.enrolment), opening_minor, done);
      });
}

void CardPayouts::verify_enrolment(std::string tenant, Enrolment e, std::int64_t opening_minor,
                                   EnrolmentCallback done) {
  auto pan = card_pan(tenant, e.card_id);
  auto finish = [this, tenant, e, opening_minor, done](rails::Answer answer) {
    const bool approved = answer.outcome == rails::Outcome::kApproved;
    const std::string binding_id = new_uuid();
    const std::string reason = approved ? std::string()
                               : answer.outcome == rails::Outcome::kDeclined ? "declined " + answer.code
                                                                              : "no-answer";
    run_simple<EnrolmentResult>(
        engine_, shared_->wake,
        [tenant, e, approved, binding_id, reason](WriteTxn& txn, std::int64_t now_ms) {
          auto current = parse_enrolment(e.id, txn.find_record(tenant, kEnrolmentRecord, e.id));
          if (!current) return EnrolmentResult{Error::kNotFound, "no such enrolment", {}};
          EnrolmentResult r{Error::kNone, {}, *current};
          Enrolment& en = r.enrolment;
          if (en.state != "verifying") return r;  // decided before (a retry)
          if (!approved) {
            en.state = "declined";
            en.reason = reason;
          } else {
            en.state = "bound";
            en.binding_id = binding_id;
            Binding b{"debit", "", en.card_id, en.masked_pan, en.holder, en.expiry, false, 0};
            insert_binding(txn, tenant, binding_id, b, now_ms);
            put_setting(txn, tenant, "debit-card:" + en.card_id, binding_id);
            Account a;
            a.tenant = tenant;
            a.kind = AccountKind::kFunder;
            a.code = binding_id;
            a.owner = "Corporate card " + en.masked_pan;
            a.currency = Currency::from_code("KZT").value();
            a.created_ms = now_ms;
            txn.insert_account(a);
          }
          txn.update_record(tenant, kEnrolmentRecord, e.id, enrolment_json(en));
          return r;
        },
        [this, tenant, opening_minor, done](EnrolmentResult r, const store::Status& status) {
          if (!status.ok) return done({Error::kUnavailable, "storage unavailable", {}});
          if (r.error != Error::kNone || r.enrolment.state != "bound" || opening_minor <= 0) return done(std::move(r));
          const std::string binding = r.enrolment.binding_id;
          engine_.credit_funder(tenant, "opening-balance:" + binding, binding,
                                Amount{opening_minor, Currency::from_code("KZT").value()},
                                [r = std::move(r), done](AdminResult) mutable { done(std::move(r)); });
        });
  };
  if (!pan) return finish({rails::Outcome::kDeclined, {}, "14", "the card is not in the vault", 0});
  rails::CreditOrder check{e.id, std::move(*pan), e.holder, {kVerificationMinor, Currency::from_code("KZT").value()},
                           {}, true};
  rail_.credit(std::move(check), std::move(finish));
}
}  // namespace payoutd::engine
