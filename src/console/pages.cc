#include "console/pages.h"

#include <memory>

#include "admin/answers.h"
#include "cabinet/auth.h"
#include "cabinet/view.h"
#include "console/qr.h"
#include "console/totp.h"
#include "core/assert.h"
#include "core/secrets.h"
#include "web/api.h"
#include "web/forms.h"
#include "web/html.h"
#include "web/template.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kSessionCookie = "console_session";
constexpr std::string_view kLoginCookie = "console_login";  // the login form's CSRF token
constexpr std::string_view kDeviceCookie = "console_device";
constexpr std::string_view kLoginPath = "/console/login";

std::string_view stage_path(Stage stage) {
  switch (stage) {
    case Stage::kCode:
      return "/console/code";
    case Stage::kEnrol:
      return "/console/enrol";
    case Stage::kPassword:
      return "/console/password";
    case Stage::kSignedIn:
      break;
  }
  return "/console";
}

// A page without the header: the cabinet's frame, titled for the console.
std::string plain(std::string_view title, std::string_view content) {
  return web::render("cabinet/plain", {{"lang", "en"},
                                       {"head_title", std::string(title) + " · payoutd console"},
                                       {"refresh", ""},
                                       {"content", content}});
}

std::string message_page(std::string_view message) {
  return plain(message, web::render("cabinet/message", {{"message", message}}));
}

}  // namespace

// One request's session and answer (a sign-in step's answer outlives the request).
struct Pages::View {
  http::Responder respond;
  bool secure = false;
  std::vector<std::string> cookies;
  std::int64_t retry_after_s = 0;
  std::optional<Session> session;

  void set_cookie(std::string_view name, std::string_view value, std::int64_t max_age_s = -1) {
    cookies.push_back(web::page_cookie(name, value, "/console", secure, max_age_s));
  }
  void html(int status, std::string body) {
    web::send_page(respond, web::page(status, std::move(body)), std::move(cookies), retry_after_s);
  }
  void redirect(std::string_view location) {
    web::send_page(respond, web::redirect(std::string(location)), std::move(cookies),
                   retry_after_s);
  }
  // The answer of a step that the throttle, the worker or the store held up; false otherwise.
  bool held_up(Outcome outcome, std::int64_t retry_after_ms,
               const std::function<void(int, std::string_view)>& page) {
    if (outcome == Outcome::kThrottled) {
      retry_after_s = http::retry_after_seconds(retry_after_ms);
      page(429, "Too many wrong attempts: try again in " + std::to_string(retry_after_s) + " s");
      return true;
    }
    if (outcome == Outcome::kBusy || outcome == Outcome::kUnavailable) {
      page(503, "The console is busy or unavailable for a moment: try again");
      return true;
    }
    return false;
  }
};

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path != "/console" && !path.starts_with("/console/")) return false;
  View v{.respond = respond, .secure = request.over_tls || options_.public_url_https};
  if (request.problem != http::RequestProblem::kNone) {
    v.html(400, message_page("The form has expired: try again"));
    return true;
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (!get && !post) return v.html(405, message_page("Method not allowed")), true;
  if (path == kLoginPath) return (get ? login_page(v, 200, {}) : login(v, request)), true;
  auto session = auth_.session(web::cookie_value(request.cookie, kSessionCookie));
  if (!session.ok()) return v.html(503, message_page("The console is unavailable: reload")), true;
  v.session = std::move(*session);
  if (!v.session) {
    if (post) return v.html(403, message_page("Your session has ended: sign in again")), true;
    v.redirect(kLoginPath);
    return true;
  }
  route(v, request, post);
  return true;
}

void Pages::route(View& v, const http::Request& request, bool post) {
  std::optional<web::FormParams> form;
  if (post) {
    form = web::parse_form(request.body);
    if (!cabinet::same_origin(request) || !form ||
        !secrets_equal(web::form_value(*form, "csrf"), v.session->csrf)) {
      return v.html(403, message_page("The form has expired: try again"));
    }
  }
  const std::string_view path = request.path();
  if (path == "/console/logout" && post) return logout(v, request);
  const Stage stage = v.session->stage;
  const std::string_view own = stage_path(stage);
  const bool password_page_open = stage == Stage::kSignedIn && path == "/console/password";
  if (path != own && !password_page_open) {
    if (stage != Stage::kSignedIn) return v.redirect(own);
    if (const PageSpec* page = find_page(path))
      return serve_page(v, *page, request, std::move(form));
    return v.html(404, message_page("No such page"));
  }
  if (stage == Stage::kCode || stage == Stage::kEnrol) {
    if (post) return code(v, request, web::form_value(*form, "code"));
    return stage == Stage::kCode ? code_page(v, 200, {}) : enrol_page(v, 200, {});
  }
  if (path == "/console/password") {
    return post ? password(v, request, *form) : password_page(v, 200, {}, {});
  }
  if (post) return v.html(405, message_page("Method not allowed"));
  home(v);
}

void Pages::login_page(View& v, int status, std::string_view error) {
  const std::string csrf = cabinet::Auth::new_secret();
  v.set_cookie(kLoginCookie, csrf);
  v.html(status,
         plain("Sign in", web::render("console/login", {{"error", error}, {"csrf", csrf}})));
}

void Pages::login(View& v, const http::Request& request) {
  auto form = web::parse_form(request.body);
  const std::string expected = web::cookie_value(request.cookie, kLoginCookie);
  if (!form || !cabinet::same_origin(request) || expected.empty() ||
      !secrets_equal(web::form_value(*form, "csrf"), expected)) {
    return login_page(v, 403, "The form has expired: try again");
  }
  std::string login = web::form_value(*form, "login");
  std::string password = web::form_value(*form, "password");
  if (login.empty() || login.size() > kLoginSizeMax || password.size() > kPasswordCharsMax) {
    return login_page(v, 401, "Wrong login or password");
  }
  auto shared = std::make_shared<View>(std::move(v));
  auth_.password(std::move(login), std::move(password), request.peer_address,
                 web::cookie_value(request.cookie, kDeviceCookie), [this, shared](Result r) {
                   View& answer = *shared;
                   auto page = [&](int status, std::string_view e) {
                     login_page(answer, status, e);
                   };
                   if (answer.held_up(r.outcome, r.retry_after_ms, page)) return;
                   if (r.outcome != Outcome::kOk) return page(401, "Wrong login or password");
                   answer.set_cookie(kLoginCookie, "", 0);
                   answer.set_cookie(kSessionCookie, r.token);
                   if (!r.device_token.empty()) {
                     answer.set_cookie(kDeviceCookie, r.device_token, auth_.device_ms() / 1000);
                   }
                   answer.redirect(stage_path(r.session->stage));
                 });
}

void Pages::code_page(View& v, int status, std::string_view error) {
  const std::string content = web::render(
      "console/code", {{"error", error}, {"csrf", v.session->csrf}, {"login", v.session->login}});
  v.html(status, plain("Your code", content));
}

void Pages::code(View& v, const http::Request& request, std::string code) {
  auto shared = std::make_shared<View>(std::move(v));
  const Session session = *shared->session;
  auth_.code(session, std::move(code), request.peer_address, [this, shared](Result r) {
    View& answer = *shared;
    auto page = [&](int status, std::string_view e) {
      answer.session->stage == Stage::kEnrol ? enrol_page(answer, status, e)
                                             : code_page(answer, status, e);
    };
    if (answer.held_up(r.outcome, r.retry_after_ms, page)) return;
    if (r.outcome != Outcome::kOk) return page(401, "Wrong code, or a code used already");
    answer.redirect(stage_path(r.session->stage));
  });
}

void Pages::enrol_page(View& v, int status, std::string_view error) {
  auto shared = std::make_shared<View>(std::move(v));
  const std::string error_text(error);
  auth_.enrolment(
      *shared->session, [this, shared, status, error_text](std::optional<std::string> secret) {
        View& answer = *shared;
        if (!secret) return answer.html(503, message_page("The console is unavailable: reload"));
        const std::string uri = otpauth_uri(auth_.issuer(), answer.session->login, *secret);
        const std::string text = base32_encode(*secret);
        const std::optional<std::string> qr = qr_svg(uri);
        const std::string content = web::render("console/enrol", {{"error", error_text},
                                                                  {"csrf", answer.session->csrf},
                                                                  {"qr", qr.value_or("")},
                                                                  {"secret", text}});
        answer.html(status, plain("Set up your second factor", content));
      });
}

void Pages::password_page(View& v, int status, std::string_view notice, std::string_view error) {
  const std::string content =
      web::render("console/password", {{"required", v.session->stage == Stage::kPassword},
                                       {"notice", notice},
                                       {"error", error},
                                       {"csrf", v.session->csrf},
                                       {"min", kPasswordCharsMin}});
  if (v.session->stage != Stage::kSignedIn) return v.html(status, plain("Your password", content));
  v.html(status, plain("Change your password", content));
}

void Pages::password(View& v, const http::Request& request,
                     const std::vector<std::pair<std::string, std::string>>& form) {
  auto shared = std::make_shared<View>(std::move(v));
  auth_.change_password(
      *shared->session, web::form_value(form, "current"), web::form_value(form, "next"),
      web::form_value(form, "again"), request.peer_address, [this, shared](Outcome o) {
        View& answer = *shared;
        auto page = [&](int status, std::string_view e) { password_page(answer, status, {}, e); };
        if (answer.held_up(o, 0, page)) return;
        if (o == Outcome::kRejected) {
          return page(400,
                      "The new password must have at least 12 characters, differ from the "
                      "current one and be typed twice alike");
        }
        if (o != Outcome::kOk) return page(401, "Wrong current password");
        if (answer.session->stage == Stage::kPassword) return answer.redirect("/console");
        password_page(answer, 200, "Your password is changed", {});
      });
}

void Pages::logout(View& v, const http::Request& request) {
  auto shared = std::make_shared<View>(std::move(v));
  auth_.logout(*shared->session, request.peer_address, [shared](bool) {
    shared->set_cookie(kSessionCookie, "", 0);
    shared->redirect(kLoginPath);
  });
}

void Pages::home(View& v) {
  const Member& m = v.session->member;
  web::Node pages = web::Node::list();
  for (const NavEntry& e : frame_.nav) {
    if (m.roles.has(e.needs)) pages.push({{"path", e.path}, {"label", e.label}});
  }
  const std::string content = web::render("console/home", {{"name", m.name},
                                                           {"login", m.login},
                                                           {"roles", roles_text(m.roles)},
                                                           {"nav", std::move(pages)}});
  v.html(200, layout(frame_, m, v.session->csrf, "/console", "Home", content));
}

void Pages::add_page(PageSpec spec) {
  PAYOUTD_ASSERT(spec.prefix.starts_with("/console/") && !spec.prefix.ends_with('/'),
                 "a console page's prefix is a path under /console/");
  PAYOUTD_ASSERT(spec.serve != nullptr, "a console page answers");
  for (const PageSpec& p : pages_) {
    PAYOUTD_ASSERT(p.prefix != spec.prefix, "two console pages of one prefix");
  }
  if (!spec.label.empty()) {
    frame_.nav.push_back({.path = spec.prefix, .label = spec.label, .needs = spec.needs});
  }
  pages_.push_back(std::move(spec));
}

const PageSpec* Pages::find_page(std::string_view path) const {
  const PageSpec* found = nullptr;  // the longest prefix: /console/a/b before /console/a
  for (const PageSpec& p : pages_) {
    const bool under =
        path == p.prefix || (path.starts_with(p.prefix) && path.size() > p.prefix.size() &&
                             path[p.prefix.size()] == '/');
    if (under && (!found || p.prefix.size() > found->prefix.size())) found = &p;
  }
  return found;
}

void Pages::serve_page(View& v, const PageSpec& page, const http::Request& request,
                       std::optional<web::FormParams> form) {
  const Member& m = v.session->member;
  const std::string_view path = request.path();
  if (!m.roles.has(page.needs)) {
    const std::string text = "This page needs the " + std::string(admin::role_name(page.needs)) +
                             " role, which you do not have.";
    const std::string content = web::render("console/message", {{"message", text}});
    return v.html(403, layout(frame_, m, v.session->csrf, path, "Not allowed", content));
  }
  const std::string_view after = path.substr(page.prefix.size());
  std::optional<std::vector<std::string>> rest =
      after.empty() ? std::optional(std::vector<std::string>{}) : web::split_path(after);
  if (!rest) return v.html(404, message_page("No such page"));
  page.serve(Context(Context::Parts{.frame = &frame_,
                                    .member = m,
                                    .csrf = v.session->csrf,
                                    .address = request.peer_address,
                                    .post = form.has_value(),
                                    .path = std::string(path),
                                    .rest = std::move(*rest),
                                    .query = std::string(request.query()),
                                    .form = form ? std::move(*form) : web::FormParams{},
                                    .respond = std::move(v.respond)}));
}

}  // namespace payoutd::console
