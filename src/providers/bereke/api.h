#pragma once
// Bereke Bank dialect: Payouts Module API v2 (seed 003) on the card payout engine. Card payouts
// by API (performPayout.do) or through the bank's hosted card page (registerPayout.do, whose
// formUrl pages/ serves), balance (getAmount.do), status (getPayoutStatus.do) and echo.
// docs/bereke.md is the contract: every field, every error row, and the choices made where the
// seed is silent.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_certificate.h"
#include "core/tenant.h"
#include "core/throttle.h"
#include "engine/cards/card_payouts.h"
#include "http/server.h"
#include "providers/bereke/settings.h"
#include "tenants/directory.h"

namespace payoutd::providers::bereke {

struct Options {
  std::string node = "payoutd";      // echo: the node's name
  std::string instance = "sandbox";  // echo: the instance's name
  // Base of the hosted pages' URLs (formUrl), e.g. https://payouts.example; empty: the server's
  // own http://HOST:PORT.
  std::string public_url;
  std::int64_t session_timeout_default_s = 1200;
  ThrottleOptions throttle;  // wrong userName/password pairs
};

// The provider's name: its tenants' provider, its registry line and config section.
inline constexpr std::string_view kProvider = "bereke";
// The tenant of the partner `partner_id`: {kProvider, partner_id}.
Tenant tenant_of(std::string_view partner_id);

// A partner as the tenant directory has it now (Dialect::partner_of_tenant).
struct PartnerView {
  std::shared_ptr<const tenants::Snapshot> snapshot;  // keeps the pointers below alive
  const tenants::TenantEntry* entry = nullptr;        // nullptr: no such partner
  const PartnerSettings* settings = nullptr;          // nullptr: none, or its settings unread
  bool suspended() const { return entry && entry->record.status == tenants::Status::kSuspended; }
};

class Dialect {
 public:
  // Its partners are the tenants of `tenants` whose provider is kProvider.
  Dialect(engine::CardPayouts& cards, Options options, tenants::Directory& tenants);

  // True when the path belongs to this dialect; the request is then answered through `respond`.
  bool handle(http::Request& request, const http::Responder& respond);
  // The base of formUrl once the server knows its port (when public_url is not configured).
  void set_public_url(std::string url);

  const Options& options() const { return options_; }
  // The partner of `tenant` (any status: closed ones too), refreshing the directory once when
  // it is unknown.
  PartnerView partner_of_tenant(const Tenant& tenant) const;

 private:
  struct Call;
  struct Method;
  // GET echo: the node's and the instance's names.
  void echo(const http::Request& request, const http::Responder& respond) const;
  // The call's password finds its partner in the tenant directory (by its digest), whose userName
  // and client certificates it must then match; wrong pairs and certificates throttled alike, all
  // answered alike; sets call.partner, or answers the refusal itself and returns false.
  bool authenticate(const http::Request& request, Call& call);
  void get_amount(Call& call);
  void register_payout(Call& call);
  void perform_payout(Call& call);
  void payout_status(Call& call);
  // The KNP the partner's payouts carry now: the cabinet's choice, else its settings'.
  store::Read<std::string> knp_of(const Tenant& tenant, const PartnerSettings& partner) const;

  engine::CardPayouts& cards_;
  Options options_;
  tenants::Directory& tenants_;
  Throttle throttle_;
};

// "/payouts/payment/payment_<lang>.html?mdOrder=<id>" under `base`.
std::string form_url(std::string_view base, std::string_view language, std::string_view order_id);

// The hosted pages' languages, the default first.
inline constexpr std::array<std::string_view, 3> kPageLanguages{"ru", "en", "kk"};

// The language of the hosted pages that `requested` names (ignoring case), else the default "ru".
std::string page_language(std::string_view requested);

}  // namespace payoutd::providers::bereke
