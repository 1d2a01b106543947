#include "engine/cards/corporate_cards.h"

#include <sodium.h>

#include <utility>

#include "core/ids.h"
#include "engine/cards/card_store.h"
#include "engine/cards/jobs.h"
#include "engine/cards/transitions.h"

namespace payoutd::engine {

using card_jobs::find_binding;
using card_jobs::or_unavailable;
using card_jobs::put_setting;
using card_jobs::run_record_job;
using card_jobs::SealedCard;
using ledger::Account;
using ledger::AccountKind;
using store::WriteTxn;

namespace {

constexpr std::int64_t kVerificationMinor = 1;  // the rail's check debits this and returns it

Currency kzt() { return Currency::from_code("KZT").value(); }

std::string debit_card_setting(std::string_view card_id) {
  return std::string(kDebitCardSetting) + std::string(card_id);
}

std::optional<Enrolment> find_enrolment(WriteTxn& txn, const std::string& tenant,
                                        const std::string& id) {
  auto text = txn.find_record(tenant, kEnrolmentRecord, id);
  return text ? enrolment_from_json(id, *text) : std::nullopt;
}

struct EnrolInput {
  std::string tenant, id;
  SealedCard card;
  std::string expiry, phone;
  std::string code_mac;
  std::string event_id, sms_sealed;  // the SMS, sealed: its clear text never reaches the batch
};

// The enrolment and its SMS, in one batch.
EnrolmentResult start_enrolment(WriteTxn& txn, const EnrolInput& in, std::int64_t now_ms) {
  transitions::CardFacts card = in.card.facts;
  card.card_id = card_jobs::vault_card(txn, in.tenant, in.card, now_ms);
  // A card already among the tenant's corporate cards is not added twice.
  if (auto existing =
          txn.find_record(in.tenant, kTenantSettings, debit_card_setting(card.card_id))) {
    auto b = find_binding(txn, in.tenant, *existing);
    if (b && b->debit_tool()) return {EnrolmentError::kAlreadyAdded, {}};
  }
  EnrolmentResult r;
  r.enrolment = transitions::start_enrolment(in.id, card, in.expiry, in.phone, in.code_mac, now_ms);
  txn.insert_record(in.tenant, kEnrolmentRecord, in.id, enrolment_to_json(r.enrolment));
  store::OutboxMessage m;
  m.tenant = in.tenant;
  m.event_id = in.event_id;
  m.target = "sms:" + in.phone;
  m.body = in.sms_sealed;
  m.sealed = true;
  m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
  txn.insert_outbox(m);
  return r;
}

// A verified card becomes a corporate card: a debit binding with a funding account of its own.
void add_corporate_card(WriteTxn& txn, const std::string& tenant, const Enrolment& e,
                        std::int64_t now_ms) {
  Binding b;
  b.kind = BindingKind::kDebit;
  b.card_id = e.card_id;
  b.masked = e.masked_pan;
  b.holder = e.holder;
  b.expiry = e.expiry;
  card_jobs::insert_binding(txn, tenant, e.binding_id, std::move(b), now_ms);
  put_setting(txn, tenant, debit_card_setting(e.card_id), e.binding_id);
  Account a;
  a.tenant = tenant;
  a.kind = AccountKind::kFunder;
  a.code = e.binding_id;
  a.owner = "Corporate card " + e.masked_pan;
  a.currency = kzt();
  a.created_ms = now_ms;
  txn.insert_account(a);
}

}  // namespace

CorporateCards::CorporateCards(PayoutEngine& engine, const store::Store& store, cards::Vault& vault,
                               rails::RailSet& rails)
    : engine_(engine), store_(store), vault_(vault), rails_(rails) {}

void CorporateCards::on_outbox(std::function<void()> wake) { wake_ = std::move(wake); }

// --- corporate cards and settings ---------------------------------------------------------------

store::Read<std::optional<Account>> CorporateCards::funding_account(
    const Tenant& owner, std::string_view source_binding) const {
  const std::string tenant = owner.key();
  if (!source_binding.empty()) {
    auto binding = card_jobs::get_binding(store_, tenant, source_binding);
    if (!binding.ok()) return Failure{binding.error()};
    if (!*binding || !(*binding)->debit_tool()) return std::optional<Account>();
  }
  return store_.get_account(tenant, AccountKind::kFunder,
                            source_binding.empty() ? kTransitAccount : source_binding);
}

store::Read<std::vector<CorporateCard>> CorporateCards::cards(const Tenant& owner) const {
  const std::string tenant = owner.key();
  std::vector<CorporateCard> out;
  const auto primary = primary_card(owner);
  if (!primary.ok()) return Failure{primary.error()};
  const auto accounts = store_.tenant_accounts(tenant, AccountKind::kFunder);
  if (!accounts.ok()) return Failure{accounts.error()};
  for (const Account& a : *accounts) {
    if (a.code == kTransitAccount) continue;
    auto b = card_jobs::get_binding(store_, tenant, a.code);
    if (!b.ok()) return Failure{b.error()};
    if (!*b || !(*b)->debit_tool()) continue;
    out.push_back({a.code, (*b)->masked, (*b)->holder, (*b)->expiry, a.code == *primary, a});
  }
  return out;
}

store::Read<std::string> CorporateCards::primary_card(const Tenant& owner) const {
  const std::string tenant = owner.key();
  auto id = store_.get_record(tenant, kTenantSettings, kPrimaryCardSetting);
  if (!id.ok()) return Failure{id.error()};
  if (!*id || (*id)->empty()) return std::string();
  auto b = card_jobs::get_binding(store_, tenant, **id);
  if (!b.ok()) return Failure{b.error()};
  return *b && (*b)->debit_tool() ? **id : std::string();
}

void CorporateCards::set_primary(const Tenant& owner, const std::string& binding_id,
                                 CorporateCardCallback done) {
  const std::string tenant = owner.key();
  run_record_job<CorporateCardResult>(
      engine_.committer(), wake_,
      [tenant, binding_id](WriteTxn& txn, std::int64_t) {
        auto b = find_binding(txn, tenant, binding_id);
        if (!b || !b->debit_tool()) return CorporateCardResult::kNotFound;
        put_setting(txn, tenant, kPrimaryCardSetting, binding_id);
        return CorporateCardResult::kOk;
      },
      or_unavailable(std::move(done), CorporateCardResult::kUnavailable));
}

void CorporateCards::remove(const Tenant& owner, const std::string& binding_id,
                            CorporateCardCallback done) {
  const std::string tenant = owner.key();
  run_record_job<CorporateCardResult>(
      engine_.committer(), wake_,
      [tenant, binding_id](WriteTxn& txn, std::int64_t) {
        auto b = find_binding(txn, tenant, binding_id);
        if (!b || !b->debit_tool()) return CorporateCardResult::kNotFound;
        Account* a = txn.find_account(tenant, AccountKind::kFunder, binding_id);
        if (a && a->debits_pending > 0) return CorporateCardResult::kInUse;
        b->deleted = true;
        txn.update_record(tenant, kBindingRecord, binding_id, binding_to_json(*b));
        if (txn.find_record(tenant, kTenantSettings, kPrimaryCardSetting) == binding_id) {
          put_setting(txn, tenant, kPrimaryCardSetting, "");
        }
        return CorporateCardResult::kOk;
      },
      or_unavailable(std::move(done), CorporateCardResult::kUnavailable));
}

store::Read<std::optional<std::string>> CorporateCards::knp(const Tenant& owner) const {
  const std::string tenant = owner.key();
  return store_.get_record(tenant, kTenantSettings, kKnpSetting);
}

void CorporateCards::set_knp(const Tenant& owner, const std::string& knp,
                             CorporateCardCallback done) {
  const std::string tenant = owner.key();
  run_record_job<CorporateCardResult>(
      engine_.committer(), wake_,
      [tenant, knp](WriteTxn& txn, std::int64_t) {
        put_setting(txn, tenant, kKnpSetting, knp);
        return CorporateCardResult::kOk;
      },
      or_unavailable(std::move(done), CorporateCardResult::kUnavailable));
}

// --- enrolment ----------------------------------------------------------------------------------

void CorporateCards::enrol(const Tenant& owner, CardEntry card, std::string expiry,
                           std::string phone, EnrolmentCallback done) {
  std::string tenant = owner.key();
  EnrolInput in;
  in.card = card_jobs::seal_card(vault_, tenant, card.pan, card.issuer, card.cardholder);
  in.id = new_uuid();
  std::string code = card_jobs::new_code();
  in.code_mac = card_jobs::enrolment_code_mac(vault_, tenant, in.id, code);
  // The SMS is stored sealed: the clear code exists only in this process until it is sent.
  in.event_id = "card-enrolment:" + in.id + ":code";
  in.sms_sealed =
      vault_.seal_message(tenant, in.event_id,
                          "Код подтверждения карты " + in.card.facts.masked_pan + ": " + code +
                              ". Никому не сообщайте его. / Card confirmation code: " + code + ".");
  sodium_memzero(code.data(), code.size());
  in.tenant = std::move(tenant);
  in.expiry = std::move(expiry);
  in.phone = std::move(phone);
  run_record_job<EnrolmentResult>(
      engine_.committer(), wake_,
      [in = std::move(in)](WriteTxn& txn, std::int64_t now_ms) {
        return start_enrolment(txn, in, now_ms);
      },
      or_unavailable(std::move(done), EnrolmentResult{EnrolmentError::kUnavailable, {}}),
      /*notifies=*/true);
}

void CorporateCards::confirm_enrolment(const Tenant& owner, const std::string& id, std::string code,
                                       std::int64_t opening_minor, EnrolmentCallback done) {
  const std::string tenant = owner.key();
  const std::string code_mac = card_jobs::enrolment_code_mac(vault_, tenant, id, code);
  sodium_memzero(code.data(), code.size());
  run_record_job<EnrolmentResult>(
      engine_.committer(), wake_,
      [tenant, id, code_mac](WriteTxn& txn, std::int64_t now_ms) {
        auto e = find_enrolment(txn, tenant, id);
        if (!e) return EnrolmentResult{EnrolmentError::kNotFound, {}};
        transitions::EnrolmentStep step =
            transitions::enter_enrolment_code(std::move(*e), code_mac, now_ms);
        if (step.write) {
          txn.update_record(tenant, kEnrolmentRecord, id, enrolment_to_json(step.enrolment));
        }
        return EnrolmentResult{step.refusal, std::move(step.enrolment)};
      },
      [this, owner, opening_minor, done](EnrolmentResult r, const store::Status& status) {
        if (!status.ok) return done({EnrolmentError::kUnavailable, {}});
        if (r.error != EnrolmentError::kNone) return done(std::move(r));
        verify(owner, r.enrolment, opening_minor, done);
      });
}

// The rail checks the card (a minimal debit, returned at once).
void CorporateCards::verify(const Tenant& owner, const Enrolment& e, std::int64_t opening_minor,
                            EnrolmentCallback done) {
  const std::string tenant = owner.key();
  auto card = card_jobs::get_card(store_, tenant, e.card_id);
  auto pan = card_jobs::open_card(store_, vault_, tenant, e.card_id);
  // Nothing was debited or bound: the enrolment stays unverified, and the partner starts anew.
  if (!card.ok() || !pan.ok()) return done({EnrolmentError::kUnavailable, {}});
  if (!*card || !*pan) {
    return bind(owner, e, {rails::Outcome::kDeclined, {}, "14", "the card is not in the vault", 0},
                opening_minor, std::move(done));
  }
  const Amount amount{kVerificationMinor, kzt()};
  // The card's rail as a payout to it would go; the check is final at once, so it needs no record
  // of the rail (a check that no rail takes is declined like one the network refuses).
  const auto route = rails_.route(owner, {(*card)->scheme, (*card)->country, amount});
  rails::CardRail* rail = route ? rails_.find(route->rail) : nullptr;
  if (!rail) {
    return bind(owner, e, {rails::Outcome::kDeclined, {}, "57", "no rail takes this card", 0},
                opening_minor, std::move(done));
  }
  rails::CreditOrder check{e.id, std::move(**pan), e.holder, amount, {}, true};
  rail->credit(std::move(check), [this, owner, e, opening_minor, done](rails::Answer answer) {
    bind(owner, e, std::move(answer), opening_minor, done);
  });
}

// The verification's answer: an approved card bound (and its opening balance credited).
void CorporateCards::bind(const Tenant& owner, const Enrolment& e, rails::Answer answer,
                          std::int64_t opening_minor, EnrolmentCallback done) {
  const std::string tenant = owner.key();
  run_record_job<EnrolmentResult>(
      engine_.committer(), wake_,
      [tenant, id = e.id, answer = std::move(answer), binding_id = new_uuid()](
          WriteTxn& txn, std::int64_t now_ms) {
        auto current = find_enrolment(txn, tenant, id);
        if (!current) return EnrolmentResult{EnrolmentError::kNotFound, {}};
        transitions::EnrolmentStep step =
            transitions::verified(std::move(*current), answer, binding_id);
        // Decided before (a retry): the decision stands.
        if (!step.write) return EnrolmentResult{EnrolmentError::kNone, std::move(step.enrolment)};
        if (step.enrolment.state == EnrolmentState::kBound) {
          add_corporate_card(txn, tenant, step.enrolment, now_ms);
        }
        txn.update_record(tenant, kEnrolmentRecord, id, enrolment_to_json(step.enrolment));
        return EnrolmentResult{EnrolmentError::kNone, std::move(step.enrolment)};
      },
      [this, owner, opening_minor, done](EnrolmentResult r, const store::Status& status) {
        if (!status.ok) return done({EnrolmentError::kUnavailable, {}});
        const bool bound =
            r.error == EnrolmentError::kNone && r.enrolment.state == EnrolmentState::kBound;
        if (!bound || opening_minor <= 0) return done(std::move(r));
        const std::string binding = r.enrolment.binding_id;
        engine_.credit_funder(
            owner, "opening-balance:" + binding, binding, Amount{opening_minor, kzt()},
            [r = std::move(r), done](const AdminResult&) mutable { done(std::move(r)); });
      });
}

// --- provisioning -------------------------------------------------------------------------------

void CorporateCards::provision_binding(const Tenant& owner, const std::string& binding_id,
                                       BindingKind kind, const std::string& client_id,
                                       CardEntry card, CorporateCardCallback done) {
  const std::string tenant = owner.key();
  SealedCard sealed =
      card_jobs::seal_card(vault_, tenant, card.pan, card.issuer, std::move(card.cardholder));
  run_record_job<CorporateCardResult>(
      engine_.committer(), wake_,
      [tenant, binding_id, kind, client_id, sealed = std::move(sealed)](WriteTxn& txn,
                                                                        std::int64_t now_ms) {
        if (auto existing = find_binding(txn, tenant, binding_id)) {
          return existing->kind == kind ? CorporateCardResult::kOk
                                        : CorporateCardResult::kKindConflict;
        }
        Binding b;
        b.kind = kind;
        b.client_id = client_id;
        b.card_id = card_jobs::vault_card(txn, tenant, sealed, now_ms);
        b.masked = sealed.facts.masked_pan;
        b.holder = sealed.facts.cardholder;
        const std::string card_id = b.card_id;
        card_jobs::insert_binding(txn, tenant, binding_id, std::move(b), now_ms);
        if (kind == BindingKind::kDebit)
          put_setting(txn, tenant, debit_card_setting(card_id), binding_id);
        return CorporateCardResult::kOk;
      },
      or_unavailable(std::move(done), CorporateCardResult::kUnavailable));
}

}  // namespace payoutd::engine
