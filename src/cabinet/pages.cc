#include "cabinet/pages.h"

#include <algorithm>
#include <array>

#include "core/money.h"
#include "core/time_format.h"
#include "pages/common.h"

namespace payoutd::cabinet {

using pages::escape;
using pages::escape_into;
using store::PayoutKind;
using store::PayoutStatus;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kPageSize = 50;
constexpr std::size_t kCsvRowsMax = 100'000;
constexpr int kChartDays = 14;

struct Texts {
  std::string_view lang, title, login_title, login, password, sign_in, wrong, locked_until, busy,
      bad_form, logout, overview, payouts, audit, balances, account, code, currency, balance,
      reserved, available, per_day, day, succeeded, declined, in_flight, status, any, processing,
      success, from, to, amount_min, amount_max, partner_id, filter, export_csv, created, kind,
      amount, decline_code, newer, older, none, wallet_payout, card_payout, not_found, timeline,
      updated, decided, card, scheme, rail_reference, approval, network_answer, knp, parties,
      notifications, event, target, state, attempts, at, result, duration, when, action, detail,
      address, bad_filter, reset, utc, source, destination, cardholder, session_ended, made;
};

constexpr Texts kEn{
    "en", "Partner cabinet", "Sign in to the partner cabinet", "Login", "Password", "Sign in",
    "Wrong login or password", "Too many wrong passwords: this login is locked until",
    "Too many sign-ins at once, try again in a moment", "The form has expired: try again",
    "Sign out", "Overview", "Payouts", "Audit log", "Balances", "Account", "Code", "Currency",
    "Balance", "Reserved by payouts in flight", "Available", "Payouts per day (UTC)", "Day",
    "Succeeded", "Declined", "In flight", "Status", "Any", "In flight", "Succeeded", "Created from",
    "Created to", "Amount from", "Amount to", "Partner id", "Show", "Export CSV", "Created (UTC)",
    "Type", "Amount", "Decline code", "Newest", "Older", "No payouts", "Wallet payout",
    "Card payout", "No such payout", "Timeline", "Last change", "Decided by the card network",
    "Card", "Scheme, country", "Rail reference", "Approval (RRN)", "Network answer", "KNP",
    "Sender and recipient", "Notifications", "Event", "Target", "State", "Attempts", "At", "Result",
    "Duration", "When (UTC)", "Action", "Detail", "Address",
    "Check the filters: dates as YYYY-MM-DD, amounts as 100.00", "Clear", "UTC", "Source",
    "Destination", "Cardholder", "Your session has ended: sign in again", "Created"};
constexpr Texts kRu{
    "ru", "Личный кабинет", "Вход в личный кабинет", "Логин", "Пароль", "Войти",
    "Неверный логин или пароль", "Слишком много неверных паролей: вход заблокирован до",
    "Слишком много входов одновременно, повторите через минуту", "Форма устарела: повторите",
    "Выйти", "Обзор", "Выплаты", "Журнал действий", "Балансы", "Счёт", "Код", "Валюта", "Баланс",
    "Зарезервировано выплатами в обработке", "Доступно", "Выплаты по дням (UTC)", "День",
    "Успешно", "Отклонено", "В обработке", "Статус", "Любой", "В обработке", "Успешно",
    "Создана с", "Создана по", "Сумма от", "Сумма до", "Идентификатор партнёра", "Показать",
    "Выгрузить CSV", "Создана (UTC)", "Тип", "Сумма", "Код отказа", "Новые", "Старше",
    "Выплат нет", "Выплата на кошелёк", "Выплата на карту", "Выплата не найдена", "Ход выплаты",
    "Последнее изменение", "Решение платёжной системы", "Карта", "Система, страна",
    "Референс в платёжной сети", "Код авторизации (RRN)", "Ответ сети", "КНП",
    "Отправитель и получатель", "Уведомления", "Событие", "Адресат", "Состояние", "Попытки",
    "Время", "Результат", "Длительность", "Когда (UTC)", "Действие", "Подробности", "Адрес",
    "Проверьте фильтры: даты в виде ГГГГ-ММ-ДД, суммы в виде 100.00", "Сбросить", "UTC",
    "Источник", "Получатель", "Держатель карты", "Сессия завершена: войдите снова", "Создана"};

using Params = std::vector<std::pair<std::string, std::string>>;

// The query's or form's parameters, decoded ('+' is a space); nullopt when one is malformed.
std::optional<Params> params_of(std::string_view query) {
  Params out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key(pair.substr(0, eq)), value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    for (std::string* s : {&key, &value}) {
      std::replace(s->begin(), s->end(), '+', ' ');
      auto decoded = http::percent_decode(*s);
      if (!decoded) return std::nullopt;
      *s = std::move(*decoded);
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string query_of(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out.append(out.empty() ? "" : "&").append(url_encode(k)).append("=").append(url_encode(v));
  }
  return out;
}

std::string cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return {};
}

// A POST from a page of this server: an Origin, when the browser sends one, names our host.
bool same_origin(const http::Request& r) {
  if (r.origin.empty()) return true;
  const auto scheme = r.origin.find("://");
  return scheme != std::string::npos && r.origin.substr(scheme + 3) == r.host;
}

std::string time_text(std::int64_t ms) {
  if (ms <= 0) return "";
  std::string t = format_iso8601(ms, 0);  // 2026-12-01T10:07:49+00:00
  t[10] = ' ';
  return t.substr(0, 19);
}

std::string amount_text(std::int64_t minor, const Currency& currency) {
  std::string out;
  append_decimal(out, minor, currency.exponent());
  out.append(" ").append(currency.code());
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

// "YYYY-MM-DD" as the day's first millisecond (UTC).
std::optional<std::int64_t> date_ms(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  static constexpr std::array<int, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] || (m == 2 && d == 29 && !leap)) return std::nullopt;
  return days_from_civil(y, m, d) * kDayMs;
}

std::string_view status_name(PayoutStatus s, const Texts& t) {
  switch (s) {
    case PayoutStatus::kSuccess: return t.success;
    case PayoutStatus::kDeclined: return t.declined;
    case PayoutStatus::kProcessing: break;
  }
  return t.processing;
}

std::string_view status_key(PayoutStatus s) {
  switch (s) {
    case PayoutStatus::kSuccess: return "success";
    case PayoutStatus::kDeclined: return "declined";
    case PayoutStatus::kProcessing: break;
  }
  return "processing";
}

std::string_view kind_key(PayoutKind k) { return k == PayoutKind::kCardPayout ? "card" : "wallet"; }

// "p.jeltz@mail.com" -> "p.j***@mail.com": the cabinet never shows a customer's whole address.
std::string masked_target(std::string_view target) {
  if (!target.starts_with("mailto:")) return std::string(target);
  std::string_view email = target.substr(7);
  const auto at = email.find('@');
  if (at == std::string_view::npos) return "mailto:***";
  return "mailto:" + std::string(email.substr(0, std::min<std::size_t>(3, at))) + "***" +
         std::string(email.substr(at));
}

// A CSV field: quoted when needed; a leading = + - @ is neutralised for spreadsheets.
void csv_field(std::string& out, std::string_view v) {
  const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
  const bool quote = formula || v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  if (quote) out.push_back('"');
}

struct Filters {
  store::PayoutQuery query;
  Params shown;  // the filters as the form shows them (and links repeat them)
  bool valid = true;
};

Filters filters_of(const std::string& tenant, const Params& p) {
  Filters f;
  f.query.tenant = tenant;
  for (const char* name : {"status", "from", "to", "min", "max", "id"}) f.shown.emplace_back(name, param(p, name));
  const std::string status = param(p, "status");
  if (status == "processing") f.query.status = PayoutStatus::kProcessing;
  else if (status == "success") f.query.status = PayoutStatus::kSuccess;
  else if (status == "declined") f.query.status = PayoutStatus::kDeclined;
  else if (!status.empty()) f.valid = false;
  if (const std::string from = param(p, "from"); !from.empty()) {
    auto ms = date_ms(from);
    f.valid &= ms.has_value();
    f.query.created_from_ms = ms.value_or(0);
  }
  if (const std::string to = param(p, "to"); !to.empty()) {
    auto ms = date_ms(to);
    f.valid &= ms.has_value();
    f.query.created_to_ms = ms ? *ms + kDayMs : 0;  // the whole day
  }
  for (const auto& [name, target] : {std::pair<const char*, std::int64_t*>{"min", &f.query.amount_min},
                                     {"max", &f.query.amount_max}}) {
    const std::string text = param(p, name);
    if (text.empty()) continue;
    const DecimalParse d = parse_decimal(text, 2);
    f.valid &= d.error == DecimalError::kNone && d.minor >= 0;
    *target = d.minor;
  }
  f.query.partner_id = param(p, "id");
  f.valid &= f.query.partner_id.size() <= 255;
  const std::string before = param(p, "before");
  if (!before.empty()) {
    f.valid &= before.size() <= 18 && before.find_first_not_of("0123456789") == std::string::npos;
    if (f.valid) f.query.before_id = std::stoll(before);
  }
  return f;
}

// The filters set, for the audit log: "status=success, from=2026-12-01".
std::string filter_text(const Filters& f) {
  std::string out;
  for (const auto& [k, val] : f.shown) {
    if (!val.empty()) out.append(out.empty() ? "" : ", ").append(k).append("=").append(val);
  }
  return out;
}

}  // namespace

struct Pages::View {
  std::string path, query;  // copies: a login's answer outlives the request
  http::Responder respond;
  const Texts* t = &kEn;
  std::optional<Session> session;
  std::vector<std::string> cookies;  // Set-Cookie values
  bool secure = false;

  void set_cookie(std::string_view name, std::string_view value, bool clear = false) {
    std::string c(name);
    c.append("=").append(value).append("; Path=/cabinet; HttpOnly; SameSite=Strict");
    if (secure) c.append("; Secure");
    if (clear) c.append("; Max-Age=0");
    cookies.push_back(std::move(c));
  }
  void send(http::Response r) {
    for (std::string& c : cookies) r.headers.emplace_back("Set-Cookie", std::move(c));
    // The referrer goes to this origin only. With none at all a browser sends "Origin: null"
    // with the cabinet's own forms, and the same-origin check could not tell them from a
    // sandboxed frame's.
    for (auto& [name, value] : r.headers) {
      if (name == "Referrer-Policy") value = "same-origin";
    }
    respond(std::move(r));
  }
  void html(int status, std::string body) { send(pages::page(status, std::move(body))); }
  void redirect(std::string location) { send(pages::redirect(std::move(location))); }
};

namespace {

std::string head(const Texts& t, std::string_view title) {
  std::string h = "<!doctype html><html lang=\"";
  h.append(t.lang).append("\"><head><meta charset=\"utf-8\">");
  h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  h.append("<title>");
  escape_into(h, title);
  h.append(" · ").append(t.title).append("</title>");
  h.append("<link rel=\"stylesheet\" href=\"").append(pages::kStylesheetPath).append("\">");
  h.append("</head><body><div class=\"cab\">");
  return h;
}

constexpr std::string_view kFoot = "</div></body></html>";

// The current page in the other language: its query with lang replaced.
std::string lang_link(const Pages::View& v, std::string_view lang) {
  Params p = params_of(v.query).value_or(Params{});
  std::erase_if(p, [](const auto& kv) { return kv.first == "lang"; });
  p.emplace_back("lang", std::string(lang));
  return v.path + "?" + query_of(p);
}

std::string layout(const Pages::View& v, std::string_view active, std::string_view title) {
  const Texts& t = *v.t;
  std::string h = head(t, title);
  h.append("<header><strong>").append(t.title).append("</strong><nav>");
  for (const auto& [path, name] : {std::pair<std::string_view, std::string_view>{"/cabinet", t.overview},
                                   {"/cabinet/payouts", t.payouts},
                                   {"/cabinet/audit", t.audit}}) {
    h.append("<a href=\"").append(path).append("\"");
    if (path == active) h.append(" aria-current=\"page\"");
    h.append(">").append(name).append("</a>");
  }
  h.append("</nav><span class=\"who\" id=\"who\">");
  escape_into(h, v.session->login);
  h.append(" · ");
  escape_into(h, v.session->tenant);
  h.append("</span><a href=\"").append(escape(lang_link(v, t.lang == "ru" ? "en" : "ru")));
  h.append("\" id=\"lang\">").append(t.lang == "ru" ? "EN" : "RU").append("</a>");
  h.append("<form class=\"inline\" method=\"post\" action=\"/cabinet/logout\">");
  h.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(v.session->csrf)).append("\">");
  h.append("<button id=\"logout\" type=\"submit\">").append(t.logout).append("</button></form></header>");
  h.append("<h1>");
  escape_into(h, title);
  h.append("</h1>");
  return h;
}

}  // namespace

Pages::Pages(Auth& auth, const store::Store& store, const engine::CardPayouts& cards, bool sandbox)
    : auth_(auth), store_(store), cards_(cards), sandbox_(sandbox) {}

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path != "/cabinet" && !path.starts_with("/cabinet/")) return false;
  View v{std::string(path), std::string(request.query()), respond};
  v.secure = !sandbox_;
  auto query = params_of(request.query());
  std::string lang = query ? param(*query, "lang") : "";
  if (lang == "ru" || lang == "en") {
    v.cookies.push_back("cabinet_lang=" + lang + "; Path=/cabinet; SameSite=Strict" +
                        (v.secure ? "; Secure" : ""));
  } else {
    lang = cookie(request.cookie, "cabinet_lang");
    if (lang != "ru" && lang != "en") lang = request.accept_language.starts_with("ru") ? "ru" : "en";
  }
  v.t = lang == "ru" ? &kRu : &kEn;
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
  v.session = auth_.session(cookie(request.cookie, "cabinet_session"));
  if (!v.session) {
    if (post) return v.html(403, head(*v.t, v.t->session_ended) + "<p class=\"status declined\">" +
                                     std::string(v.t->session_ended) + "</p>" + std::string(kFoot)),
                  true;
    v.redirect("/cabinet/login");
    return true;
  }
  if (post) {
    auto form = params_of(request.body);
    if (!same_origin(request) || !form || param(*form, "csrf").empty() ||
        !Auth::same_secret(param(*form, "csrf"), v.session->csrf)) {
      v.html(403, layout(v, {}, v.t->bad_form) + std::string(kFoot));
      return true;
    }
    if (path == "/cabinet/logout") return logout(v, request), true;
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
  auto form = params_of(request.body);
  const std::string expected = cookie(request.cookie, "cabinet_login");
  if (!form || !same_origin(request) || expected.empty() ||
      !Auth::same_secret(param(*form, "csrf"), expected)) {
    return login_page(v, 403, v.t->bad_form);
  }
  std::string login = param(*form, "login"), password = param(*form, "password");
  if (login.empty() || login.size() > 64 || password.size() > 256) return login_page(v, 401, v.t->wrong);
  auto shared = std::make_shared<View>(std::move(v));
  auth_.login(std::move(login), std::move(password), request.peer_address, [this, shared](LoginResult r) {
    View& answer = *shared;
    const Texts& t = *answer.t;
    switch (r.outcome) {
      case LoginOutcome::kOk:
        answer.set_cookie("cabinet_login", "", true);
        answer.set_cookie("cabinet_session", r.token);
        return answer.redirect("/cabinet");
      case LoginOutcome::kLocked:
        return login_page(answer, 429, std::string(t.locked_until) + " " + time_text(r.locked_until_ms) + " UTC");
      case LoginOutcome::kWrong: return login_page(answer, 401, t.wrong);
      case LoginOutcome::kBusy:
      case LoginOutcome::kUnavailable: return login_page(answer, 503, t.busy);
    }
  });
}

void Pages::logout(View& v, const http::Request& request) {
  auto shared = std::make_shared<View>(std::move(v));
  auth_.logout(*shared->session, request.peer_address, [shared](bool) {
    shared->set_cookie("cabinet_session", "", true);
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

void Pages::payouts(View& v, const http::Request& request, bool csv) {
  const Texts& t = *v.t;
  const Params query = params_of(request.query()).value_or(Params{});
  Filters f = filters_of(v.session->tenant, query);
  if (csv) {
    std::string out = "id,created_utc,updated_utc,type,partner_id,amount,currency,status,decline_code\r\n";
    f.query.limit = 1000;
    std::size_t rows = 0;
    while (f.valid && rows < kCsvRowsMax) {
      const auto page = store_.payouts_page(f.query);
      for (const store::PayoutRecord& p : page) {
        std::string amount;
        append_decimal(amount, p.amount, p.currency.exponent());
        for (const std::string& field :
             {std::to_string(p.id), time_text(p.created_ms), time_text(p.updated_ms), std::string(kind_key(p.kind)),
              p.partner_id, amount, std::string(p.currency.code()), std::string(status_key(p.status)),
              p.decline_code}) {
          csv_field(out, field);
          out.push_back(',');
        }
        out.back() = '\r';
        out.push_back('\n');
      }
      rows += page.size();
      if (page.size() < f.query.limit) break;
      f.query.before_id = page.back().id;
    }
    http::Response r;
    r.status = f.valid ? 200 : 400;
    r.content_type = "text/csv; charset=utf-8";
    r.body = std::move(out);
    r.headers = {{"Content-Disposition", "attachment; filename=\"payouts.csv\""},
                 {"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
    if (!f.valid) return v.send(std::move(r));
    // An export is recorded before it is handed out.
    auto shared = std::make_shared<View>(std::move(v));
    auto response = std::make_shared<http::Response>(std::move(r));
    const std::string detail = std::to_string(rows) + " rows" + (filter_text(f).empty() ? "" : ", " + filter_text(f));
    return auth_.audit(*shared->session, "payouts.export", detail, request.peer_address,
                       [shared, response](bool ok) {
                         if (!ok) return shared->html(503, head(*shared->t, shared->t->busy) + std::string(kFoot));
                         shared->send(std::move(*response));
                       });
  }
  std::string h = layout(v, "/cabinet/payouts", t.payouts);
  h.append("<section><form class=\"filters\" id=\"filters\" method=\"get\" action=\"/cabinet/payouts\">");
  h.append("<div><label for=\"status\">").append(t.status).append("</label><select id=\"status\" name=\"status\">");
  for (const auto& [value, name] : {std::pair<std::string_view, std::string_view>{"", t.any},
                                    {"processing", t.processing},
                                    {"success", t.success},
                                    {"declined", t.declined}}) {
    h.append("<option value=\"").append(value).append("\"");
    if (param(query, "status") == value) h.append(" selected");
    h.append(">").append(name).append("</option>");
  }
  h.append("</select></div>");
  for (const auto& [name, label, type] :
       {std::tuple<const char*, std::string_view, const char*>{"from", t.from, "date"},
        {"to", t.to, "date"},
        {"min", t.amount_min, "text"},
        {"max", t.amount_max, "text"},
        {"id", t.partner_id, "text"}}) {
    h.append("<div><label for=\"f-").append(name).append("\">").append(label).append("</label>");
    h.append("<input id=\"f-").append(name).append("\" name=\"").append(name).append("\" type=\"").append(type);
    h.append("\" value=\"").append(escape(param(query, name))).append("\"");
    if (std::string_view(type) == "text") h.append(" inputmode=\"").append(name[0] == 'i' ? "text" : "decimal").append("\"");
    h.append("></div>");
  }
  h.append("<div><button id=\"apply\" type=\"submit\">").append(t.filter).append("</button></div>");
  h.append("<div><a href=\"/cabinet/payouts\">").append(t.reset).append("</a> · <a id=\"csv\" href=\"/cabinet/payouts.csv");
  const std::string filter_query = query_of(f.shown);
  if (!filter_query.empty()) h.append("?").append(escape(filter_query));
  h.append("\">").append(t.export_csv).append("</a></div></form></section>");
  if (!f.valid) {
    h.append("<p class=\"status declined\" id=\"error\" role=\"alert\">").append(t.bad_filter).append("</p>");
    return v.html(400, h.append(kFoot));
  }
  f.query.limit = kPageSize + 1;
  auto page = store_.payouts_page(f.query);
  const bool more = page.size() > kPageSize;
  if (more) page.pop_back();
  h.append("<section><table id=\"payouts\"><thead><tr><th>").append(t.created).append("</th><th>").append(t.kind);
  h.append("</th><th>").append(t.partner_id).append("</th><th class=\"num\">").append(t.amount).append("</th><th>");
  h.append(t.status).append("</th><th>").append(t.decline_code).append("</th></tr></thead><tbody>");
  for (const store::PayoutRecord& p : page) {
    h.append("<tr data-id=\"").append(escape(p.partner_id)).append("\" data-status=\"").append(status_key(p.status));
    h.append("\"><td>").append(time_text(p.created_ms)).append("</td><td>");
    h.append(p.kind == PayoutKind::kCardPayout ? t.card_payout : t.wallet_payout).append("</td><td><a href=\"/cabinet/payout?kind=");
    h.append(kind_key(p.kind)).append("&amp;id=").append(escape(url_encode(p.partner_id))).append("\">");
    escape_into(h, p.partner_id);
    h.append("</a></td><td class=\"num\">").append(amount_text(p.amount, p.currency)).append("</td><td>");
    h.append(status_name(p.status, t)).append("</td><td>");
    escape_into(h, p.decline_code);
    h.append("</td></tr>");
  }
  if (page.empty()) h.append("<tr><td colspan=\"6\" id=\"none\">").append(t.none).append("</td></tr>");
  h.append("</tbody></table><p class=\"pager\">");
  if (f.query.before_id != 0) {
    h.append("<a id=\"newest\" href=\"/cabinet/payouts").append(filter_query.empty() ? "" : "?");
    h.append(escape(filter_query)).append("\">").append(t.newer).append("</a>");
  }
  if (more) {
    Params next = f.shown;
    next.emplace_back("before", std::to_string(page.back().id));
    h.append("<a id=\"older\" href=\"/cabinet/payouts?").append(escape(query_of(next))).append("\">");
    h.append(t.older).append(" →</a>");
  }
  h.append("</p></section>").append(kFoot);
  v.html(200, std::move(h));
}

void Pages::payout(View& v, const http::Request& request) {
  const Texts& t = *v.t;
  const Params query = params_of(request.query()).value_or(Params{});
  const std::string kind = param(query, "kind"), id = param(query, "id");
  const std::string& tenant = v.session->tenant;
  // Only the session's tenant: a payout is found by (tenant, kind, partner id).
  std::optional<store::PayoutRecord> p;
  if ((kind == "card" || kind == "wallet") && !id.empty() && id.size() <= 255) {
    p = store_.get_payout(tenant, kind == "card" ? PayoutKind::kCardPayout : PayoutKind::kWalletPayout, id);
  }
  if (!p) {
    std::string h = layout(v, "/cabinet/payouts", t.not_found);
    return v.html(404, h.append(kFoot));
  }
  std::string h = layout(v, "/cabinet/payouts", p->partner_id);
  auto row = [&](std::string_view name, std::string_view value, std::string_view key = {}) {
    if (value.empty()) return;
    h.append("<dt>").append(name).append("</dt><dd");
    if (!key.empty()) h.append(" id=\"").append(key).append("\"");
    h.append(">");
    escape_into(h, value);
    h.append("</dd>");
  };
  h.append("<section><dl class=\"order\" id=\"payout\">");
  row(t.kind, p->kind == PayoutKind::kCardPayout ? t.card_payout : t.wallet_payout);
  row(t.amount, amount_text(p->amount, p->currency), "amount");
  row(t.status, status_name(p->status, t), "status");
  row(t.decline_code, p->decline_code, "decline-code");
  std::vector<std::pair<std::int64_t, std::string>> timeline{{p->created_ms, std::string(t.made)}};
  if (p->kind == PayoutKind::kCardPayout) {
    const engine::CardPayoutResult r = cards_.get(tenant, p->partner_id);
    const engine::CardOrder& o = r.order;
    row(t.card, o.masked_pan, "masked-pan");
    row(t.scheme, o.scheme.empty() ? "" : o.scheme + ", " + o.country);
    row(t.cardholder, o.cardholder);
    row(t.rail_reference, o.order_id, "rail-reference");
    row(t.approval, o.approval, "approval");
    row(t.network_answer, o.rail_code.empty() ? "" : o.rail_code + " " + o.rail_text);
    row(t.knp, o.knp, "knp");
    row(t.parties, o.parties);
    if (o.operation_ms) timeline.emplace_back(o.operation_ms, std::string(t.decided));
  } else {
    row(t.source, p->source_ref);
    row(t.destination, p->destination_ref);
  }
  if (p->updated_ms > p->created_ms) {
    timeline.emplace_back(p->updated_ms, std::string(t.updated) + ": " + std::string(status_name(p->status, t)));
  }
  h.append("</dl></section><section><h2>").append(t.timeline).append("</h2><table id=\"timeline\"><tbody>");
  std::stable_sort(timeline.begin(), timeline.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, what] : timeline) {
    h.append("<tr><td>").append(time_text(at)).append("</td><td>");
    escape_into(h, what);
    h.append("</td></tr>");
  }
  h.append("</tbody></table></section>");
  const auto messages = store_.outbox_messages(tenant, p->partner_id + ":", 100);
  if (!messages.empty()) {
    h.append("<section><h2>").append(t.notifications).append("</h2><table id=\"notifications\"><thead><tr><th>");
    h.append(t.event).append("</th><th>").append(t.target).append("</th><th>").append(t.state).append("</th><th>");
    h.append(t.attempts).append("</th></tr></thead><tbody>");
    for (const store::OutboxMessage& m : messages) {
      static constexpr std::array<std::string_view, 3> kStates{"PENDING", "DELIVERED", "ABANDONED"};
      h.append("<tr><td>");
      escape_into(h, m.event_id);
      h.append("</td><td>");
      escape_into(h, masked_target(m.target));
      h.append("</td><td>").append(kStates[static_cast<std::size_t>(m.state)]).append("</td><td>");
      for (const store::OutboxAttempt& a : store_.outbox_attempts(m.id)) {
        h.append("<div>#").append(std::to_string(a.attempt)).append(" ").append(time_text(a.at_ms)).append(" ");
        escape_into(h, a.http_status ? "HTTP " + std::to_string(a.http_status) : a.error);
        h.append(" (").append(std::to_string(a.duration_ms)).append(" ms)</div>");
      }
      h.append("</td></tr>");
      // Callbacks are the merchant's own (signed, masked); an email's body (a code) is not shown.
      if (!m.target.starts_with("mailto:")) {
        h.append("<tr><td colspan=\"4\"><pre>");
        escape_into(h, m.body);
        h.append("</pre></td></tr>");
      }
    }
    h.append("</tbody></table></section>");
  }
  v.html(200, h.append(kFoot));
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
