#pragma once
// The partner cabinet (docs/cabinet.md): server-rendered pages under /cabinet for every tenant of
// every dialect, in Russian and English. A session cookie (HttpOnly, SameSite=Strict, Secure
// outside the sandbox) after a login; every form carries the session's CSRF token (the login
// form a cookie-bound one), and a POST whose Origin is another site is refused. Every page shows
// only the session's tenant: its payouts are looked up by (tenant, partner id), never by a
// global id.
//
// GET  /cabinet/login, POST /cabinet/login, POST /cabinet/logout
// GET  /cabinet                 balances (with what payouts in flight reserve), payouts per day
// GET  /cabinet/payouts         filters (status, dates, amount, partner id), pages by id
// GET  /cabinet/payouts.csv     the filtered list as CSV
// GET  /cabinet/payout?kind=&id= one payout: its timeline, card, rail reference, notifications
// GET  /cabinet/audit           the tenant's audit log
// Bereke partners also:
// GET  /cabinet/cards           "My cards": corporate cards, their binding ids and balances
// POST /cabinet/cards/add, /cabinet/cards/confirm   add one, confirmed by an SMS code
// POST /cabinet/cards/primary, /cabinet/cards/delete
// GET  /cabinet/knp, POST /cabinet/knp               the KNP the payouts carry
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/auth.h"
#include "core/throttle.h"
#include "providers/bereke/api.h"
#include "engine/cards/card_payouts.h"
#include "http/server.h"
#include "store/store.h"

namespace payoutd::cabinet {

// One payment purpose code of the National Bank of Kazakhstan's reference list.
struct KnpCode {
  std::string code, name;
};
// Reads data/knp.csv ("code,name_ru" after '#' comments); throws naming the line at fault.
std::vector<KnpCode> load_knp_table(const std::string& path);

struct PagesOptions {
  bool sandbox = false;
  bool sms = false;  // SMS codes can be sent (a gateway, or the sandbox's sink)
  std::vector<KnpCode> knp;
  // SMS codes of card enrolments: each one costs money and reaches a phone the user typed, so
  // each phone and each tenant may be sent only so many an hour (after a burst of as many).
  int sms_per_phone_per_hour = 3;
  int sms_per_tenant_per_hour = 30;
};

class Pages {
 public:
  Pages(Auth& auth, const store::Store& store, engine::CardPayouts& cards,
        const providers::bereke::Dialect& bereke, PagesOptions options);
  bool handle(http::Request& request, const http::Responder& respond);

  struct View;  // one request's session, language and answer
  using Params = std::vector<std::pair<std::string, std::string>>;  // web::FormParams

 private:
  void login_page(View& v, int status, std::string_view error);
  void login(View& v, const http::Request& request);
  void logout(View& v, const http::Request& request);
  void overview(View& v);
  void payouts(View& v, const http::Request& request, bool csv);
  void payout(View& v, const http::Request& request);
  void audit(View& v);
  void cards(View& v, std::string_view notice, std::string_view error, int status = 200);
  void add_card(View& v, const Params& form, const std::string& address);
  void confirm_card(View& v, const Params& form, const std::string& address);
  void card_action(View& v, const Params& form, const std::string& address, bool primary);
  void code_page(View& v, const engine::Enrolment& e, std::string_view error, int status);
  void knp(View& v, std::string_view notice, int status = 200);
  void set_knp(View& v, const Params& form, const std::string& address);

  Auth& auth_;
  const store::Store& store_;
  engine::CardPayouts& cards_;
  const providers::bereke::Dialect& bereke_;
  PagesOptions options_;
  RateLimit sms_per_phone_;
  RateLimit sms_per_tenant_;
};

}  // namespace payoutd::cabinet
