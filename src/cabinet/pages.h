#pragma once
// The partner cabinet (docs/cabinet.md): server-rendered pages under /cabinet for every tenant of
// every dialect, in Russian and English. A session cookie (HttpOnly, SameSite=Strict, Secure
// over TLS or behind an https public origin) after a login; every form carries the session's CSRF
// token (the login form a cookie-bound one), and a POST whose Origin is another site is refused.
// Every page shows only the session's tenant: its payouts are looked up by (tenant, partner id),
// never by a global id.
//
// GET  /cabinet/login, POST /cabinet/login, POST /cabinet/logout
// GET  /cabinet                 balances (with what payouts in flight reserve), payouts per day
// GET  /cabinet/payouts         filters (status, dates, amount, partner id), pages by id
// GET  /cabinet/payouts.csv     the filtered list as CSV
// GET  /cabinet/payout?kind=&id= one payout: its timeline, card, rail reference, notifications
// GET  /cabinet/audit           the tenant's audit log
// GET  /cabinet/password, POST /cabinet/password   a runtime user chooses their password
// GET  /cabinet/statements?account=&date=     a funding account's daily statement
// GET  /cabinet/statement.csv?account=&date=  the same as CSV (docs/admin.md, "Statements and
// reconciliation reports") and the sections providers add for their tenants (section.h), e.g.
// Bereke's "My cards".
//
// Every route names the role it needs (roles.h); handle() checks it before the route answers, the
// one place that does: a user without it is answered 403 (the cabinet's page) and the attempt is
// written to the tenant's audit log, and the navigation shows only the pages the user may open.
// It also keeps a user whose password someone else chose on the password page, and refuses the
// sections' forms to a suspended tenant's users.
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/auth.h"
#include "cabinet/section.h"
#include "cabinet/view.h"
#include "engine/cards/card_payouts.h"
#include "engine/statements.h"
#include "http/server.h"
#include "store/store.h"

namespace payoutd::cabinet {

struct PagesOptions {
  // The public origin ([server] public_url) is https: every cookie is Secure, whatever the
  // request arrived by (a TLS-terminating proxy in front). Otherwise only a request that arrived
  // over TLS gets Secure cookies.
  bool public_url_https = false;
  // [statements]: the day's zone and the lines of one statement (engine/statements.h).
  engine::StatementOptions statements;
};

class Pages {
 public:
  Pages(Auth& auth, const store::Store& store, engine::CardPayouts& cards, PagesOptions options);
  // Adds a provider's section for the sessions of its tenants; before the server starts.
  void add_section(Section* section);
  bool handle(http::Request& request, const http::Responder& respond);

 private:
  // A route and the section it is of (null: the cabinet's own, for every tenant).
  struct Routed {
    const Section* section = nullptr;
    Route route;
  };
  // The route of `method` and `path` for sessions of `tenant`; null when there is none.
  const Routed* route_of(Method method, std::string_view path, const Tenant& tenant) const;
  // Answers 403 to a route the session's roles do not allow, once the attempt is in the audit log.
  void refuse(View& v, const http::Request& request, const Route& route);
  // The navigation's section pages the session may open.
  void fill_nav(View& v) const;
  void login_page(View& v, int status, std::string_view error);
  void login(View& v, const http::Request& request);
  void logout(View& v, const http::Request& request);
  void overview(View& v);
  void payouts(View& v, const http::Request& request, bool csv);
  void payout(View& v, const http::Request& request);
  void audit(View& v);
  void statements(View& v, const http::Request& request);     // statements.cc
  void statement_csv(View& v, const http::Request& request);  // statements.cc
  // password_page.cc: the page (with a notice or an error) and its form.
  void password_page(View& v, int status, std::string_view notice = {},
                     std::string_view error = {});
  void change_password(View& v, const http::Request& request, const web::FormParams& form);
  // Answers a request the session may not make now (its password to change first, its tenant
  // suspended) and returns true; false when it may go on.
  bool held_back(View& v, const Routed& routed, bool post) const;
  Auth& auth_;
  const store::Store& store_;
  engine::CardPayouts& cards_;
  PagesOptions options_;
  std::vector<Section*> sections_;
  std::vector<Routed> routes_;
};

}  // namespace payoutd::cabinet
