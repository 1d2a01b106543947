#include "cabinet/pages.h"

#include <array>

#include "core/log_context.h"
#include "core/secrets.h"
#include "web/forms.h"
#include "web/html.h"
#include "web/language.h"
#include "web/template.h"

namespace payoutd::cabinet {

using store::PayoutStatus;

namespace {

constexpr std::string_view kDeviceCookie =
    "cabinet_device";  // this browser signed in before (auth.h)
constexpr int kChartDays = 14;
constexpr std::array<std::string_view, 2> kLanguages{"en", "ru"};  // English by default

// The last kChartDays days, today included, counted by outcome: the chart (one bar a day,
// stacked by outcome) and the table of the days that had payouts, the newest first.
store::Read<web::Node> payout_days(const store::Store& store, const std::string& tenant,
                                   std::int64_t now_ms) {
  const std::int64_t end = now_ms - now_ms % kDayMs + kDayMs;
  const std::int64_t start = end - kChartDays * kDayMs;
  struct Day {
    std::int64_t success = 0, declined = 0, processing = 0;
  };
  std::array<Day, kChartDays> days{};
  const auto counted = store.payout_days(tenant, start, end);
  if (!counted.ok()) return Failure{counted.error()};
  for (const store::PayoutDay& d : *counted) {
    const auto i = static_cast<std::size_t>((d.day_ms - start) / kDayMs);
    if (i >= days.size()) continue;
    (d.status == PayoutStatus::kSuccess    ? days[i].success
     : d.status == PayoutStatus::kDeclined ? days[i].declined
                                           : days[i].processing) += d.count;
  }
  std::int64_t most = 1;
  for (const Day& d : days) most = std::max(most, d.success + d.declined + d.processing);
  web::Node chart = web::Node::list();
  for (std::size_t i = 0; i < days.size(); ++i) {
    const int x = static_cast<int>(i) * 50 + 10;
    int y = 150;
    web::Node bars = web::Node::list();
    for (const auto& [count, cls] :
         {std::pair<std::int64_t, const char*>{days[i].success, "success"},
          {days[i].declined, "declined"},
          {days[i].processing, "processing"}}) {
      if (count == 0) continue;
      const int height = static_cast<int>(count * 140 / most) + 1;
      y -= height;
      bars.push({{"class", cls}, {"y", y}, {"height", height}, {"count", count}});
    }
    const std::string day = time_text(start + static_cast<std::int64_t>(i) * kDayMs);
    chart.push({{"x", x}, {"label", day.substr(5, 5)}, {"bars", std::move(bars)}});
  }
  web::Node table = web::Node::list();
  for (std::size_t i = days.size(); i-- > 0;) {
    const Day& d = days[i];
    if (d.success + d.declined + d.processing == 0) continue;
    table.push({{"day", time_text(start + static_cast<std::int64_t>(i) * kDayMs).substr(0, 10)},
                {"success", d.success},
                {"declined", d.declined},
                {"processing", d.processing}});
  }
  return web::Node{{"chart", std::move(chart)}, {"days", std::move(table)}};
}

}  // namespace

Pages::Pages(Auth& auth, const store::Store& store, engine::CardPayouts& cards,
             PagesOptions options)
    : auth_(auth), store_(store), cards_(cards), options_(options) {
  auto own = [this](Method method, std::string path, std::function<void(View&, const Call&)> f) {
    routes_.push_back({nullptr, {method, std::move(path), Role::kViewer, std::move(f)}});
  };
  own(Method::kPost, "/cabinet/logout", [this](View& v, const Call& c) { logout(v, c.request); });
  own(Method::kGet, "/cabinet", [this](View& v, const Call&) { overview(v); });
  own(Method::kGet, "/cabinet/payouts",
      [this](View& v, const Call& c) { payouts(v, c.request, false); });
  own(Method::kGet, "/cabinet/payouts.csv",
      [this](View& v, const Call& c) { payouts(v, c.request, true); });
  own(Method::kGet, "/cabinet/payout", [this](View& v, const Call& c) { payout(v, c.request); });
  own(Method::kGet, "/cabinet/audit", [this](View& v, const Call&) { audit(v); });
  own(Method::kGet, "/cabinet/statements",
      [this](View& v, const Call& c) { statements(v, c.request); });
  own(Method::kGet, "/cabinet/statement.csv",
      [this](View& v, const Call& c) { statement_csv(v, c.request); });
  own(Method::kGet, "/cabinet/password", [this](View& v, const Call&) { password_page(v, 200); });
  own(Method::kPost, "/cabinet/password",
      [this](View& v, const Call& c) { change_password(v, c.request, c.form); });
}

void Pages::add_section(Section* section) {
  sections_.push_back(section);
  for (Route& r : section->routes()) routes_.push_back({section, std::move(r)});
}

const Pages::Routed* Pages::route_of(Method method, std::string_view path,
                                     const Tenant& tenant) const {
  for (const Routed& r : routes_) {
    if (r.route.method != method || r.route.path != path) continue;
    if (r.section && !r.section->serves(tenant)) continue;
    return &r;
  }
  return nullptr;
}

void Pages::fill_nav(View& v) const {
  for (const Section* s : sections_) {
    if (!s->serves(v.session->tenant)) continue;
    for (NavEntry& e : s->nav(v.t->lang)) {
      const Routed* r = route_of(Method::kGet, e.path, v.session->tenant);
      if (r && v.session->roles.allows(r->route.needs)) v.nav.push_back(std::move(e));
    }
  }
}

void Pages::refuse(View& v, const http::Request& request, const Route& route) {
  std::string what = route.method == Method::kPost ? "POST " : "GET ";
  what.append(route.path).append(" (needs ").append(role_name(route.needs)).append(")");
  auto shared = std::make_shared<View>(std::move(v));
  shared->audit("denied", std::move(what), request.peer_address,
                [shared](bool) { shared->html(403, layout(*shared, {}, shared->t->forbidden)); });
}

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path != "/cabinet" && !path.starts_with("/cabinet/")) return false;
  View v{std::string(path), std::string(request.query()), respond};
  v.auth = &auth_;
  v.secure = request.over_tls || options_.public_url_https;
  auto query = web::parse_form(request.query());
  std::string lang = query ? web::form_value(*query, "lang") : "";
  if (lang == "ru" || lang == "en") {
    v.cookies.push_back("cabinet_lang=" + lang + "; Path=/cabinet; SameSite=Strict" +
                        (v.secure ? "; Secure" : ""));
  } else {
    lang = web::cookie_value(request.cookie, "cabinet_lang");
    if (lang != "ru" && lang != "en")
      lang = web::negotiate_language(request.accept_language, kLanguages);
  }
  v.t = &texts_of(lang);
  if (request.problem != http::RequestProblem::kNone) {
    v.html(400, message_page(*v.t, v.t->bad_form));
    return true;
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (path == "/cabinet/login") {
    if (get) return login_page(v, 200, {}), true;
    if (post) return login(v, request), true;
  }
  auto session = auth_.session(web::cookie_value(request.cookie, "cabinet_session"));
  if (!session.ok()) return answer_unavailable(v), true;
  v.session = std::move(*session);
  if (!v.session) {
    if (post) return v.html(403, message_page(*v.t, v.t->session_ended)), true;
    v.redirect("/cabinet/login");
    return true;
  }
  log::annotate(v.session->tenant.provider, v.session->tenant.id);
  fill_nav(v);
  web::FormParams form;
  if (post) {
    auto parsed = web::parse_form(request.body);
    if (!same_origin(request) || !parsed || web::form_value(*parsed, "csrf").empty() ||
        !secrets_equal(web::form_value(*parsed, "csrf"), v.session->csrf)) {
      v.html(403, layout(v, {}, v.t->bad_form));
      return true;
    }
    form = std::move(*parsed);
  }
  const Routed* routed =
      get || post ? route_of(get ? Method::kGet : Method::kPost, path, v.session->tenant) : nullptr;
  if (!routed) return v.html(404, layout(v, {}, v.t->not_found)), true;
  if (!v.session->roles.allows(routed->route.needs)) return refuse(v, request, routed->route), true;
  if (held_back(v, *routed, post)) return true;
  routed->route.answer(v, Call{request, form});
  return true;
}

bool Pages::held_back(View& v, const Routed& routed, bool post) const {
  const std::string& path = routed.route.path;
  if (v.session->must_change_password && path != "/cabinet/password" && path != "/cabinet/logout") {
    if (post) return v.html(403, layout(v, {}, v.t->forbidden)), true;
    return v.redirect("/cabinet/password"), true;
  }
  // A suspended partner's users read: the forms of the sections (cards, KNP) change what pays.
  if (post && routed.section && v.session->tenant_state == TenantState::kSuspended) {
    return v.html(403, layout(v, {}, suspended_text(v.t->lang))), true;
  }
  return false;
}

void Pages::login_page(View& v, int status, std::string_view error) {
  const Texts& t = *v.t;
  // The login form's own CSRF token, bound to a cookie (there is no session yet).
  const std::string csrf = Auth::new_secret();
  v.set_cookie("cabinet_login", csrf);
  const bool ru = t.lang == "ru";
  const std::string content =
      web::render("cabinet/login", {{"t", words(t)},
                                    {"error", error},
                                    {"csrf", csrf},
                                    {"lang_link", lang_link(v, ru ? "en" : "ru")},
                                    {"other_language", ru ? "English" : "Русский"}});
  v.html(status, plain(t, t.login_title, content));
}

void Pages::login(View& v, const http::Request& request) {
  auto form = web::parse_form(request.body);
  const std::string expected = web::cookie_value(request.cookie, "cabinet_login");
  if (!form || !same_origin(request) || expected.empty() ||
      !secrets_equal(web::form_value(*form, "csrf"), expected)) {
    return login_page(v, 403, v.t->bad_form);
  }
  std::string login = web::form_value(*form, "login"),
              password = web::form_value(*form, "password");
  if (login.empty() || login.size() > 64 || password.size() > 256)
    return login_page(v, 401, v.t->wrong);
  auto shared = std::make_shared<View>(std::move(v));
  auth_.login(std::move(login), std::move(password), request.peer_address,
              web::cookie_value(request.cookie, kDeviceCookie),
              [this, shared](const LoginResult& r) {
                View& answer = *shared;
                const Texts& t = *answer.t;
                switch (r.outcome) {
                  case LoginOutcome::kOk:
                    answer.set_cookie("cabinet_login", "", 0);
                    answer.set_cookie("cabinet_session", r.token);
                    // This browser signed in: from now on it goes ahead of strangers' sign-ins
                    // (auth.h).
                    if (!r.device_token.empty())
                      answer.set_cookie(kDeviceCookie, r.device_token, auth_.device_ms() / 1000);
                    return answer.redirect(r.session.must_change_password ? "/cabinet/password"
                                                                          : "/cabinet");
                  case LoginOutcome::kClosed:
                    return login_page(answer, 403, closed_text(t.lang));
                  case LoginOutcome::kThrottled: {
                    const std::int64_t seconds = http::retry_after_seconds(r.retry_after_ms);
                    answer.retry_after_s = seconds;
                    return login_page(answer, 429,
                                      std::string(t.throttled) + " " + std::to_string(seconds));
                  }
                  case LoginOutcome::kWrong:
                    return login_page(answer, 401, t.wrong);
                  case LoginOutcome::kBusy:
                  case LoginOutcome::kUnavailable:
                    return login_page(answer, 503, t.busy);
                }
              });
}

void Pages::logout(View& v, const http::Request& request) {
  auto shared = std::make_shared<View>(std::move(v));
  auth_.logout(*shared->session, request.peer_address, [shared](bool) {
    shared->set_cookie("cabinet_session", "", 0);
    shared->redirect("/cabinet/login");
  });
}

void Pages::overview(View& v) {
  const Texts& t = *v.t;
  const std::string tenant = v.session->tenant.key();
  const auto funders = store_.tenant_accounts(tenant, ledger::AccountKind::kFunder);
  if (!funders.ok()) return answer_unavailable(v);
  auto days = payout_days(store_, tenant, SystemClock().now_ms());
  if (!days.ok()) return answer_unavailable(v);
  web::Node accounts = web::Node::list();
  for (const ledger::Account& a : *funders) {
    accounts.push({{"code", a.code},
                   {"owner", a.owner},
                   {"balance", amount_text(a.balance(), a.currency)},
                   {"reserved", amount_text(a.debits_pending, a.currency)},
                   {"available", amount_text(a.available(), a.currency)}});
  }
  web::Node& data = *days;
  data.set("t", words(t)).set("accounts", std::move(accounts));
  v.html(200, layout(v, "/cabinet", t.overview, web::render("cabinet/overview", data)));
}

void Pages::audit(View& v) {
  const Texts& t = *v.t;
  const auto log = auth_.audit_log(v.session->tenant, 500);
  if (!log.ok()) return answer_unavailable(v);
  web::Node entries = web::Node::list();
  for (const AuditEntry& e : *log) {
    entries.push({{"at", time_text(e.at_ms)},
                  {"login", e.login},
                  {"action", e.action},
                  {"detail", e.detail},
                  {"address", e.address}});
  }
  const std::string content =
      web::render("cabinet/audit", {{"t", words(t)}, {"entries", std::move(entries)}});
  v.html(200, layout(v, "/cabinet/audit", t.audit, content));
}

}  // namespace payoutd::cabinet
