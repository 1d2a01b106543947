#pragma once
// The operators' console (docs/console.md): server-rendered pages under /console, separate from
// the partners' cabinet (its own cookies on Path=/console, its own sessions and CSRF tokens),
// Secure as the cabinet decides it (over TLS, or behind an https public origin).
//
// GET  /console/login,    POST /console/login      the password (a cookie-bound CSRF token)
// GET  /console/code,     POST /console/code       the TOTP code
// GET  /console/enrol,    POST /console/enrol      the first sign-in: a QR code, the secret as
//                                                  text, confirmed by a first code
// GET  /console/password, POST /console/password   changing one's password (required after the
//                                                  generated initial one)
// POST /console/logout
// GET  /console                                    who is signed in, their roles, the navigation
// GET, POST /console/<page>...                     the working pages (console/page.h), each
//                                                  for the role it needs, else 403
//
// Every POST carries the session's CSRF token and must come from this origin. A session of a
// sign-in step reaches only that step's page (and signing out); everything else redirects there.
#include <string>
#include <string_view>
#include <vector>

#include "console/auth.h"
#include "console/page.h"
#include "http/server.h"

namespace payoutd::console {

struct PagesOptions {
  bool public_url_https = false;  // every cookie Secure, whatever the request arrived by
};

class Pages {
 public:
  Pages(Auth& auth, PagesOptions options) : auth_(auth), options_(options) {}
  // Serves `spec` (console/page.h), in the navigation when it has a label; before the server
  // starts. Two pages never share a prefix.
  void add_page(PageSpec spec);
  // The admin API the pages call (as the signed-in member); before the server starts, and
  // outlives this.
  void set_admin(admin::Dialect* admin) { frame_.admin = admin; }
  // True when the path is /console or under /console/; the request is then answered.
  bool handle(http::Request& request, const http::Responder& respond);

 private:
  struct View;
  void login_page(View& v, int status, std::string_view error);
  void login(View& v, const http::Request& request);
  void code_page(View& v, int status, std::string_view error);
  void code(View& v, const http::Request& request, std::string code);
  void enrol_page(View& v, int status, std::string_view error);
  void password_page(View& v, int status, std::string_view notice, std::string_view error);
  void password(View& v, const http::Request& request,
                const std::vector<std::pair<std::string, std::string>>& form);
  void logout(View& v, const http::Request& request);
  void home(View& v);
  // The registered page that answers `path`, or null.
  const PageSpec* find_page(std::string_view path) const;
  void serve_page(View& v, const PageSpec& page, const http::Request& request,
                  std::optional<web::FormParams> form);
  // Answers a request of a signed-in (or signing-in) session.
  void route(View& v, const http::Request& request, bool post);

  Auth& auth_;
  PagesOptions options_;
  PageFrame frame_;
  std::vector<PageSpec> pages_;
};

}  // namespace payoutd::console
