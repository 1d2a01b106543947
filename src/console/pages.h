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
//
// Every POST carries the session's CSRF token and must come from this origin. A session of a
// sign-in step reaches only that step's page (and signing out); everything else redirects there.
#include <string>
#include <string_view>
#include <vector>

#include "console/auth.h"
#include "http/server.h"

namespace payoutd::console {

struct PagesOptions {
  bool public_url_https = false;  // every cookie Secure, whatever the request arrived by
};

// An entry of the console's navigation: a page and its label, shown to members with `needs`.
struct NavEntry {
  std::string path, label;
  admin::Role needs = admin::Role::kViewer;
};

class Pages {
 public:
  Pages(Auth& auth, PagesOptions options) : auth_(auth), options_(options) {}
  // Adds a page to the navigation (the console's pages as they are built); before the server
  // starts.
  void add_nav(NavEntry entry) { nav_.push_back(std::move(entry)); }
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
  // Answers a request of a signed-in (or signing-in) session.
  void route(View& v, const http::Request& request, bool post);

  Auth& auth_;
  PagesOptions options_;
  std::vector<NavEntry> nav_;
};

}  // namespace payoutd::console
