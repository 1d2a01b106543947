#pragma once
// Bereke Bank dialect: Payouts Module API v2 (seed 003) on the card payout engine. Card payouts
// by API (performPayout.do) or through the bank's hosted card page (registerPayout.do, whose
// formUrl pages/ serves), balance (getAmount.do), status (getPayoutStatus.do) and echo.
// docs/bereke.md is the contract: every field, every error row, and the choices made where the
// seed is silent.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_certificate.h"
#include "core/tenant.h"
#include "core/throttle.h"
#include "engine/cards/card_payouts.h"
#include "http/server.h"

namespace payoutd::providers::bereke {

struct Partner {
  std::string id;  // the tenant is {kProvider, id}
  std::string user_name, password;
  // bereke.partners[i].client_cert_*: the certificates its calls must present besides the
  // password; a call without one is refused as a wrong password is.
  ClientCertificatePolicy client_certificates;
  std::vector<std::string> card_countries{"KZ"};  // where recipients' cards may be issued
  std::string knp = "710";  // payment purpose code (КНП) the partner's payouts carry
  std::int64_t fee = 0;     // minor units per payout (charged by the bank, shown in answers)
  // The debit methods configured for the partner: its transit account, its corporate cards.
  bool transit_funding = true;
  bool card_funding = true;
  // Sandbox: the simulated bank balance (minor units) a corporate card added in the cabinet
  // starts with; the real bank debits the card itself.
  std::int64_t new_card_balance = 0;
};

struct Options {
  std::string node = "payoutd";      // echo: the node's name
  std::string instance = "sandbox";  // echo: the instance's name
  // Base of the hosted pages' URLs (formUrl), e.g. https://payouts.example; empty: the server's
  // own http://HOST:PORT.
  std::string public_url;
  std::int64_t session_timeout_default_s = 1200;
  std::vector<Partner> partners;
  ThrottleOptions throttle;  // wrong userName/password pairs
};

// The provider's name: its tenants' provider, its registry line and config section.
inline constexpr std::string_view kProvider = "bereke";
// The tenant of the partner `partner_id`: {kProvider, partner_id}.
Tenant tenant_of(std::string_view partner_id);

class Dialect {
 public:
  Dialect(engine::CardPayouts& cards, Options options);

  // True when the path belongs to this dialect; the request is then answered through `respond`.
  bool handle(http::Request& request, const http::Responder& respond);
  // The base of formUrl once the server knows its port (when public_url is not configured).
  void set_public_url(std::string url);

  const Options& options() const { return options_; }
  const Partner* partner_of_tenant(const Tenant& tenant) const;

 private:
  struct Call;
  struct Method;
  // GET echo: the node's and the instance's names.
  void echo(const http::Request& request, const http::Responder& respond) const;
  // The call's userName and password against every partner's, and the partner's client
  // certificates; wrong pairs and certificates throttled alike; sets call.partner, or answers the
  // refusal itself and returns false.
  bool authenticate(const http::Request& request, Call& call);
  void get_amount(Call& call);
  void register_payout(Call& call);
  void perform_payout(Call& call);
  void payout_status(Call& call);
  // The KNP the partner's payouts carry now: the cabinet's choice, else the config's.
  store::Read<std::string> knp_of(const Partner& partner) const;

  engine::CardPayouts& cards_;
  Options options_;
  Throttle throttle_;
};

// "/payouts/payment/payment_<lang>.html?mdOrder=<id>" under `base`.
std::string form_url(std::string_view base, std::string_view language, std::string_view order_id);

// The hosted pages' languages, the default first.
inline constexpr std::array<std::string_view, 3> kPageLanguages{"ru", "en", "kk"};

// The language of the hosted pages that `requested` names (ignoring case), else the default "ru".
std::string page_language(std::string_view requested);

}  // namespace payoutd::providers::bereke
