#pragma once
// A tenant's corporate cards, bindings and settings: the part of the card engine the partner
// cabinet and the Bereke dialect use to manage how payouts are funded.
//
// - Corporate cards are debit bindings: each funds payouts from an account of its own (kFunder,
//   code = its binding id). One is added by enrolment (enrolment.h): a code by SMS, then the rail
//   verifies the card; a card may be made the primary one (it funds payouts that name no source)
//   or deleted (it funds nothing more; its account and history stay).
// - Settings (kTenantSettings records): the primary card and the KNP (payment purpose code).
// - Bindings of the sandbox's provisioning: recipient (a client's saved card) or debit.
//
// Threads: commands may be issued from any thread; callbacks complete on the committer's syncer
// thread once the outcome is durable (confirm_enrolment: on a rail's thread first), and must be
// quick. Reads read the store on the caller's thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cards/vault.h"
#include "core/tenant.h"
#include "engine/cards/enrolment.h"
#include "engine/cards/order.h"
#include "engine/cards/records.h"
#include "engine/payouts.h"
#include "rails/rail_set.h"

namespace payoutd::engine {

// A partner's corporate card: a debit tool, funding payouts from its own account.
struct CorporateCard {
  std::string binding_id, masked_pan, holder, expiry;
  bool primary = false;
  ledger::Account account;
};

// What a command on corporate cards, bindings or settings did.
enum class CorporateCardResult : std::uint8_t {
  kOk,
  kNotFound,      // set_primary, remove: not a corporate card of the tenant
  kInUse,         // remove: payouts in flight hold a reservation on its account
  kKindConflict,  // provision_binding: the binding exists with the other kind
  kUnavailable,   // overloaded, or a storage failure: nothing happened, retry
};
using CorporateCardCallback = std::function<void(CorporateCardResult)>;

class CorporateCards {
 public:
  CorporateCards(PayoutEngine& engine, const store::Store& store, cards::Vault& vault,
                 rails::RailSet& rails);

  // Called after a batch that wrote an SMS is durable (the dispatcher's wake-up). Set before
  // the first command.
  void on_outbox(std::function<void()> wake);

  // The reads below return the store's ReadError when it cannot be read.
  // The funding account of `source_binding` (empty: the transit account), if it exists and the
  // binding is one of the tenant's debit tools.
  store::Read<std::optional<ledger::Account>> funding_account(
      const Tenant& tenant, std::string_view source_binding) const;
  // The tenant's corporate cards, oldest first.
  store::Read<std::vector<CorporateCard>> cards(const Tenant& tenant) const;
  // The one that funds payouts that name no source (empty: none, the transit account does).
  store::Read<std::string> primary_card(const Tenant& tenant) const;
  // Makes a corporate card the primary one: kNotFound.
  void set_primary(const Tenant& tenant, const std::string& binding_id, CorporateCardCallback done);
  // Deletes a corporate card: kNotFound, kInUse.
  void remove(const Tenant& tenant, const std::string& binding_id, CorporateCardCallback done);

  // The tenant's KNP, if it set one (else the dialect's configured default applies).
  store::Read<std::optional<std::string>> knp(const Tenant& tenant) const;
  void set_knp(const Tenant& tenant, const std::string& knp, CorporateCardCallback done);

  // Starts adding a corporate card: seals it, and sends a code by SMS (the outbox, target
  // "sms:<phone>") in the same batch. kAlreadyAdded when it is one already.
  void enrol(const Tenant& tenant, CardEntry card, std::string expiry, std::string phone,
             EnrolmentCallback done);
  // Checks the code (three entries, five minutes); when right, the rail verifies the card and an
  // approved card is bound; `opening_minor` (the sandbox's simulated balance of the card) is then
  // credited to its account. `done` runs once the enrolment is bound or declined. kNotFound,
  // kNotOpen, kCodeExpired, kWrongCode.
  void confirm_enrolment(const Tenant& tenant, const std::string& id, std::string code,
                         std::int64_t opening_minor, EnrolmentCallback done);

  // Sandbox provisioning: a binding of the tenant to a card (idempotent by binding id): a
  // corporate card (kDebit), or a recipient binding of `client_id`. kKindConflict.
  void provision_binding(const Tenant& tenant, const std::string& binding_id, BindingKind kind,
                         const std::string& client_id, CardEntry card, CorporateCardCallback done);

 private:
  void verify(const Tenant& tenant, const Enrolment& e, std::int64_t opening_minor,
              EnrolmentCallback done);
  void bind(const Tenant& tenant, const Enrolment& e, rails::Answer answer,
            std::int64_t opening_minor, EnrolmentCallback done);

  PayoutEngine& engine_;
  const store::Store& store_;
  cards::Vault& vault_;
  rails::RailSet& rails_;
  std::function<void()> wake_;
};

}  // namespace payoutd::engine
