#include "cabinet/view.h"

#include "core/time_format.h"
#include "web/html.h"

namespace payoutd::cabinet {

namespace {

constexpr Texts kEn{"en",
                    "Partner cabinet",
                    "Sign in to the partner cabinet",
                    "Login",
                    "Password",
                    "Sign in",
                    "Wrong login or password",
                    "Too many wrong passwords: try again in a while (seconds):",
                    "Too many sign-ins at once, try again in a moment",
                    "The form has expired: try again",
                    "Sign out",
                    "Overview",
                    "Payouts",
                    "Audit log",
                    "Balances",
                    "Account",
                    "Code",
                    "Currency",
                    "Balance",
                    "Reserved by payouts in flight",
                    "Available",
                    "Payouts per day (UTC)",
                    "Day",
                    "Succeeded",
                    "Declined",
                    "In flight",
                    "Status",
                    "Any",
                    "In flight",
                    "Succeeded",
                    "Created from",
                    "Created to",
                    "Amount from",
                    "Amount to",
                    "Partner id",
                    "Show",
                    "Export CSV",
                    "Created (UTC)",
                    "Type",
                    "Amount",
                    "Decline code",
                    "Newest",
                    "Older",
                    "No payouts",
                    "Wallet payout",
                    "Card payout",
                    "No such payout",
                    "Timeline",
                    "Last change",
                    "Decided by the card network",
                    "Card",
                    "Scheme, country",
                    "Card rail",
                    "Rails left for the fallback",
                    "Rail reference",
                    "Approval (RRN)",
                    "Network answer",
                    "KNP",
                    "Sender and recipient",
                    "Description",
                    "Notifications",
                    "Event",
                    "Target",
                    "State",
                    "Attempts",
                    "At",
                    "Result",
                    "Duration",
                    "When (UTC)",
                    "Action",
                    "Detail",
                    "Address",
                    "Check the filters: dates as YYYY-MM-DD, amounts as 100.00",
                    "Clear",
                    "UTC",
                    "Source",
                    "Destination",
                    "Cardholder",
                    "Your session has ended: sign in again",
                    "Created",
                    "The cabinet is unavailable for a moment: reload the page to try again",
                    "Your login has no right to do this: ask your partner's administrator",
                    "Statements",
                    "Show",
                    "Opening balance",
                    "Closing balance",
                    "Download CSV",
                    "Counter-account",
                    "Transfer",
                    "The day has more lines than one page: the next page"};
constexpr Texts kRu{"ru",
                    "Личный кабинет",
                    "Вход в личный кабинет",
                    "Логин",
                    "Пароль",
                    "Войти",
                    "Неверный логин или пароль",
                    "Слишком много неверных паролей: повторите через (секунд):",
                    "Слишком много входов одновременно, повторите через минуту",
                    "Форма устарела: повторите",
                    "Выйти",
                    "Обзор",
                    "Выплаты",
                    "Журнал действий",
                    "Балансы",
                    "Счёт",
                    "Код",
                    "Валюта",
                    "Баланс",
                    "Зарезервировано выплатами в обработке",
                    "Доступно",
                    "Выплаты по дням (UTC)",
                    "День",
                    "Успешно",
                    "Отклонено",
                    "В обработке",
                    "Статус",
                    "Любой",
                    "В обработке",
                    "Успешно",
                    "Создана с",
                    "Создана по",
                    "Сумма от",
                    "Сумма до",
                    "Идентификатор партнёра",
                    "Показать",
                    "Выгрузить CSV",
                    "Создана (UTC)",
                    "Тип",
                    "Сумма",
                    "Код отказа",
                    "Новые",
                    "Старше",
                    "Выплат нет",
                    "Выплата на кошелёк",
                    "Выплата на карту",
                    "Выплата не найдена",
                    "Ход выплаты",
                    "Последнее изменение",
                    "Решение платёжной системы",
                    "Карта",
                    "Система, страна",
                    "Платёжный канал",
                    "Каналы, переданные резервному",
                    "Референс в платёжной сети",
                    "Код авторизации (RRN)",
                    "Ответ сети",
                    "КНП",
                    "Отправитель и получатель",
                    "Описание",
                    "Уведомления",
                    "Событие",
                    "Адресат",
                    "Состояние",
                    "Попытки",
                    "Время",
                    "Результат",
                    "Длительность",
                    "Когда (UTC)",
                    "Действие",
                    "Подробности",
                    "Адрес",
                    "Проверьте фильтры: даты в виде ГГГГ-ММ-ДД, суммы в виде 100.00",
                    "Сбросить",
                    "UTC",
                    "Источник",
                    "Получатель",
                    "Держатель карты",
                    "Сессия завершена: войдите снова",
                    "Создана",
                    "Кабинет временно недоступен: обновите страницу, чтобы повторить",
                    "У вашей учётной записи нет прав на это действие: обратитесь к администратору",
                    "Выписки",
                    "Показать",
                    "Входящий остаток",
                    "Исходящий остаток",
                    "Скачать CSV",
                    "Корреспондирующий счёт",
                    "Проводка",
                    "За день больше строк, чем на одной странице: следующая страница"};

}  // namespace

const Texts& texts_of(std::string_view lang) { return lang == "ru" ? kRu : kEn; }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
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

// The current page in the other language: its query with lang replaced.
std::string lang_link(const View& v, std::string_view lang) {
  web::FormParams p = web::parse_form(v.query).value_or(web::FormParams{});
  std::erase_if(p, [](const auto& kv) { return kv.first == "lang"; });
  p.emplace_back("lang", std::string(lang));
  return v.path + "?" + query_of(p);
}

web::Node words(const Texts& t) {
  return {{"statements", t.statements},
          {"show", t.show},
          {"opening", t.opening},
          {"closing", t.closing},
          {"download_csv", t.download_csv},
          {"counter_account", t.counter_account},
          {"transfer", t.transfer},
          {"more_lines", t.more_lines},
          {"login_title", t.login_title},
          {"login", t.login},
          {"password", t.password},
          {"sign_in", t.sign_in},
          {"balances", t.balances},
          {"account", t.account},
          {"code", t.code},
          {"balance", t.balance},
          {"reserved", t.reserved},
          {"available", t.available},
          {"per_day", t.per_day},
          {"day", t.day},
          {"succeeded", t.succeeded},
          {"declined", t.declined},
          {"in_flight", t.in_flight},
          {"status", t.status},
          {"filter", t.filter},
          {"reset", t.reset},
          {"export_csv", t.export_csv},
          {"bad_filter", t.bad_filter},
          {"created", t.created},
          {"kind", t.kind},
          {"partner_id", t.partner_id},
          {"amount", t.amount},
          {"decline_code", t.decline_code},
          {"description", t.description},
          {"none", t.none},
          {"newer", t.newer},
          {"older", t.older},
          {"timeline", t.timeline},
          {"notifications", t.notifications},
          {"event", t.event},
          {"target", t.target},
          {"state", t.state},
          {"attempts", t.attempts},
          {"when", t.when},
          {"action", t.action},
          {"detail", t.detail},
          {"address", t.address}};
}

std::string layout(const View& v, std::string_view active, std::string_view title,
                   std::string_view content) {
  const Texts& t = *v.t;
  web::Node nav = web::Node::list();
  auto entry = [&](std::string_view path, std::string_view label) {
    nav.push({{"path", path}, {"label", label}, {"current", path == active}});
  };
  entry("/cabinet", t.overview);
  entry("/cabinet/payouts", t.payouts);
  entry("/cabinet/statements", t.statements);
  for (const NavEntry& e : v.nav) entry(e.path, e.label);
  entry("/cabinet/audit", t.audit);
  const bool ru = t.lang == "ru";
  return web::render("cabinet/layout",
                     {{"lang", t.lang},
                      {"head_title", std::string(title) + " · " + std::string(t.title)},
                      {"refresh", ""},
                      {"site", t.title},
                      {"nav", std::move(nav)},
                      {"login", v.session->login},
                      {"password_link", password_link_label(t.lang)},
                      {"tenant", v.session->tenant.key()},
                      {"lang_link", lang_link(v, ru ? "en" : "ru")},
                      {"other_lang", ru ? "EN" : "RU"},
                      {"csrf", v.session->csrf},
                      {"logout", t.logout},
                      {"title", title},
                      {"content", content}});
}

std::string plain(const Texts& t, std::string_view title, std::string_view content) {
  return web::render("cabinet/plain",
                     {{"lang", t.lang},
                      {"head_title", std::string(title) + " · " + std::string(t.title)},
                      {"refresh", ""},
                      {"content", content}});
}

std::string message_page(const Texts& t, std::string_view message) {
  return plain(t, message, web::render("cabinet/message", {{"message", message}}));
}

void answer_unavailable(View& v) { v.html(503, message_page(*v.t, v.t->unavailable)); }

}  // namespace payoutd::cabinet
