#include "cabinet/pages.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <fstream>

#include "cards/card.h"
#include "core/money.h"
#include "core/secrets.h"
#include "core/time_format.h"
#include "web/forms.h"
#include "web/html.h"

namespace payoutd::cabinet {

using web::escape;
using web::escape_into;
using store::PayoutKind;
using store::PayoutStatus;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kPageSize = 50;
constexpr std::size_t kCsvRowsMax = 100'000;
constexpr int kChartDays = 14;
constexpr std::string_view kDeviceCookie = "cabinet_device";  // this browser signed in before (auth.h)

struct Texts {
  std::string_view lang, title, login_title, login, password, sign_in, wrong, throttled, busy,
      bad_form, logout, overview, payouts, audit, balances, account, code, currency, balance,
      reserved, available, per_day, day, succeeded, declined, in_flight, status, any, processing,
      success, from, to, amount_min, amount_max, partner_id, filter, export_csv, created, kind,
      amount, decline_code, newer, older, none, wallet_payout, card_payout, not_found, timeline,
      updated, decided, card, scheme, rail_reference, approval, network_answer, knp, parties,
      notifications, event, target, state, attempts, at, result, duration, when, action, detail,
      address, bad_filter, reset, utc, source, destination, cardholder, session_ended, made,
      my_cards, knp_title, add_card, card_number, expiry, expiry_hint, holder, phone, phone_hint,
      save_card, binding_id, copy, primary, make_primary, remove, no_cards, sms_sent, sms_code,
      confirm, bad_card, bad_expiry, bad_holder, bad_phone, foreign_card, unknown_card,
      already_added, wrong_code, code_expired, card_added, card_declined, card_in_use,
      card_removed, card_primary, no_sms, knp_saved, knp_current, save, bad_knp, too_many_sms;
};

constexpr Texts kEn{
    "en", "Partner cabinet", "Sign in to the partner cabinet", "Login", "Password", "Sign in",
    "Wrong login or password", "Too many wrong passwords: try again in a while (seconds):",
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
    "Destination", "Cardholder", "Your session has ended: sign in again", "Created",
    "My cards", "KNP value", "Add a card", "Card number", "Expiry", "MM/YY", "Cardholder name",
    "Phone the card is linked to", "The code comes by SMS to it, e.g. +77011234567", "Save the card",
    "Binding ID", "Copy", "Primary", "Make primary", "Delete", "No corporate cards yet",
    "We sent a one-time password by SMS to", "Password from the SMS", "Confirm",
    "Check the card number", "Check the expiry date (MM/YY, not in the past)",
    "Enter the cardholder's name in Latin letters (up to 26)", "Enter the phone as + and 10 to 15 digits",
    "Only cards issued in Kazakhstan can be added", "This card is not known to the bank",
    "This card is already among your cards", "The password is wrong", "The password has expired or was entered wrongly too often: add the card again",
    "The card was added: its binding ID is", "The card could not be verified",
    "Payouts in flight still hold money on this card: try again later", "The card was deleted",
    "The card is now the primary one", "SMS codes cannot be sent: no SMS gateway is configured",
    "The KNP value was saved", "Payouts carry the KNP", "Save", "Choose a code from the list",
    "Too many SMS codes were sent for this phone or partner: try again in an hour"};
constexpr Texts kRu{
    "ru", "Личный кабинет", "Вход в личный кабинет", "Логин", "Пароль", "Войти",
    "Неверный логин или пароль", "Слишком много неверных паролей: повторите через (секунд):",
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
    "Источник", "Получатель", "Держатель карты", "Сессия завершена: войдите снова", "Создана",
    "Мои карты", "Значение КНП", "Добавить карту", "Номер карты", "Срок действия", "ММ/ГГ",
    "Имя держателя карты", "Телефон, к которому привязана карта", "Пароль придёт по СМС, например +77011234567",
    "Сохранить карту", "ID связки", "Копировать", "Основная", "Сделать карту основной", "Удалить карту",
    "Корпоративных карт пока нет", "Мы отправили одноразовый пароль по СМС на", "Пароль из СМС", "Подтвердить",
    "Проверьте номер карты", "Проверьте срок действия (ММ/ГГ, не в прошлом)",
    "Укажите имя держателя латиницей (до 26 символов)", "Укажите телефон: + и от 10 до 15 цифр",
    "Добавить можно только карты, выпущенные в Казахстане", "Эта карта неизвестна банку",
    "Эта карта уже есть среди ваших карт", "Неверный пароль",
    "Пароль истёк или введён неверно слишком много раз: добавьте карту снова",
    "Карта добавлена, ID связки:", "Не удалось проверить карту",
    "На карте ещё зарезервированы деньги выплат в обработке: повторите позже", "Карта удалена",
    "Карта стала основной", "СМС не отправить: шлюз СМС не настроен", "Значение КНП сохранено",
    "Выплаты несут КНП", "Сохранить", "Выберите код из справочника",
    "Слишком много СМС-кодов для этого телефона или партнёра: повторите через час"};

using Params = web::FormParams;


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
  for (const char* name : {"status", "from", "to", "min", "max", "id"}) f.shown.emplace_back(name, web::form_value(p, name));
  const std::string status = web::form_value(p, "status");
  if (status == "processing") f.query.status = PayoutStatus::kProcessing;
  else if (status == "success") f.query.status = PayoutStatus::kSuccess;
  else if (status == "declined") f.query.status = PayoutStatus::kDeclined;
  else if (!status.empty()) f.valid = false;
  if (const std::string from = web::form_value(p, "from"); !from.empty()) {
    auto ms = parse_iso_date_ms(from);
    f.valid &= ms.has_value();
    f.query.created_from_ms = ms.value_or(0);
  }
  if (const std::string to = web::form_value(p, "to"); !to.empty()) {
    auto ms = parse_iso_date_ms(to);
    f.valid &= ms.has_value();
    f.query.created_to_ms = ms ? *ms + kDayMs : 0;  // the whole day
  }
  for (const auto& [name, target] : {std::pair<const char*, std::int64_t*>{"min", &f.query.amount_min},
                                     {"max", &f.query.amount_max}}) {
    const std::string text = web::form_value(p, name);
    if (text.empty()) continue;
    const DecimalParse d = parse_decimal(text, 2);
    f.valid &= d.error == DecimalError::kNone && d.minor >= 0;
    *target = d.minor;
  }
  f.query.partner_id = web::form_value(p, "id");
  f.valid &= f.query.partner_id.size() <= 255;
  const std::string before = web::form_value(p, "before");
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
  std::int64_t retry_after_s = 0;  // a Retry-After header, when set

  // max_age_s: -1 for the browser's session, 0 to remove the cookie, else its life.
  void set_cookie(std::string_view name, std::string_view value, std::int64_t max_age_s = -1) {
    std::string c(name);
    c.append("=").append(value).append("; Path=/cabinet; HttpOnly; SameSite=Strict");
    if (secure) c.append("; Secure");
    if (max_age_s >= 0) c.append("; Max-Age=").append(std::to_string(max_age_s));
    cookies.push_back(std::move(c));
  }
  void send(http::Response r) {
    for (std::string& c : cookies) r.headers.emplace_back("Set-Cookie", std::move(c));
    if (retry_after_s > 0) http::set_retry_after(r, retry_after_s);
    // The referrer goes to this origin only. With none at all a browser sends "Origin: null"
    // with the cabinet's own forms, and the same-origin check could not tell them from a
    // sandboxed frame's.
    for (auto& [name, value] : r.headers) {
      if (name == "Referrer-Policy") value = "same-origin";
    }
    respond(std::move(r));
  }
  void html(int status, std::string body) { send(web::page(status, std::move(body))); }
  void redirect(std::string location) { send(web::redirect(std::move(location))); }
};

namespace {

std::string head(const Texts& t, std::string_view title) {
  std::string h = "<!doctype html><html lang=\"";
  h.append(t.lang).append("\"><head><meta charset=\"utf-8\">");
  h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  h.append("<title>");
  escape_into(h, title);
  h.append(" · ").append(t.title).append("</title>");
  h.append("<link rel=\"stylesheet\" href=\"").append(web::kStylesheetPath).append("\">");
  h.append("<script src=\"").append(web::kScriptPath).append("\" defer></script>");
  h.append("</head><body><div class=\"cab\">");
  return h;
}

constexpr std::string_view kFoot = "</div></body></html>";

// The current page in the other language: its query with lang replaced.
std::string lang_link(const Pages::View& v, std::string_view lang) {
  Params p = web::parse_form(v.query).value_or(Params{});
  std::erase_if(p, [](const auto& kv) { return kv.first == "lang"; });
  p.emplace_back("lang", std::string(lang));
  return v.path + "?" + query_of(p);
}

std::string layout(const Pages::View& v, std::string_view active, std::string_view title) {
  const Texts& t = *v.t;
  std::string h = head(t, title);
  h.append("<header><strong>").append(t.title).append("</strong><nav>");
  std::vector<std::pair<std::string_view, std::string_view>> nav{{"/cabinet", t.overview},
                                                                 {"/cabinet/payouts", t.payouts}};
  if (v.session->tenant.starts_with("bereke:")) {
    nav.emplace_back("/cabinet/cards", t.my_cards);
    nav.emplace_back("/cabinet/knp", t.knp_title);
  }
  nav.emplace_back("/cabinet/audit", t.audit);
  for (const auto& [path, name] : nav) {
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

Pages::Pages(Auth& auth, const store::Store& store, engine::CardPayouts& cards,
             const providers::bereke::Dialect& bereke, PagesOptions options)
    : auth_(auth),
      store_(store),
      cards_(cards),
      bereke_(bereke),
      options_(std::move(options)),
      sms_per_phone_(options_.sms_per_phone_per_hour, 3'600'000, options_.sms_per_phone_per_hour, 100'000),
      sms_per_tenant_(options_.sms_per_tenant_per_hour, 3'600'000, options_.sms_per_tenant_per_hour, 100'000) {}

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (path != "/cabinet" && !path.starts_with("/cabinet/")) return false;
  View v{std::string(path), std::string(request.query()), respond};
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
  v.session = auth_.session(web::cookie_value(request.cookie, "cabinet_session"));
  if (!v.session) {
    if (post) return v.html(403, head(*v.t, v.t->session_ended) + "<p class=\"status declined\">" +
                                     std::string(v.t->session_ended) + "</p>" + std::string(kFoot)),
                  true;
    v.redirect("/cabinet/login");
    return true;
  }
  if (post) {
    auto form = web::parse_form(request.body);
    if (!same_origin(request) || !form || web::form_value(*form, "csrf").empty() ||
        !secrets_equal(web::form_value(*form, "csrf"), v.session->csrf)) {
      v.html(403, layout(v, {}, v.t->bad_form) + std::string(kFoot));
      return true;
    }
    if (path == "/cabinet/logout") return logout(v, request), true;
    if (v.session->tenant.starts_with("bereke:")) {
      if (path == "/cabinet/cards/add") return add_card(v, *form, request.peer_address), true;
      if (path == "/cabinet/cards/confirm") return confirm_card(v, *form, request.peer_address), true;
      if (path == "/cabinet/cards/primary") return card_action(v, *form, request.peer_address, true), true;
      if (path == "/cabinet/cards/delete") return card_action(v, *form, request.peer_address, false), true;
      if (path == "/cabinet/knp") return set_knp(v, *form, request.peer_address), true;
    }
  }
  if (get && v.session->tenant.starts_with("bereke:")) {
    if (path == "/cabinet/cards") return cards(v, {}, {}), true;
    if (path == "/cabinet/knp") return knp(v, {}), true;
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

void Pages::payouts(View& v, const http::Request& request, bool csv) {
  const Texts& t = *v.t;
  const Params query = web::parse_form(request.query()).value_or(Params{});
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
    if (web::form_value(query, "status") == value) h.append(" selected");
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
    h.append("\" value=\"").append(escape(web::form_value(query, name))).append("\"");
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
  const Params query = web::parse_form(request.query()).value_or(Params{});
  const std::string kind = web::form_value(query, "kind"), id = web::form_value(query, "id");
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
  // Exactly this payout's messages: by its id, never by a prefix of event ids (an orderNumber may
  // spell the start of another event's id).
  const auto messages = store_.payout_messages(p->id, 100);
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
      // Callbacks are the merchant's own (signed, masked); a message to a person carries a code,
      // and its body is never shown (nor kept once sent).
      if (!store::body_is_secret(m)) {
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


// --- Bereke: "My cards" and "KNP value" ---------------------------------------------------------

namespace {

// "+77011234567" -> "+7701***4567"
std::string masked_phone(std::string_view phone) {
  if (phone.size() < 8) return "***";
  return std::string(phone.substr(0, 5)) + "***" + std::string(phone.substr(phone.size() - 4));
}

// "MM/YY", not before this month.
bool valid_expiry(std::string_view e, std::int64_t now_ms) {
  if (e.size() != 5 || e[2] != '/') return false;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (e[i] < '0' || e[i] > '9') return false;
  }
  const int month = (e[0] - '0') * 10 + (e[1] - '0');
  const int year = 2000 + (e[3] - '0') * 10 + (e[4] - '0');
  if (month < 1 || month > 12) return false;
  const std::string today = time_text(now_ms);  // "2026-12-01 ..."
  const int this_year = std::stoi(today.substr(0, 4)), this_month = std::stoi(today.substr(5, 2));
  return year > this_year || (year == this_year && month >= this_month);
}

std::string hidden(std::string_view name, std::string_view value) {
  std::string h = "<input type=\"hidden\" name=\"";
  h.append(name).append("\" value=\"").append(escape(value)).append("\">");
  return h;
}

std::string notice_html(std::string_view notice, std::string_view error) {
  std::string h;
  if (!notice.empty()) {
    h.append("<p class=\"status success\" id=\"notice\" role=\"status\">");
    escape_into(h, notice);
    h.append("</p>");
  }
  if (!error.empty()) {
    h.append("<p class=\"status declined\" id=\"error\" role=\"alert\">");
    escape_into(h, error);
    h.append("</p>");
  }
  return h;
}

}  // namespace

std::vector<KnpCode> load_knp_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the KNP table " + path);
  std::vector<KnpCode> out;
  std::string line;
  int number = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      if (line != "code,name_ru") throw std::runtime_error(path + ":" + std::to_string(number) + ": expected code,name_ru");
      continue;
    }
    const auto comma = line.find(',');
    std::string code = line.substr(0, comma), name = comma == std::string::npos ? "" : line.substr(comma + 1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t at = name.find("\"\""); at != std::string::npos; at = name.find("\"\"", at + 1)) name.erase(at, 1);
    }
    if (code.size() != 3 || code.find_first_not_of("0123456789") != std::string::npos || name.empty()) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected a 3-digit code and its name");
    }
    if (!out.empty() && out.back().code >= code) {
      throw std::runtime_error(path + ":" + std::to_string(number) + ": codes must be sorted and unique");
    }
    out.push_back({std::move(code), std::move(name)});
  }
  return out;
}

void Pages::cards(View& v, std::string_view notice, std::string_view error, int status) {
  const Texts& t = *v.t;
  const std::string& tenant = v.session->tenant;
  const Params query = web::parse_form(v.query).value_or(Params{});
  std::string added_notice;
  if (notice.empty() && error.empty()) {
    if (const std::string added = web::form_value(query, "added"); !added.empty()) {
      added_notice = std::string(t.card_added) + " " + added;
    } else if (web::form_value(query, "done") == "primary") {
      added_notice = t.card_primary;
    } else if (web::form_value(query, "done") == "removed") {
      added_notice = t.card_removed;
    }
    notice = added_notice;
  }
  std::string h = layout(v, "/cabinet/cards", t.my_cards);
  h.append(notice_html(notice, error));
  h.append("<section><table id=\"cards\"><thead><tr><th>").append(t.card_number).append("</th><th>");
  h.append(t.holder).append("</th><th>").append(t.expiry).append("</th><th>").append(t.binding_id);
  h.append("</th><th class=\"num\">").append(t.available).append("</th><th></th></tr></thead><tbody>");
  const auto list = cards_.corporate_cards(tenant);
  int n = 0;
  for (const engine::CorporateCard& c : list) {
    const std::string field = "binding-" + std::to_string(++n);
    h.append("<tr data-binding=\"").append(escape(c.binding_id)).append("\"");
    if (c.primary) h.append(" data-primary=\"1\"");
    h.append("><td>");
    escape_into(h, c.masked_pan);
    if (c.primary) h.append(" <strong class=\"primary\">").append(t.primary).append("</strong>");
    h.append("</td><td>");
    escape_into(h, c.holder);
    h.append("</td><td>");
    escape_into(h, c.expiry);
    h.append("</td><td><input readonly class=\"binding\" id=\"").append(field).append("\" value=\"");
    h.append(escape(c.binding_id)).append("\" aria-label=\"").append(t.binding_id).append("\"> ");
    h.append("<button type=\"button\" class=\"small copy\" data-copy=\"").append(field).append("\">");
    h.append(t.copy).append("</button></td><td class=\"num\">");
    h.append(amount_text(c.account.available(), c.account.currency)).append("</td><td>");
    for (const auto& [action, label, show] :
         {std::tuple<std::string_view, std::string_view, bool>{"primary", t.make_primary, !c.primary},
          {"delete", t.remove, true}}) {
      if (!show) continue;
      h.append("<form class=\"inline\" method=\"post\" action=\"/cabinet/cards/").append(action).append("\">");
      h.append(hidden("csrf", v.session->csrf)).append(hidden("binding", c.binding_id));
      h.append("<button type=\"submit\" class=\"small ").append(action).append("\">").append(label);
      h.append("</button></form> ");
    }
    h.append("</td></tr>");
  }
  if (list.empty()) h.append("<tr><td colspan=\"6\">").append(t.no_cards).append("</td></tr>");
  h.append("</tbody></table></section>");
  h.append("<section><h2>").append(t.add_card).append("</h2>");
  if (!options_.sms) h.append("<p class=\"status declined\">").append(t.no_sms).append("</p>");
  h.append("<form id=\"add-card\" method=\"post\" action=\"/cabinet/cards/add\" autocomplete=\"off\">");
  h.append(hidden("csrf", v.session->csrf));
  for (const auto& [name, label, hint, extra] :
       {std::tuple<const char*, std::string_view, std::string_view, const char*>{
            "pan", t.card_number, {}, " inputmode=\"numeric\" maxlength=\"23\""},
        {"expiry", t.expiry, t.expiry_hint, " maxlength=\"5\" placeholder=\"MM/YY\""},
        {"holder", t.holder, {}, " maxlength=\"26\""},
        {"phone", t.phone, t.phone_hint, " inputmode=\"tel\" maxlength=\"16\""}}) {
    h.append("<label for=\"card-").append(name).append("\">").append(label).append("</label>");
    h.append("<input id=\"card-").append(name).append("\" name=\"").append(name).append("\"").append(extra).append(">");
    if (!hint.empty()) h.append("<small>").append(hint).append("</small>");
  }
  h.append("<button id=\"save-card\" type=\"submit\"").append(options_.sms ? "" : " disabled").append(">");
  h.append(t.save_card).append("</button></form></section>").append(kFoot);
  v.html(status, std::move(h));
}

void Pages::add_card(View& v, const Params& form, const std::string& address) {
  const Texts& t = *v.t;
  if (!options_.sms) return cards(v, {}, t.no_sms, 503);
  std::string pan;
  for (char c : web::form_value(form, "pan")) {
    if (c != ' ' && c != '-') pan.push_back(c);
  }
  const std::string expiry = web::form_value(form, "expiry"), holder = web::form_value(form, "holder"), phone = web::form_value(form, "phone");
  auto refuse = [&](std::string_view why) {
    sodium_memzero(pan.data(), pan.size());
    cards(v, {}, why, 422);
  };
  if (pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax || !cards::all_digits(pan) ||
      !cards::luhn_valid(pan)) {
    return refuse(t.bad_card);
  }
  auto issuer = cards_.bins().find(pan);
  if (!issuer) return refuse(t.unknown_card);
  const providers::bereke::Partner* partner = bereke_.partner_of_tenant(v.session->tenant);
  bool allowed = false;
  for (const std::string& country : partner ? partner->card_countries : std::vector<std::string>{}) {
    allowed |= country == issuer->country;
  }
  if (!allowed) return refuse(t.foreign_card);
  if (!valid_expiry(expiry, SystemClock().now_ms())) return refuse(t.bad_expiry);
  bool holder_ok = !holder.empty() && holder.size() <= 26;
  for (char c : holder) holder_ok &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' || c == '-';
  if (!holder_ok) return refuse(t.bad_holder);
  if (phone.size() < 11 || phone.size() > 16 || phone[0] != '+' || !cards::all_digits(phone.substr(1))) {
    return refuse(t.bad_phone);
  }
  // Each SMS costs money and reaches a phone the user typed: bounded per phone and per tenant.
  const std::int64_t now_ms = SystemClock().now_ms();
  if (sms_per_phone_.wait_ms(phone, now_ms) > 0 || sms_per_tenant_.wait_ms(v.session->tenant, now_ms) > 0) {
    sodium_memzero(pan.data(), pan.size());
    return cards(v, {}, t.too_many_sms, 429);
  }
  sms_per_phone_.take(phone, now_ms);
  sms_per_tenant_.take(v.session->tenant, now_ms);
  std::string upper;
  for (char c : holder) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  auto shared = std::make_shared<View>(std::move(v));
  cards_.enrol_card(shared->session->tenant, {std::move(pan), *issuer, upper}, expiry, phone,
                    [this, shared, address](engine::EnrolmentResult r) {
                      View& answer = *shared;
                      if (r.error == engine::Error::kIdConflict) return cards(answer, {}, answer.t->already_added, 409);
                      if (r.error != engine::Error::kNone) return cards(answer, {}, answer.t->busy, 503);
                      auth_.audit(*answer.session, "cards.add.requested", r.enrolment.masked_pan, address,
                                  [this, shared, e = r.enrolment](bool) { code_page(*shared, e, {}, 200); });
                    });
}

void Pages::code_page(View& v, const engine::Enrolment& e, std::string_view error, int status) {
  const Texts& t = *v.t;
  std::string h = layout(v, "/cabinet/cards", t.add_card);
  h.append(notice_html({}, error));
  h.append("<section><p id=\"sms-sent\">").append(t.sms_sent).append(" ");
  escape_into(h, masked_phone(e.phone));
  h.append(" (");
  escape_into(h, e.masked_pan);
  h.append(")</p><form id=\"confirm-card\" method=\"post\" action=\"/cabinet/cards/confirm\" autocomplete=\"off\">");
  h.append(hidden("csrf", v.session->csrf)).append(hidden("enrolment", e.id));
  h.append("<label for=\"sms-code\">").append(t.sms_code).append("</label>");
  h.append("<input id=\"sms-code\" name=\"code\" inputmode=\"numeric\" maxlength=\"6\" autocomplete=\"one-time-code\">");
  h.append("<button id=\"confirm\" type=\"submit\">").append(t.confirm).append("</button></form></section>");
  v.html(status, h.append(kFoot));
}

void Pages::confirm_card(View& v, const Params& form, const std::string& address) {
  const std::string id = web::form_value(form, "enrolment");
  const providers::bereke::Partner* partner = bereke_.partner_of_tenant(v.session->tenant);
  const std::int64_t opening = partner ? partner->new_card_balance : 0;
  auto shared = std::make_shared<View>(std::move(v));
  cards_.confirm_enrolment(
      shared->session->tenant, id.substr(0, 64), web::form_value(form, "code"), opening,
      [this, shared, address](engine::EnrolmentResult r) {
        View& answer = *shared;
        const Texts& t = *answer.t;
        if (r.error == engine::Error::kInvalid && r.detail == "wrong-code" && r.enrolment.state == "code-sent") {
          return code_page(answer, r.enrolment, t.wrong_code, 422);
        }
        if (r.error == engine::Error::kInvalid || r.error == engine::Error::kNotFound) {
          return cards(answer, {}, t.code_expired, 422);
        }
        if (r.error != engine::Error::kNone) return cards(answer, {}, t.busy, 503);
        const bool bound = r.enrolment.state == "bound";
        auth_.audit(*answer.session, bound ? "cards.add" : "cards.add.declined",
                    r.enrolment.masked_pan + " " + (bound ? r.enrolment.binding_id : r.enrolment.reason), address,
                    [this, shared, e = r.enrolment, bound](bool) {
                      if (bound) return shared->redirect("/cabinet/cards?added=" + url_encode(e.binding_id));
                      cards(*shared, {}, std::string(shared->t->card_declined) + " (" + e.reason + ")", 422);
                    });
      });
}

void Pages::card_action(View& v, const Params& form, const std::string& address, bool primary) {
  const std::string binding = web::form_value(form, "binding").substr(0, 64);
  auto shared = std::make_shared<View>(std::move(v));
  auto done = [this, shared, address, binding, primary](engine::AdminResult r) {
    View& answer = *shared;
    const Texts& t = *answer.t;
    if (r.error == engine::Error::kInvalid) return cards(answer, {}, t.card_in_use, 409);
    if (r.error == engine::Error::kNotFound) return cards(answer, {}, t.not_found, 404);
    if (r.error != engine::Error::kNone) return cards(answer, {}, t.busy, 503);
    auth_.audit(*answer.session, primary ? "cards.primary" : "cards.delete", binding, address, [shared, primary](bool) {
      shared->redirect(std::string("/cabinet/cards?done=") + (primary ? "primary" : "removed"));
    });
  };
  if (primary) return cards_.set_primary_card(shared->session->tenant, binding, done);
  cards_.remove_card(shared->session->tenant, binding, done);
}

void Pages::knp(View& v, std::string_view notice, int status) {
  const Texts& t = *v.t;
  const providers::bereke::Partner* partner = bereke_.partner_of_tenant(v.session->tenant);
  const std::string current =
      cards_.setting(v.session->tenant, "knp").value_or(partner ? partner->knp : std::string());
  const Params query = web::parse_form(v.query).value_or(Params{});
  if (notice.empty() && web::form_value(query, "saved") == "1") notice = t.knp_saved;
  std::string h = layout(v, "/cabinet/knp", t.knp_title);
  h.append(notice_html(status == 200 ? notice : std::string_view(), status == 200 ? std::string_view() : notice));
  h.append("<section><p>").append(t.knp_current).append(" <strong id=\"knp-current\">");
  escape_into(h, current);
  h.append("</strong></p><form id=\"knp-form\" method=\"post\" action=\"/cabinet/knp\">");
  h.append(hidden("csrf", v.session->csrf));
  h.append("<label for=\"knp\">").append(t.knp_title).append("</label><select id=\"knp\" name=\"knp\">");
  for (const KnpCode& k : options_.knp) {
    h.append("<option value=\"").append(k.code).append("\"");
    if (k.code == current) h.append(" selected");
    h.append(">").append(k.code).append(" — ");
    escape_into(h, k.name);
    h.append("</option>");
  }
  h.append("</select><button id=\"save-knp\" type=\"submit\">").append(t.save).append("</button></form></section>");
  v.html(status, h.append(kFoot));
}

void Pages::set_knp(View& v, const Params& form, const std::string& address) {
  const std::string code = web::form_value(form, "knp");
  const bool known = std::any_of(options_.knp.begin(), options_.knp.end(), [&](const KnpCode& k) { return k.code == code; });
  if (!known) return knp(v, v.t->bad_knp, 422);
  const providers::bereke::Partner* partner = bereke_.partner_of_tenant(v.session->tenant);
  const std::string before =
      cards_.setting(v.session->tenant, "knp").value_or(partner ? partner->knp : std::string());
  auto shared = std::make_shared<View>(std::move(v));
  cards_.set_setting(shared->session->tenant, "knp", code, [this, shared, address, before, code](engine::AdminResult r) {
    if (r.error != engine::Error::kNone) return knp(*shared, shared->t->busy, 503);
    auth_.audit(*shared->session, "knp.change", before + " -> " + code, address,
                [shared](bool) { shared->redirect("/cabinet/knp?saved=1"); });
  });
}
}  // namespace payoutd::cabinet
