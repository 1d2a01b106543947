#include "cabinet/view.h"

#include "core/time_format.h"
#include "web/html.h"

namespace payoutd::cabinet {

using web::escape;
using web::escape_into;

namespace {

constexpr Texts kEn{
    "en", "Partner cabinet", "Sign in to the partner cabinet", "Login", "Password", "Sign in",
    "Wrong login or password", "Too many wrong passwords: try again in a while (seconds):",
    "Too many sign-ins at once, try again in a moment", "The form has expired: try again",
    "Sign out", "Overview", "Payouts", "Audit log", "Balances", "Account", "Code", "Currency",
    "Balance", "Reserved by payouts in flight", "Available", "Payouts per day (UTC)", "Day",
    "Succeeded", "Declined", "In flight", "Status", "Any", "In flight", "Succeeded",
    "Created from", "Created to", "Amount from", "Amount to", "Partner id", "Show", "Export CSV",
    "Created (UTC)", "Type", "Amount", "Decline code", "Newest", "Older", "No payouts",
    "Wallet payout", "Card payout", "No such payout", "Timeline", "Last change",
    "Decided by the card network", "Card", "Scheme, country", "Rail reference", "Approval (RRN)",
    "Network answer", "KNP", "Sender and recipient", "Notifications", "Event", "Target", "State",
    "Attempts", "At", "Result", "Duration", "When (UTC)", "Action", "Detail", "Address",
    "Check the filters: dates as YYYY-MM-DD, amounts as 100.00", "Clear", "UTC", "Source",
    "Destination", "Cardholder", "Your session has ended: sign in again", "Created"};
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
    "Источник", "Получатель", "Держатель карты", "Сессия завершена: войдите снова", "Создана"};

}  // namespace

const Texts& texts_of(std::string_view lang) { return lang == "ru" ? kRu : kEn; }

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

std::string query_of(const web::FormParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out.append(out.empty() ? "" : "&").append(url_encode(k)).append("=").append(url_encode(v));
  }
  return out;
}

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

// The current page in the other language: its query with lang replaced.
std::string lang_link(const View& v, std::string_view lang) {
  web::FormParams p = web::parse_form(v.query).value_or(web::FormParams{});
  std::erase_if(p, [](const auto& kv) { return kv.first == "lang"; });
  p.emplace_back("lang", std::string(lang));
  return v.path + "?" + query_of(p);
}

std::string layout(const View& v, std::string_view active, std::string_view title) {
  const Texts& t = *v.t;
  std::string h = head(t, title);
  h.append("<header><strong>").append(t.title).append("</strong><nav>");
  std::vector<std::pair<std::string_view, std::string_view>> nav{{"/cabinet", t.overview},
                                                                 {"/cabinet/payouts", t.payouts}};
  for (const NavEntry& e : v.nav) nav.emplace_back(e.path, e.label);
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

}  // namespace payoutd::cabinet
