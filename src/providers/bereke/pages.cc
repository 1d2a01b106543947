#include "providers/bereke/pages.h"

#include "web/html.h"
#include "web/language.h"
#include "web/template.h"

#include <sodium.h>

#include <array>

#include "cards/card.h"
#include "core/money.h"
#include "http/query.h"
#include "providers/bereke/api_request.h"

namespace payoutd::providers::bereke {

using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;
using engine::OrderStage;
using store::PayoutStatus;

namespace {

constexpr std::string_view kBase = "/payouts/payment/";

struct Texts {
  std::string_view lang, title, amount, description, time_left, card_number, card_hint, cardholder,
      cardholder_hint, pay, invalid_card, invalid_holder, expired, not_found, processing, success,
      declined, back, redirect_note, unknown_bin, foreign_card, already_final, seconds_unit,
      saved_cards, new_card, unknown_saved, suspended;
};

constexpr Texts kRu{"ru",
                    "Получение выплаты",
                    "Сумма",
                    "Назначение",
                    "Осталось времени",
                    "Номер карты",
                    "13–19 цифр, без пробелов или с ними",
                    "Имя держателя карты",
                    "Латиницей, как на карте",
                    "Получить выплату",
                    "Проверьте номер карты",
                    "Укажите имя латиницей (до 26 символов)",
                    "Время сессии истекло. Выплата не проведена.",
                    "Заказ не найден",
                    "Выплата обрабатывается…",
                    "Выплата зачислена на карту",
                    "Выплата отклонена",
                    "Вернуться к партнёру",
                    "Переход к партнёру через несколько секунд.",
                    "Карта этого банка не поддерживается",
                    "Выплаты возможны только на карты банков Казахстана",
                    "Заказ уже обработан",
                    "с",
                    "Сохранённые карты",
                    "Новая карта",
                    "Выберите одну из своих сохранённых карт",
                    "Выплаты партнёра приостановлены. Деньги не отправлены."};
constexpr Texts kEn{"en",
                    "Receive a payout",
                    "Amount",
                    "Purpose",
                    "Time left",
                    "Card number",
                    "13 to 19 digits, spaces allowed",
                    "Cardholder name",
                    "In Latin letters, as on the card",
                    "Receive the payout",
                    "Check the card number",
                    "Enter the name in Latin letters (up to 26)",
                    "The session has expired. No money was sent.",
                    "Order not found",
                    "The payout is being processed…",
                    "The payout was credited to the card",
                    "The payout was declined",
                    "Back to the partner",
                    "You will be taken back in a few seconds.",
                    "Cards of this bank are not supported",
                    "Payouts go to cards of Kazakhstan banks only",
                    "The order has already been processed",
                    "s",
                    "Saved cards",
                    "New card",
                    "Choose one of your saved cards",
                    "The partner's payouts are suspended. No money was sent."};
constexpr Texts kKk{"kk",
                    "Төлемді алу",
                    "Сома",
                    "Мақсаты",
                    "Қалған уақыт",
                    "Карта нөмірі",
                    "13–19 сан, бос орынмен немесе онсыз",
                    "Карта ұстаушының аты",
                    "Картадағыдай латын әрпімен",
                    "Төлемді алу",
                    "Карта нөмірін тексеріңіз",
                    "Атыңызды латын әрпімен жазыңыз (26 таңбаға дейін)",
                    "Сессия уақыты бітті. Төлем жүргізілмеді.",
                    "Тапсырыс табылмады",
                    "Төлем өңделуде…",
                    "Төлем картаға түсті",
                    "Төлем қабылданбады",
                    "Серіктеске оралу",
                    "Бірнеше секундтан кейін серіктеске өтесіз.",
                    "Бұл банктің карталары қолдау көрсетілмейді",
                    "Төлемдер тек Қазақстан банктерінің карталарына жасалады",
                    "Тапсырыс өңделіп қойған",
                    "с",
                    "Сақталған карталар",
                    "Жаңа карта",
                    "Сақталған карталарыңыздың бірін таңдаңыз",
                    "Серіктестің төлемдері тоқтатылды. Ақша жіберілмеді."};

const Texts& texts(std::string_view lang) {
  if (lang == "en") return kEn;
  if (lang == "kk") return kKk;
  return kRu;
}

// The texts the templates show, as their {{t.…}}.
web::Node words(const Texts& t) {
  return {{"lang", t.lang},
          {"amount", t.amount},
          {"description", t.description},
          {"time_left", t.time_left},
          {"card_number", t.card_number},
          {"card_hint", t.card_hint},
          {"cardholder", t.cardholder},
          {"cardholder_hint", t.cardholder_hint},
          {"pay", t.pay},
          {"invalid_card", t.invalid_card},
          {"invalid_holder", t.invalid_holder},
          {"expired", t.expired},
          {"back", t.back},
          {"redirect_note", t.redirect_note},
          {"seconds_unit", t.seconds_unit},
          {"saved_cards", t.saved_cards},
          {"new_card", t.new_card}};
}

std::string amount_text(const store::PayoutRecord& p) {
  std::string out;
  append_decimal(out, p.amount, p.currency.exponent());
  out.append(" ₸");
  return out;
}

std::string message_page(const Texts& t, std::string_view message, std::string_view kind) {
  return web::status_page(t.lang, t.title, message, kind);
}

// The order of a page's mdOrder parameter: kNotFound for a request without one, kUnavailable
// when the store could not be read.
CardPayoutResult find_order(engine::CardPayouts& cards, std::string_view query, Tenant* tenant) {
  const http::QueryParam id = http::query_param(query, "mdOrder");
  if (!id.present || !id.valid || id.value.size() != 36) return {Error::kNotFound, "no mdOrder"};
  return cards.get_by_order_id(id.value, providers::bereke::kProvider, tenant);
}

// The page's temporary failure: nothing happened, the customer may retry.
http::Response unavailable_page(const Texts& t) {
  return web::page(503, message_page(t, "Service unavailable, retry", "declined"));
}

// The answer for an order find_order did not find.
http::Response no_order_page(const Texts& t, Error error) {
  if (error == Error::kUnavailable) return unavailable_page(t);
  return web::page(404, message_page(t, t.not_found, "declined"));
}

// "/payouts/payment/<page>_<lang>.html?mdOrder=<id>", `page` "payment" or "finish".
std::string page_path(std::string_view page, std::string_view lang, std::string_view order_id) {
  std::string path(kBase);
  path.append(page).append("_").append(lang).append(".html?mdOrder=").append(order_id);
  return path;
}

std::string finish_path(std::string_view lang, std::string_view order_id) {
  return page_path("finish", lang, order_id);
}

using SavedCards = std::vector<engine::CardPayouts::SavedCard>;

// What the card form posted besides the number, shown again when the server refuses it.
struct Entry {
  std::string holder;   // the cardholder's name as typed
  std::string binding;  // the saved card chosen; empty: a new card
};

// The card form of a registered order: the client's saved cards to choose from (the one the
// entry chose checked, else "new card"), the number and the name, and why the last try was
// refused (`error`, empty: none).
std::string form_page(const Texts& t, const CardPayoutResult& r, const SavedCards& saved,
                      const Entry& entry, std::string_view error) {
  const std::int64_t left_ms = r.order.expires_ms - SystemClock().now_ms();
  const std::int64_t remaining_s = std::max<std::int64_t>((left_ms + 999) / 1000, 0);
  web::Node cards = web::Node::list();
  bool chosen = false;
  for (const auto& c : saved) {
    const bool checked = c.binding_id == entry.binding;
    chosen |= checked;
    cards.push({{"binding_id", c.binding_id}, {"masked_pan", c.masked_pan}, {"checked", checked}});
  }
  web::Node data{{"t", words(t)},
                 {"amount", amount_text(r.payout)},
                 {"description", r.order.description},
                 {"remaining_s", remaining_s},
                 {"countdown", web::countdown_text(remaining_s)},
                 {"order_id", r.order.order_id},
                 {"error", error},
                 {"holder", entry.holder}};
  data.set("has_saved", !saved.empty()).set("saved", std::move(cards)).set("new_checked", !chosen);
  return web::card_page(t.lang, t.title, web::render("providers/bereke/form", data));
}

// The finish page of a confirmed order: in flight (it refreshes itself), or final with the way
// back to the partner's page (which it also opens by itself after a few seconds).
std::string finish_page(const Texts& t, const CardPayoutResult& r) {
  const store::PayoutRecord& p = r.payout;
  const CardOrder& o = r.order;
  const bool ok = p.status == PayoutStatus::kSuccess;
  const bool decided = p.status != PayoutStatus::kProcessing;
  const std::string target = !decided                   ? std::string()
                             : ok || o.fail_url.empty() ? o.return_url
                                                        : o.fail_url;
  const std::string_view kind = !decided ? "" : ok ? "success" : "declined";
  std::string_view message = t.processing;
  if (decided)
    message = ok ? t.success : p.decline_code == engine::kDeclineExpired ? t.expired : t.declined;
  const std::string content =
      web::render("providers/bereke/finish", {{"t", words(t)},
                                              {"kind", kind},
                                              {"status", decided ? kind : "processing"},
                                              {"message", message},
                                              {"final", decided},
                                              {"amount", amount_text(p)},
                                              {"masked_pan", o.masked_pan},
                                              {"target", target}});
  const std::string refresh = !decided ? "2" : target.empty() ? std::string() : "5;url=" + target;
  return web::card_page(t.lang, t.title, content, refresh);
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

std::string upper_latin(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  return upper;
}

// Why the page refuses a new card (empty: it does not): its digits and check digit, the
// cardholder's name, its issuer in the BIN table (then *issuer), a country of the partner's.
std::string_view new_card_problem(const Texts& t, bool well_formed, const std::string& pan,
                                  std::string_view holder, const cards::BinTable& bins,
                                  const PartnerSettings* partner, cards::Issuer* issuer) {
  if (!well_formed || pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax ||
      !cards::luhn_valid(pan)) {
    return t.invalid_card;
  }
  if (!valid_holder(holder)) return t.invalid_holder;
  auto found = bins.find(pan);
  if (!found) return t.unknown_bin;
  bool allowed = false;
  if (partner) {
    for (const std::string& c : partner->card_countries) allowed |= c == found->country;
  }
  if (!allowed) return t.foreign_card;
  *issuer = std::move(*found);
  return {};
}

// A card form posted with one of the client's saved cards, and the order it is for.
struct SavedChoice {
  std::string lang;
  CardPayoutResult order;
  SavedCards saved;  // what the page offers: shown again when the choice is refused
  Entry entry;
};

// Pays the order with the saved card chosen. The engine checks, in the batch that reserves,
// that the binding is a saved card of the order's client: the page's list is what it showed,
// never what it trusts. A forged binding gets the page again with the reason; nothing moves.
void pay_saved(engine::CardPayouts& cards, const Tenant& tenant, SavedChoice choice,
               const http::Responder& respond) {
  std::string partner_id = choice.order.payout.partner_id;
  std::string binding = choice.entry.binding;
  std::string holder = upper_latin(choice.entry.holder);
  cards.confirm_saved(
      tenant, std::move(partner_id), std::move(binding), std::move(holder),
      [respond, c = std::move(choice)](const CardPayoutResult& r) {
        const Texts& t = texts(c.lang);
        if (r.error == Error::kUnavailable) return respond(unavailable_page(t));
        if (r.error == Error::kUnknownCard) {
          return respond(web::page(422, form_page(t, c.order, c.saved, c.entry, t.unknown_saved)));
        }
        respond(web::redirect(finish_path(c.lang, c.order.order.order_id)));
      });
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

void Pages::form(const http::Request& request, const http::Responder& reply,
                 std::string_view lang) {
  Tenant tenant;
  auto order = find_order(cards_, request.query(), &tenant);
  if (order.error != Error::kNone) return reply(no_order_page(texts(lang), order.error));
  const store::PayoutRecord& p = order.payout;
  const CardOrder& o = order.order;
  http::Responder respond = reply;
  std::string elsewhere;  // the page the recipient is sent to instead, if any
  if (o.language.empty() && lang == kPageLanguages.front()) {
    // Registered without a language: formUrl names the default page, and the recipient's browser
    // chooses. Another language is its own page, so that every later page (the form's POST, the
    // finish page) stays in the one the recipient saw.
    respond = web::varying_by_language(std::move(respond));
    const std::string_view wanted =
        web::negotiate_language(request.accept_language, kPageLanguages);
    if (wanted != lang) elsewhere = page_path("payment", wanted, o.order_id);
  }
  // Confirmed (or expired) already: its status is on the finish page.
  if (elsewhere.empty() &&
      (p.status != PayoutStatus::kProcessing || o.stage != OrderStage::kRegistered))
    elsewhere = finish_path(lang, o.order_id);
  const Texts& t = texts(lang);
  if (!elsewhere.empty()) {
    return cards_.engine().answer_when_durable(respond, web::redirect(std::move(elsewhere)),
                                               [&t] { return unavailable_page(t); });
  }
  if (o.expires_ms <= SystemClock().now_ms()) {
    return cards_.engine().answer_when_durable(
        respond, web::page(200, message_page(t, t.expired, "declined")),
        [&t] { return unavailable_page(t); });
  }
  // The client's saved cards: the order's own client's, of this partner (the tenant's records).
  const auto saved = cards_.saved_cards(tenant, o.client_id);
  if (!saved.ok()) return respond(unavailable_page(t));
  cards_.engine().answer_when_durable(respond,
                                      web::page(200, form_page(t, order, *saved, {o.name, {}}, {})),
                                      [&t] { return unavailable_page(t); });
}

void Pages::confirm(const http::Request& request, const http::Responder& respond) {
  const std::string_view form = request.body;
  const std::string lang = providers::bereke::page_language(http::query_param(form, "lang").value);
  const Texts& t = texts(lang);
  Tenant tenant;
  auto order = find_order(cards_, form, &tenant);
  if (order.error != Error::kNone) return respond(no_order_page(t, order.error));
  if (order.order.stage != OrderStage::kRegistered ||
      order.payout.status != PayoutStatus::kProcessing) {
    return respond(web::redirect(finish_path(lang, order.order.order_id)));
  }
  // A suspended partner's order waits: paid once the partner is resumed, if it has not expired.
  const PartnerView partner = dialect_.partner_of_tenant(tenant);
  if (partner.suspended()) return respond(web::page(403, message_page(t, t.suspended, "declined")));
  const http::QueryParam holder_param = http::query_param(form, "cardholder");
  const http::QueryParam binding_param = http::query_param(form, "bindingId");
  Entry entry{holder_param.valid ? holder_param.value : std::string(),
              binding_param.valid ? binding_param.value : std::string()};
  auto saved = cards_.saved_cards(tenant, order.order.client_id);
  if (!saved.ok()) return respond(unavailable_page(t));
  auto again = [&](std::string_view problem) {
    respond(web::page(422, form_page(t, order, *saved, entry, problem)));
  };
  if (!binding_param.valid) return again(t.unknown_saved);
  if (!entry.binding.empty()) {
    if (!api::is_binding_id(entry.binding)) return again(t.unknown_saved);
    if (!valid_holder(entry.holder)) return again(t.invalid_holder);
    return pay_saved(cards_, tenant, {lang, std::move(order), std::move(*saved), std::move(entry)},
                     respond);
  }
  const http::QueryParam pan_param = http::query_param(form, "pan");
  std::string pan;
  for (char c : pan_param.value) {
    if (c != ' ' && c != '-') pan.push_back(c);
  }
  cards::Issuer issuer;
  const std::string_view problem = new_card_problem(t, pan_param.valid, pan, entry.holder,
                                                    cards_.bins(), partner.settings, &issuer);
  if (!problem.empty()) {
    sodium_memzero(pan.data(), pan.size());
    return again(problem);
  }
  cards_.confirm(tenant, order.payout.partner_id,
                 {std::move(pan), std::move(issuer), upper_latin(entry.holder)},
                 [respond, lang, order_id = order.order.order_id](const CardPayoutResult& r) {
                   if (r.error == Error::kUnavailable)
                     return respond(unavailable_page(texts(lang)));
                   respond(web::redirect(finish_path(lang, order_id)));
                 });
}

void Pages::finish(const http::Request& request, const http::Responder& respond,
                   std::string_view lang) {
  const Texts& t = texts(lang);
  Tenant tenant;
  auto order = find_order(cards_, request.query(), &tenant);
  if (order.error != Error::kNone) return respond(no_order_page(t, order.error));
  const store::PayoutRecord& p = order.payout;
  const CardOrder& o = order.order;
  if (p.status == PayoutStatus::kProcessing && o.stage == OrderStage::kRegistered) {
    // Not confirmed yet: back to the card page.
    return respond(web::redirect(page_path("payment", lang, o.order_id)));
  }
  cards_.engine().answer_when_durable(respond, web::page(200, finish_page(t, order)),
                                      [&t] { return unavailable_page(t); });
}

}  // namespace payoutd::providers::bereke
