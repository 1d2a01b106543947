#pragma once
// What every page of the cabinet shares, its own and the providers' sections (section.h): one
// request's view (its session, language, cookies, answer), the layout with its navigation
// (templates/layout.mustache; each page's own template beside it), and the small formatters of
// amounts, times and forms.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cabinet/auth.h"
#include "core/money.h"
#include "http/server.h"
#include "web/forms.h"
#include "web/html.h"
#include "web/template.h"

namespace payoutd::cabinet {

// The cabinet's own words, in each of its languages.
struct Texts {
  std::string_view lang, title, login_title, login, password, sign_in, wrong, throttled, busy,
      bad_form, logout, overview, payouts, audit, balances, account, code, currency, balance,
      reserved, available, per_day, day, succeeded, declined, in_flight, status, any, processing,
      success, from, to, amount_min, amount_max, partner_id, filter, export_csv, created, kind,
      amount, decline_code, newer, older, none, wallet_payout, card_payout, not_found, timeline,
      updated, decided, card, scheme, rail, rails_left, rail_reference, approval, network_answer,
      knp, parties, description, notifications, event, target, state, attempts, at, result,
      duration, when, action, detail, address, bad_filter, reset, utc, source, destination,
      cardholder, session_ended, made, unavailable, forbidden, statements, show, opening, closing,
      download_csv, counter_account, transfer, more_lines;
};

// The texts of `lang` ("ru"; anything else is English).
const Texts& texts_of(std::string_view lang);

// An entry of the navigation: a section's page, labelled in the view's language.
struct NavEntry {
  std::string path, label;
};

// One request's session, language and answer.
struct View {
  std::string path, query;  // copies: a login's answer outlives the request
  http::Responder respond;
  const Texts* t = &texts_of("en");
  std::optional<Session> session;
  std::vector<std::string> cookies;  // Set-Cookie values
  bool secure = false;
  std::int64_t retry_after_s = 0;  // a Retry-After header, when set
  std::vector<NavEntry> nav;       // the sections of the session's tenant (pages.cc fills it)
  Auth* auth = nullptr;

  // Writes an audit line for the session's tenant; `done(ok)` once durable.
  void audit(std::string action, std::string detail, std::string address,
             std::function<void(bool)> done) {
    auth->audit(*session, std::move(action), std::move(detail), std::move(address),
                std::move(done));
  }

  // max_age_s: -1 for the browser's session, 0 to remove the cookie, else its life.
  void set_cookie(std::string_view name, std::string_view value, std::int64_t max_age_s = -1) {
    cookies.push_back(web::page_cookie(name, value, "/cabinet", secure, max_age_s));
  }
  void send(http::Response r) {
    web::send_page(respond, std::move(r), std::move(cookies), retry_after_s);
  }
  void html(int status, std::string body) { send(web::page(status, std::move(body))); }
  void redirect(std::string location) { send(web::redirect(std::move(location))); }
};

inline constexpr std::int64_t kDayMs = 86'400'000;

// The cabinet's texts that its templates show, as their {{t.…}}.
web::Node words(const Texts& t);
// A page with the layout: the header (the navigation with `active` marked, who is signed in, the
// other language, signing out), `title`, and `content`, HTML a template rendered (web::render);
// without content the page is its title alone.
std::string layout(const View& v, std::string_view active, std::string_view title,
                   std::string_view content = {});
// The password page's link in the header, and the answers of a suspended and of a closed tenant,
// in `lang` (password_page.cc).
std::string_view password_link_label(std::string_view lang);
std::string_view suspended_text(std::string_view lang);
std::string_view closed_text(std::string_view lang);
// A page without the header (signing in, the answers without a session): `title` in the head,
// and `content`.
std::string plain(const Texts& t, std::string_view title, std::string_view content);
// plain() of one line: `message`, which is also its title.
std::string message_page(const Texts& t, std::string_view message);
// Answers 503 with the "unavailable" page: the store could not be read, nothing changed, and
// loading the page again retries.
void answer_unavailable(View& v);
// The current page in another language: its query with lang replaced.
std::string lang_link(const View& v, std::string_view lang);

// Percent-encodes all but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s);
// "a=1&b=2" of the non-empty parameters.
std::string query_of(const web::FormParams& params);
// A POST from a page of this server: an Origin, when the browser sends one, names our host.
bool same_origin(const http::Request& r);
// "2026-12-01 10:07:49" (UTC); empty for 0.
std::string time_text(std::int64_t ms);
// "100.00 KZT".
std::string amount_text(std::int64_t minor, const Currency& currency);

}  // namespace payoutd::cabinet
