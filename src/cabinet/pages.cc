#include "cabinet/pages.h"

#include "core/secrets.h"
#include "web/forms.h"
#include "web/html.h"

namespace payoutd::cabinet {

using store::PayoutStatus;
using web::escape;
using web::escape_into;

namespace {

constexpr std::string_view kDeviceCookie = "cabinet_device";  // this browser signed in before (auth.h)
constexpr int kChartDays = 14;

}  // namespace

Pages::Pages(Auth& auth, const store::Store& store, engine::CardPayouts& cards, PagesOptions options)
    : auth_(auth), store_(store), cards_(cards), options_(std::move(options)) {}

void Pages::add_section(Section* section) { sections_.push_back(section); }

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path != "/cabinet" && !path.starts_with("/cabinet/")) return false;
  View v{std::string(path), std::string(request.query()), respond};
  v.auth = &auth_;
  v.secure = !options_.sandbox;
  auto query = web::parse_form(request.query());
  std::string lang = query ? web::form_value(*query, "lang") : "";
  if (lang == "ru" || lang == "en") {
    v.cookies.push_back("cabinet_lang=" + lang + "; Path=/cabinet; SameSite=Strict" +
                        (v.secure ? "; Secure" : ""));
  } else {
    lang = web::cookie_value(request.cookie, "cabinet_lang");
    if (lang != "ru" && lang != "en") lang = request.accept_language.starts_with("ru") ? "ru" : "en";
  }
  v.t = &texts_of(lang);
  if (request.problem != http::RequestProblem::kNone) {
    v.html(400, head(*v.t, v.t->bad_form) + "<p class=\"status declined\">" + std::string(v.t->bad_form) +
                    "</p>" + std::string(kFoot));
    return true;
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (path == "/cabinet/login") {
    if (get) return login_page(v, 200, {}), true;
    if (post) return login(v, request), true;
  }
  v.session = auth_.session(web::cookie_value(request.cookie, "cabinet_session"));
  if (!v.session) {
    if (post) return v.html(403, head(*v.t, v.t->session_ended) + "<p class=\"status declined\">" +
                                     std::string(v.t->session_ended) + "</p>" + std::string(kFoot)),
                  true;
    v.redirect("/cabinet/login");
    return true;
  }
  std::vector<Section*> sections;
  for (Section* s : sections_) {
    if (!s->serves(v.session->tenant)) continue;
    sections.push_back(s);
    for (NavEntry& e : s->nav(v.t->lang)) v.nav.push_back(std::move(e));
  }
  if (post) {
    auto form = web::parse_form(request.body);
    if (!same_origin(request) || !form || web::form_value(*form, "csrf").empty() ||
        !secrets_equal(web::form_value(*form, "csrf"), v.session->csrf)) {
      v.html(403, layout(v, {}, v.t->bad_form) + std::string(kFoot));
      return true;
    }
    if (path == "/cabinet/logout") return logout(v, request), true;
    for (Section* s : sections) {
      if (s->post(v, path, *form, request.peer_address)) return true;
    }
  }
  if (get) {
    for (Section* s : sections) {
      if (s->get(v, path)) return true;
    }
  }
  if (get && path == "/cabinet") return overview(v), true;
  if (get && path == "/cabinet/payouts") return payouts(v, request, false), true;
  if (get && path == "/cabinet/payouts.csv") return payouts(v, request, true), true;
  if (get && path == "/cabinet/payout") return payout(v, request), true;
  if (get && path == "/cabinet/audit") return audit(v), true;
  v.html(404, layout(v, {}, v.t->not_found) + std::string(kFoot));
  return true;
}

void Pages::login_page(View& v, int status, std::string_view error) {
  const Texts& t = *v.t;
  // The login form's own CSRF token, bound to a cookie (there is no session yet).
  const std::string csrf = Auth::new_secret();
  v.set_cookie("cabinet_login", csrf);
  std::string h = head(t, t.login_title);
  h.append("<section class=\"login\"><h1>").append(t.login_title).append("</h1>");
  if (!error.empty()) {
    h.append("<p class=\"status declined\" id=\"error\" role=\"alert\">");
    escape_into(h, error);
    h.append("</p>");
  }
  h.append("<form id=\"login-form\" method=\"post\" action=\"/cabinet/login\">");
  h.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">");
  h.append("<label for=\"login\">").append(t.login).append("</label>");
  h.append("<input id=\"login\" name=\"login\" autocomplete=\"username\" maxlength=\"64\" required>");
  h.append("<label for=\"password\">").append(t.password).append("</label>");
  h.append("<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" ");
  h.append("maxlength=\"256\" required>");
  h.append("<button id=\"sign-in\" type=\"submit\">").append(t.sign_in).append("</button></form>");
  h.append("<p><a href=\"").append(escape(lang_link(v, t.lang == "ru" ? "en" : "ru"))).append("\">");
  h.append(t.lang == "ru" ? "English" : "Русский").append("</a></p></section>");
  h.append(kFoot);
  v.html(status, std::move(h));
}

void Pages::login(View& v, const http::Request& request) {
  auto form = web::parse_form(request.body);
  const std::string expected = web::cookie_value(request.cookie, "cabinet_login");
  if (!form || !same_origin(request) || expected.empty() ||
      !secrets_equal(web::form_value(*form, "csrf"), expected)) {
    return login_page(v, 403, v.t->bad_form);
  }
  std::string login = web::form_value(*form, "login"), password = web::form_value(*form, "password");
  if (login.empty() || login.size() > 64 || password.size() > 256) return login_page(v, 401, v.t->wrong);
  auto shared = std::make_shared<View>(std::move(v));
  auth_.login(std::move(login), std::move(password), request.peer_address,
              web::cookie_value(request.cookie, kDeviceCookie), [this, shared](LoginResult r) {
    View& answer = *shared;
    const Texts& t = *answer.t;
    switch (r.outcome) {
      case LoginOutcome::kOk:
        answer.set_cookie("cabinet_login", "", 0);
        answer.set_cookie("cabinet_session", r.token);
        // This browser signed in: from now on it goes ahead of strangers' sign-ins (auth.h).
        if (!r.device_token.empty()) answer.set_cookie(kDeviceCookie, r.device_token, auth_.device_ms() / 1000);
        return answer.redirect("/cabinet");
      case LoginOutcome::kThrottled: {
        const std::int64_t seconds = http::retry_after_seconds(r.retry_after_ms);
        answer.retry_after_s = seconds;
        return login_page(answer, 429, std::string(t.throttled) + " " + std::to_string(seconds));
      }
      case LoginOutcome::kWrong: return login_page(answer, 401, t.wrong);
      case LoginOutcome::kBusy:
      case LoginOutcome::kUnavailable: return login_page(answer, 503, t.busy);
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
  const std::string& tenant = v.session->tenant;
  std::string h = layout(v, "/cabinet", t.overview);
  h.append("<section><h2>").append(t.balances).append("</h2><table id=\"balances\"><thead><tr><th>");
  h.append(t.account).append("</th><th>").append(t.code).append("</th><th class=\"num\">").append(t.balance);
  h.append("</th><th class=\"num\">").append(t.reserved).append("</th><th class=\"num\">").append(t.available);
  h.append("</th></tr></thead><tbody>");
  for (const ledger::Account& a : store_.tenant_accounts(tenant, ledger::AccountKind::kFunder)) {
    h.append("<tr data-code=\"").append(escape(a.code)).append("\"><td>");
    escape_into(h, a.owner);
    h.append("</td><td>");
    escape_into(h, a.code);
    h.append("</td><td class=\"num balance\">").append(amount_text(a.balance(), a.currency));
    h.append("</td><td class=\"num reserved\">").append(amount_text(a.debits_pending, a.currency));
    h.append("</td><td class=\"num available\">").append(amount_text(a.available(), a.currency));
    h.append("</td></tr>");
  }
  h.append("</tbody></table></section>");

  // The last kChartDays days, today included: one bar per day, stacked by outcome.
  const std::int64_t now = SystemClock().now_ms();
  const std::int64_t end = now - now % kDayMs + kDayMs;
  const std::int64_t start = end - kChartDays * kDayMs;
  struct Day {
    std::int64_t success = 0, declined = 0, processing = 0;
  };
  std::array<Day, kChartDays> days{};
  for (const store::PayoutDay& d : store_.payout_days(tenant, start, end)) {
    const auto i = static_cast<std::size_t>((d.day_ms - start) / kDayMs);
    if (i >= days.size()) continue;
    (d.status == PayoutStatus::kSuccess    ? days[i].success
     : d.status == PayoutStatus::kDeclined ? days[i].declined
                                           : days[i].processing) += d.count;
  }
  std::int64_t most = 1;
  for (const Day& d : days) most = std::max(most, d.success + d.declined + d.processing);
  h.append("<section><h2>").append(t.per_day).append("</h2>");
  h.append("<svg class=\"chart\" id=\"chart\" viewBox=\"0 0 700 170\" width=\"100%\" role=\"img\" aria-label=\"");
  h.append(t.per_day).append("\">");
  for (std::size_t i = 0; i < days.size(); ++i) {
    const int x = static_cast<int>(i) * 50 + 10;
    int y = 150;
    for (const auto& [count, cls] : {std::pair<std::int64_t, const char*>{days[i].success, "success"},
                                     {days[i].declined, "declined"},
                                     {days[i].processing, "processing"}}) {
      if (count == 0) continue;
      const int height = static_cast<int>(count * 140 / most) + 1;
      y -= height;
      h.append("<rect class=\"").append(cls).append("\" x=\"").append(std::to_string(x));
      h.append("\" y=\"").append(std::to_string(y)).append("\" width=\"30\" height=\"");
      h.append(std::to_string(height)).append("\"><title>").append(std::to_string(count)).append("</title></rect>");
    }
    h.append("<text x=\"").append(std::to_string(x)).append("\" y=\"165\">");
    h.append(time_text(start + static_cast<std::int64_t>(i) * kDayMs).substr(5, 5)).append("</text>");
  }
  h.append("</svg><p class=\"legend\"><span><i class=\"success\"></i>").append(t.succeeded);
  h.append("</span><span><i class=\"declined\"></i>").append(t.declined).append("</span><span><i class=\"processing\"></i>");
  h.append(t.in_flight).append("</span></p>");
  h.append("<table id=\"days\"><thead><tr><th>").append(t.day).append("</th><th class=\"num\">").append(t.succeeded);
  h.append("</th><th class=\"num\">").append(t.declined).append("</th><th class=\"num\">").append(t.in_flight);
  h.append("</th></tr></thead><tbody>");
  for (std::size_t i = days.size(); i-- > 0;) {
    const Day& d = days[i];
    if (d.success + d.declined + d.processing == 0) continue;
    h.append("<tr><td>").append(time_text(start + static_cast<std::int64_t>(i) * kDayMs).substr(0, 10));
    h.append("</td><td class=\"num\">").append(std::to_string(d.success)).append("</td><td class=\"num\">");
    h.append(std::to_string(d.declined)).append("</td><td class=\"num\">").append(std::to_string(d.processing));
    h.append("</td></tr>");
  }
  h.append("</tbody></table></section>").append(kFoot);
  v.html(200, std::move(h));
}

void Pages::audit(View& v) {
  const Texts& t = *v.t;
  std::string h = layout(v, "/cabinet/audit", t.audit);
  h.append("<section><table id=\"audit\"><thead><tr><th>").append(t.when).append("</th><th>").append(t.login);
  h.append("</th><th>").append(t.action).append("</th><th>").append(t.detail).append("</th><th>").append(t.address);
  h.append("</th></tr></thead><tbody>");
  for (const AuditEntry& e : auth_.audit_log(v.session->tenant, 500)) {
    h.append("<tr><td>").append(time_text(e.at_ms)).append("</td><td>");
    escape_into(h, e.login);
    h.append("</td><td class=\"action\">");
    escape_into(h, e.action);
    h.append("</td><td>");
    escape_into(h, e.detail);
    h.append("</td><td>");
    escape_into(h, e.address);
    h.append("</td></tr>");
  }
  h.append("</tbody></table></section>").append(kFoot);
  v.html(200, std::move(h));
}

}  // namespace payoutd::cabinet
