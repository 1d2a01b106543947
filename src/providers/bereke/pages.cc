#include "providers/bereke/pages.h"

#include "web/html.h"

#include <sodium.h>

#include <array>

#include "cards/card.h"
#include "core/money.h"
#include "http/query.h"

namespace payoutd::providers::bereke {

using engine::CardOrder;
using engine::CardPayoutResult;
using engine::Error;
using engine::OrderStage;
using store::PayoutStatus;

namespace {

constexpr std::string_view kBase = "/payouts/payment/";


struct Texts {
  std::string_view lang, title, amount, description, time_left, card_number, card_hint,
      cardholder, cardholder_hint, pay, invalid_card, invalid_holder, expired, not_found,
      processing, success, declined, back, redirect_note, unknown_bin, foreign_card,
      already_final, seconds_unit;
};

constexpr Texts kRu{
    "ru", "Получение выплаты", "Сумма", "Назначение", "Осталось времени", "Номер карты",
    "13–19 цифр, без пробелов или с ними", "Имя держателя карты", "Латиницей, как на карте",
    "Получить выплату", "Проверьте номер карты", "Укажите имя латиницей (до 26 символов)",
    "Время сессии истекло. Выплата не проведена.", "Заказ не найден",
    "Выплата обрабатывается…", "Выплата зачислена на карту", "Выплата отклонена",
    "Вернуться к партнёру", "Переход к партнёру через несколько секунд.",
    "Карта этого банка не поддерживается", "Выплаты возможны только на карты банков Казахстана",
    "Заказ уже обработан", "с"};
constexpr Texts kEn{
    "en", "Receive a payout", "Amount", "Purpose", "Time left", "Card number",
    "13 to 19 digits, spaces allowed", "Cardholder name", "In Latin letters, as on the card",
    "Receive the payout", "Check the card number", "Enter the name in Latin letters (up to 26)",
    "The session has expired. No money was sent.", "Order not found",
    "The payout is being processed…", "The payout was credited to the card",
    "The payout was declined", "Back to the partner", "You will be taken back in a few seconds.",
    "Cards of this bank are not supported", "Payouts go to cards of Kazakhstan banks only",
    "The order has already been processed", "s"};
constexpr Texts kKk{
    "kk", "Төлемді алу", "Сома", "Мақсаты", "Қалған уақыт", "Карта нөмірі",
    "13–19 сан, бос орынмен немесе онсыз", "Карта ұстаушының аты", "Картадағыдай латын әрпімен",
    "Төлемді алу", "Карта нөмірін тексеріңіз", "Атыңызды латын әрпімен жазыңыз (26 таңбаға дейін)",
    "Сессия уақыты бітті. Төлем жүргізілмеді.", "Тапсырыс табылмады",
    "Төлем өңделуде…", "Төлем картаға түсті", "Төлем қабылданбады",
    "Серіктеске оралу", "Бірнеше секундтан кейін серіктеске өтесіз.",
    "Бұл банктің карталары қолдау көрсетілмейді",
    "Төлемдер тек Қазақстан банктерінің карталарына жасалады", "Тапсырыс өңделіп қойған", "с"};

const Texts& texts(std::string_view lang) {
  if (lang == "en") return kEn;
  if (lang == "kk") return kKk;
  return kRu;
}





std::string head(const Texts& t, std::string_view refresh = {}) {
  std::string h = "<!doctype html><html lang=\"";
  h.append(t.lang).append("\"><head><meta charset=\"utf-8\">");
  h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  if (!refresh.empty()) {
    h.append("<meta http-equiv=\"refresh\" content=\"").append(web::escape(refresh)).append("\">");
  }
  h.append("<title>").append(t.title).append("</title>");
  h.append("<link rel=\"stylesheet\" href=\"").append(web::kStylesheetPath).append("\">");
  h.append("<script src=\"").append(web::kScriptPath).append("\" defer></script>");
  h.append("</head><body><main class=\"card\"><h1>").append(t.title).append("</h1>");
  return h;
}

constexpr std::string_view kFoot = "</main></body></html>";

std::string amount_text(const store::PayoutRecord& p) {
  std::string out;
  append_decimal(out, p.amount, p.currency.exponent());
  out.append(" ₸");
  return out;
}

std::string message_page(const Texts& t, std::string_view message, std::string_view kind) {
  std::string h = head(t);
  h.append("<p class=\"status ").append(kind).append("\" id=\"status\">");
  web::escape_into(h, message);
  h.append("</p>").append(kFoot);
  return h;
}

// The order of a page's mdOrder parameter, or an answer for a request without one.
std::optional<CardPayoutResult> find_order(engine::CardPayouts& cards, std::string_view query,
                                           std::string* tenant) {
  const http::QueryParam id = http::query_param(query, "mdOrder");
  if (!id.present || !id.valid || id.value.size() != 36) return std::nullopt;
  CardPayoutResult r = cards.get_by_order_id(id.value, providers::bereke::kTenantPrefix, tenant);
  if (r.error != Error::kNone) return std::nullopt;
  return r;
}

std::string finish_path(std::string_view lang, std::string_view order_id) {
  std::string path(kBase);
  path.append("finish_").append(lang).append(".html?mdOrder=").append(order_id);
  return path;
}

std::string form_page(const Texts& t, const CardPayoutResult& r, std::int64_t remaining_s,
                      std::string_view error, std::string_view holder) {
  const store::PayoutRecord& p = r.payout;
  const CardOrder& o = r.order;
  std::string h = head(t);
  h.append("<dl class=\"order\"><dt>").append(t.amount).append("</dt><dd id=\"amount\">");
  web::escape_into(h, amount_text(p));
  h.append("</dd>");
  if (!o.description.empty()) {
    h.append("<dt>").append(t.description).append("</dt><dd id=\"description\">");
    web::escape_into(h, o.description);
    h.append("</dd>");
  }
  h.append("<dt>").append(t.time_left).append("</dt><dd><span id=\"countdown\" data-remaining=\"");
  h.append(std::to_string(remaining_s)).append("\" data-unit=\"").append(t.seconds_unit);
  h.append("\">").append(std::to_string(remaining_s / 60)).append(":");
  const std::int64_t seconds = remaining_s % 60;
  if (seconds < 10) h.push_back('0');
  h.append(std::to_string(seconds)).append("</span></dd></dl>");
  h.append("<p class=\"status declined\" id=\"expired\" hidden>").append(t.expired).append("</p>");
  h.append("<form id=\"card-form\" method=\"post\" action=\"/payouts/payment/confirm\" novalidate ");
  h.append("autocomplete=\"off\">");
  h.append("<input type=\"hidden\" name=\"mdOrder\" value=\"").append(web::escape(o.order_id)).append("\">");
  h.append("<input type=\"hidden\" name=\"lang\" value=\"").append(t.lang).append("\">");
  if (!error.empty()) {
    h.append("<p class=\"status declined\" id=\"error\" role=\"alert\">");
    web::escape_into(h, error);
    h.append("</p>");
  }
  h.append("<label for=\"pan\">").append(t.card_number).append("</label>");
  h.append("<input id=\"pan\" name=\"pan\" inputmode=\"numeric\" autocomplete=\"cc-number\" ");
  h.append("maxlength=\"23\" required aria-describedby=\"pan-hint\" data-invalid=\"");
  h.append(t.invalid_card).append("\">");
  h.append("<small id=\"pan-hint\">").append(t.card_hint).append("</small>");
  h.append("<label for=\"cardholder\">").append(t.cardholder).append("</label>");
  h.append("<input id=\"cardholder\" name=\"cardholder\" autocomplete=\"cc-name\" maxlength=\"26\" ");
  h.append("value=\"").append(web::escape(holder)).append("\" aria-describedby=\"holder-hint\" data-invalid=\"");
  h.append(t.invalid_holder).append("\">");
  h.append("<small id=\"holder-hint\">").append(t.cardholder_hint).append("</small>");
  h.append("<button id=\"pay\" type=\"submit\">").append(t.pay).append("</button></form>");
  h.append(kFoot);
  return h;
}

// ASCII letters, spaces, dots, apostrophes and hyphens: what a card's embossed name holds.
bool valid_holder(std::string_view name) {
  if (name.size() > 26) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' ||
                    c == '\'' || c == '-';
    if (!ok) return false;
  }
  return true;
}




// "payment_en.html" -> "en"; empty when the name is not `<prefix>_<lang>.html`.
std::string language_of(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix) || !name.ends_with(".html")) return {};
  const std::string_view lang = name.substr(prefix.size(), name.size() - prefix.size() - 5);
  if (lang == "ru" || lang == "en" || lang == "kk") return std::string(lang);
  return {};
}

}  // namespace

Pages::Pages(engine::CardPayouts& cards, const providers::bereke::Dialect& dialect)
    : cards_(cards), dialect_(dialect) {}

bool Pages::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (!path.starts_with(kBase)) return false;
  if (request.problem != http::RequestProblem::kNone) {
    respond(web::page(400, message_page(kRu, "Bad request", "declined")));
    return true;
  }
  const std::string_view name = path.substr(kBase.size());
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (name == "confirm" && request.method == "POST") {
    confirm(request, respond);
    return true;
  }
  if (const std::string lang = language_of(name, "payment_"); !lang.empty() && get) {
    form(request, respond, lang);
    return true;
  }
  if (const std::string lang = language_of(name, "finish_"); !lang.empty() && get) {
    finish(request, respond, lang);
    return true;
  }
  respond(web::page(404, message_page(kRu, kRu.not_found, "declined")));
  return true;
}

void Pages::form(const http::Request& request, const http::Responder& respond,
                       std::string_view lang) {
  const Texts& t = texts(lang);
  std::string tenant;
  auto order = find_order(cards_, request.query(), &tenant);
  if (!order) return respond(web::page(404, message_page(t, t.not_found, "declined")));
  const store::PayoutRecord& p = order->payout;
  const CardOrder& o = order->order;
  if (p.status != PayoutStatus::kProcessing || o.stage != OrderStage::kRegistered) {
    // Confirmed (or expired) already: its status is on the finish page.
    return cards_.engine().after_durable(
        [respond, r = web::redirect(finish_path(lang, o.order_id))]() mutable { respond(std::move(r)); });
  }
  const std::int64_t left_ms = o.expires_ms - SystemClock().now_ms();
  std::string body = left_ms <= 0 ? message_page(t, t.expired, "declined")
                                  : form_page(t, *order, (left_ms + 999) / 1000, {}, o.name);
  cards_.engine().after_durable([respond, body = std::move(body)]() mutable {
    respond(web::page(200, std::move(body)));
  });
}

void Pages::confirm(const http::Request& request, const http::Responder& respond) {
  const std::string_view form = request.body;
  const std::string lang = providers::bereke::page_language(http::query_param(form, "lang").value);
  const Texts& t = texts(lang);
  std::string tenant;
  auto order = find_order(cards_, form, &tenant);
  if (!order) return respond(web::page(404, message_page(t, t.not_found, "declined")));
  const http::QueryParam pan_param = http::query_param(form, "pan");
  const http::QueryParam holder_param = http::query_param(form, "cardholder");
  std::string pan;
  for (char c : pan_param.value) {
    if (c != ' ' && c != '-') pan.push_back(c);
  }
  const std::string holder = holder_param.valid ? holder_param.value : std::string();
  const std::int64_t left_ms = order->order.expires_ms - SystemClock().now_ms();
  auto again = [&](std::string_view problem) {
    sodium_memzero(pan.data(), pan.size());
    respond(web::page(422, form_page(t, *order, std::max<std::int64_t>((left_ms + 999) / 1000, 0),
                                problem, holder)));
  };
  if (order->order.stage != OrderStage::kRegistered ||
      order->payout.status != PayoutStatus::kProcessing) {
    return respond(web::redirect(finish_path(lang, order->order.order_id)));
  }
  if (!pan_param.valid || pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax ||
      !cards::luhn_valid(pan)) {
    return again(t.invalid_card);
  }
  if (!valid_holder(holder)) return again(t.invalid_holder);
  auto issuer = cards_.bins().find(pan);
  if (!issuer) return again(t.unknown_bin);
  const auto* partner = dialect_.partner_of_tenant(tenant);
  bool allowed = false;
  if (partner) {
    for (const std::string& c : partner->card_countries) allowed |= c == issuer->country;
  }
  if (!allowed) return again(t.foreign_card);
  std::string upper_holder;
  for (char c : holder) upper_holder.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  const std::string order_id = order->order.order_id;
  cards_.confirm(tenant, order->payout.partner_id, {std::move(pan), *issuer, upper_holder},
                 [respond, lang, order_id](CardPayoutResult r) {
                   if (r.error == Error::kUnavailable) {
                     return respond(web::page(503, message_page(texts(lang), "Service unavailable, retry", "declined")));
                   }
                   respond(web::redirect(finish_path(lang, order_id)));
                 });
}

void Pages::finish(const http::Request& request, const http::Responder& respond,
                         std::string_view lang) {
  const Texts& t = texts(lang);
  std::string tenant;
  auto order = find_order(cards_, request.query(), &tenant);
  if (!order) return respond(web::page(404, message_page(t, t.not_found, "declined")));
  const store::PayoutRecord& p = order->payout;
  const CardOrder& o = order->order;
  std::string body;
  if (p.status == PayoutStatus::kProcessing && o.stage == OrderStage::kRegistered) {
    // Not confirmed yet: back to the card page.
    std::string location(kBase);
    location.append("payment_").append(lang).append(".html?mdOrder=").append(o.order_id);
    return respond(web::redirect(std::move(location)));
  }
  if (p.status == PayoutStatus::kProcessing) {
    body = head(t, "2");
    body.append("<p class=\"status\" id=\"status\" data-status=\"processing\">")
        .append(t.processing)
        .append("</p>");
  } else {
    const bool ok = p.status == PayoutStatus::kSuccess;
    const std::string& target = ok || o.fail_url.empty() ? o.return_url : o.fail_url;
    body = head(t, target.empty() ? std::string() : "5;url=" + target);
    body.append("<p class=\"status ").append(ok ? "success" : "declined");
    body.append("\" id=\"status\" data-status=\"").append(ok ? "success" : "declined").append("\">");
    if (ok) {
      body.append(t.success);
    } else {
      body.append(p.decline_code == engine::kDeclineExpired ? t.expired : t.declined);
    }
    body.append("</p><dl class=\"order\"><dt>").append(t.amount).append("</dt><dd id=\"amount\">");
    web::escape_into(body, amount_text(p));
    body.append("</dd>");
    if (!o.masked_pan.empty()) {
      body.append("<dt>").append(t.card_number).append("</dt><dd id=\"masked-pan\">");
      web::escape_into(body, o.masked_pan);
      body.append("</dd>");
    }
    body.append("</dl>");
    if (!target.empty()) {
      body.append("<a class=\"back\" id=\"back\" href=\"").append(web::escape(target)).append("\">");
      body.append(t.back).append("</a><p><small>").append(t.redirect_note).append("</small></p>");
    }
  }
  body.append(kFoot);
  cards_.engine().after_durable([respond, body = std::move(body)]() mutable {
    respond(web::page(200, std::move(body)));
  });
}

}  // namespace payoutd::providers::bereke
