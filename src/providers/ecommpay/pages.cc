#include "providers/ecommpay/pages.h"

#include <sodium.h>

#include "cards/card.h"
#include "core/money.h"
#include "providers/ecommpay/page_texts.h"
#include "providers/ecommpay/program.h"
#include "providers/ecommpay/signature.h"
#include "providers/ecommpay/widget.h"
#include "web/forms.h"
#include "web/html.h"
#include "web/language.h"
#include "web/template.h"

namespace payoutd::providers::ecommpay {

using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;
using engine::OrderStage;
using store::PayoutStatus;

namespace {

using page::texts;
using page::Texts;
using page::words;

// The language of a page opened by GET: `code` (the link's language_code, or the lang the pages
// carry on to the result page) when the page has it; else the one the browser's Accept-Language
// prefers, and `respond` then tells caches that the answer varies with that header.
std::string_view page_language(std::string_view code, const http::Request& request,
                               http::Responder& respond) {
  if (const std::string_view chosen = web::offered_language(page::kLanguages, code);
      !chosen.empty())
    return chosen;
  respond = web::varying_by_language(std::move(respond));
  return web::negotiate_language(request.accept_language, page::kLanguages);
}

std::string message(const Texts& t, std::string_view text, std::string_view kind) {
  return web::status_page(t.lang, t.title, text, kind);
}

// The page's temporary failure (overloaded, or the store could not be read or written): nothing
// happened, the customer may retry.
http::Response unavailable_page(const Texts& t) {
  return web::page(503, message(t, "Service unavailable, retry", "declined"));
}

std::string amount_text(const store::PayoutRecord& p) {
  std::string out;
  append_decimal(out, p.amount, p.currency.exponent());
  out.append(" ").append(p.currency.code());
  return out;
}

// What every page's template shows: the order (amount, the description it keeps, the masked
// card when `with_card`), the countdown to the session's end unless remaining_s < 0, and what
// every form posts (the order, the language, the signed link that opened the page: a post
// without it is refused) with the error it was sent back with.
web::Node page_data(const Texts& t, const CardPayoutResult& r, std::int64_t remaining_s,
                    bool with_card, std::string_view link, std::string_view error) {
  return {{"t", words(t)},
          {"amount", amount_text(r.payout)},
          {"description", r.order.description},
          {"masked_pan", with_card ? std::string_view(r.order.masked_pan) : std::string_view()},
          {"remaining_s", remaining_s},
          {"countdown", remaining_s >= 0 ? web::countdown_text(remaining_s) : std::string()},
          {"uuid", r.order.order_id},
          {"link", link},
          {"error", error}};
}

std::int64_t seconds_left(const CardOrder& o) {
  return std::max<std::int64_t>((o.expires_ms - SystemClock().now_ms() + 999) / 1000, 0);
}

// `link`: the signed query that opened the page, sent back with the card (its sender_* and
// recipient_* parameters are the payout's parties).
std::string card_form(const Texts& t, const CardPayoutResult& r, std::int64_t remaining_s,
                      std::string_view error,
                      const std::vector<engine::CardPayouts::SavedCard>& saved,
                      std::string_view preselected, std::string_view link) {
  web::Node data = page_data(t, r, remaining_s, false, link, error);
  web::Node cards = web::Node::list();
  bool chosen = false;
  for (const auto& c : saved) {
    chosen |= c.binding_id == preselected;
    cards.push({{"binding_id", c.binding_id},
                {"masked_pan", c.masked_pan},
                {"checked", c.binding_id == preselected}});
  }
  data.set("has_saved", !saved.empty()).set("saved", std::move(cards)).set("new_checked", !chosen);
  return web::card_page(t.lang, t.title, web::render("providers/ecommpay/card", data));
}

// "p.jeltz@mail.com" -> "p.j***@mail.com"
std::string masked_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos) return "***";
  std::string out(email.substr(0, std::min<std::size_t>(3, at)));
  out.append("***").append(email.substr(at));
  return out;
}

std::string code_form(const Texts& t, const CardPayoutResult& r, std::string_view link,
                      std::string_view error) {
  web::Node data = page_data(t, r, seconds_left(r.order), true, link, error);
  data.set("email", masked_email(r.order.email));
  return web::card_page(t.lang, t.title, web::render("providers/ecommpay/code", data));
}

// The extra page of a program that needs the recipient's location (a Visa card issued in
// Canada), prefilled with what the link gave.
std::string location_form(const Texts& t, const CardPayoutResult& r,
                          const providers::ecommpay::Party& l, std::string_view link,
                          std::string_view error) {
  web::Node data = page_data(t, r, seconds_left(r.order), true, link, error);
  data.set("country", l.country)
      .set("state", l.state)
      .set("city", l.city)
      .set("address", l.address);
  return web::card_page(t.lang, t.title, web::render("providers/ecommpay/recipient", data));
}

// The result page: the status line (`message`, of class `kind`, data-status `status`) above the
// order as the other pages show it; it reloads itself after `refresh` when that is not empty. An
// order still open on the form (the recipient has not confirmed it) shows the countdown to the
// session's end, as the form's other pages do (`remaining_s`; negative: none).
std::string result_page(const Texts& t, const CardPayoutResult& r, std::string_view message,
                        std::string_view kind, std::string_view status,
                        std::string_view refresh = {}, std::int64_t remaining_s = -1) {
  web::Node data = page_data(t, r, remaining_s, true, {}, {});
  data.set("message", message).set("kind", kind).set("status", status);
  return web::card_page(t.lang, t.title, web::render("providers/ecommpay/result", data), refresh);
}

// payment_description: ecommpay documents no bound, so the page takes as many characters as each
// sender_* and recipient_* parameter may hold, and no control characters.
constexpr std::size_t kDescriptionCharsMax = 255;

bool valid_description(std::string_view description) {
  std::size_t chars = 0;
  for (unsigned char c : description) {
    if (c < 0x20 || c == 0x7f) return false;
    chars += (c & 0xC0) != 0x80;  // UTF-8: every byte but a continuation byte starts a character
  }
  return chars <= kDescriptionCharsMax;
}

std::string result_path(std::string_view uuid, std::string_view lang) {
  std::string p = "/payment/result?uuid=";
  p.append(uuid).append("&lang=").append(lang);
  return p;
}

}  // namespace

// A form posted by the page: its fields, its order, the signed link that opened the page and the
// parties the link gives, or the page that refuses it.
struct Pages::Posted {
  Params form;
  std::string lang;
  Tenant tenant;
  std::string link;
  CardPayoutResult order;
  providers::ecommpay::ProjectView project;
  providers::ecommpay::Parties parties;
  std::optional<http::Response> refusal;
};

// Every form of the page posts back the signed link that opened it: a post is accepted only with
// a link its project signed, for this very order (the uuid alone, which callbacks and the result
// page show, opens nothing).
Pages::Posted Pages::posted(const http::Request& request) const {
  Posted in;
  auto form = web::parse_form(request.body);
  // The language the page that sent the form was shown in (the form carries it): the next page
  // stays in it, whatever the browser's Accept-Language says.
  const std::string_view lang =
      form ? web::offered_language(page::kLanguages, web::form_value(*form, "lang"))
           : std::string_view();
  in.lang = lang.empty() ? page::kLanguages.front() : lang;
  const Texts& t = texts(in.lang);
  auto refuse = [&](int status, std::string_view why) {
    in.refusal = web::page(status, message(t, why, "declined"));
    return std::move(in);
  };
  if (!form) return refuse(400, t.bad_link);
  in.form = std::move(*form);
  in.link = web::form_value(in.form, "link");
  auto link = web::parse_form(in.link);
  // What the link is checked for here is what a post relies on: its project's signature, payout
  // mode and this order (and no time limit, as when it opened the page). The registration's
  // amount and customer, which the page shows, come from the order, not from the link.
  if (link && web::form_value(*link, "best_before").empty()) {
    in.project = link_project(*link, providers::ecommpay::KeyUse::kUncounted);
  }
  const std::string uuid = web::form_value(in.form, "uuid");
  auto parties = in.project ? providers::ecommpay::parties_from(*link, nullptr) : std::nullopt;
  if (!parties || uuid.empty() || web::form_value(*link, "uuid") != uuid)
    return refuse(403, t.bad_link);
  // A suspended project's orders wait: paid once it is resumed, until their uuid expires.
  if (in.project.suspended()) return refuse(403, t.suspended);
  in.parties = std::move(*parties);
  in.order = cards_.get_by_order_id(uuid, providers::ecommpay::kProvider, &in.tenant);
  if (in.order.error == Error::kUnavailable) {
    in.refusal = unavailable_page(t);
    return in;
  }
  if (in.order.error != Error::kNone ||
      in.tenant != providers::ecommpay::tenant_of(in.project.id)) {
    return refuse(404, t.not_found);
  }
  return in;
}

Pages::Pages(engine::CardPayouts& cards, const providers::ecommpay::Dialect& dialect)
    : cards_(cards), dialect_(dialect) {}

bool Pages::handle(http::Request& request, const http::Responder& plain) {
  const std::string_view path = request.path();
  if (path != "/payment" && !path.starts_with("/payment/")) return false;
  if (request.problem != http::RequestProblem::kNone) {
    const bool large = request.problem == http::RequestProblem::kBodyTooLarge;
    plain(web::page(large ? 413 : 400, message(texts("en"), texts("en").bad_link, "declined")));
    return true;
  }
  const http::Responder respond = framing(request, plain);
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/payment" && (get || request.method == "POST")) return open(request, respond), true;
  if (path == "/payment/card" && request.method == "POST") return card(request, respond), true;
  if (path == "/payment/code" && request.method == "POST") return code(request, respond), true;
  if (path == "/payment/recipient" && request.method == "POST")
    return recipient(request, respond), true;
  if (path == "/payment/result" && get) return result(request, respond), true;
  respond(web::page(404, message(texts("en"), texts("en").not_found, "declined")));
  return true;
}

void Pages::open(const http::Request& request, const http::Responder& reply) {
  const Opening opening = opening_of(request);  // a link's query or a form's body
  auto params = opening.refusal ? std::nullopt : web::parse_form(opening.link);
  http::Responder respond = reply;
  const std::string_view lang = page_language(
      params ? web::form_value(*params, "language_code") : std::string(), request, respond);
  const Texts& t = texts(lang);
  auto refuse = [&](int status, std::string_view why) {
    respond(web::page(status, message(t, why, "declined")));
  };
  if (!params) return refuse(opening.refusal ? opening.refusal : 400, t.bad_link);
  if (!web::form_value(*params, "best_before").empty()) return refuse(400, t.time_limit);
  const providers::ecommpay::ProjectView project =
      link_project(*params, providers::ecommpay::KeyUse::kCounted);
  if (!project) return refuse(403, t.bad_link);
  if (project.suspended()) return refuse(403, t.suspended);
  Tenant tenant;
  CardPayoutResult r = cards_.get_by_order_id(web::form_value(*params, "uuid"),
                                              providers::ecommpay::kProvider, &tenant);
  if (r.error == Error::kUnavailable) return respond(unavailable_page(t));
  if (r.error != Error::kNone || tenant != providers::ecommpay::tenant_of(project.id)) {
    return refuse(404, t.bad_link);
  }
  const bool same = r.payout.partner_id == web::form_value(*params, "payment_id") &&
                    r.order.client_id == web::form_value(*params, "customer_id") &&
                    r.order.email == web::form_value(*params, "customer_email") &&
                    std::to_string(r.payout.amount) == web::form_value(*params, "payment_amount") &&
                    r.payout.currency.code() == web::form_value(*params, "payment_currency");
  std::string description = web::form_value(*params, "payment_description");
  if (!same || !providers::ecommpay::parties_from(*params, nullptr) ||
      !valid_description(description)) {
    return refuse(400, t.bad_link);
  }
  if (r.payout.status != PayoutStatus::kProcessing || r.order.stage != OrderStage::kRegistered) {
    return respond(web::redirect(result_path(r.order.order_id, lang)));
  }
  if (r.order.expires_ms <= SystemClock().now_ms()) return refuse(410, t.expired);
  auto saved = cards_.saved_cards(tenant, r.order.client_id);
  if (!saved.ok()) return respond(unavailable_page(t));
  auto show = [respond, lang, saved = std::move(*saved),
               token = web::form_value(*params, "account_token"),
               link = std::string(opening.link)](const CardPayoutResult& res) {
    const Texts& tx = texts(lang);
    if (res.error == Error::kUnavailable) return respond(unavailable_page(tx));
    if (res.error != Error::kNone || res.order.stage != OrderStage::kRegistered ||
        res.payout.status != PayoutStatus::kProcessing) {
      return respond(web::redirect(result_path(res.order.order_id, lang)));
    }
    respond(web::page(200, card_form(tx, res, seconds_left(res.order), {}, saved, token, link)));
  };
  // The link's description is the payout's from now on (the result page, the callbacks and the
  // cabinet show it): kept with the order before the page shows it. A link without one, or with
  // the one kept, changes nothing.
  if (description.empty() || description == r.order.description) {
    return cards_.engine().after_durable([show, r]() { show(r); },
                                         [respond, &t]() { respond(unavailable_page(t)); });
  }
  cards_.describe(tenant, r.payout.partner_id, std::move(description), show);
}

providers::ecommpay::ProjectView Pages::link_project(const Params& link,
                                                     providers::ecommpay::KeyUse use) const {
  providers::ecommpay::ProjectView project =
      dialect_.project(std::string_view(web::form_value(link, "project_id")));
  if (!project || web::form_value(link, "mode") != "payout") return {};
  const std::string signature = web::form_value(link, "signature");
  const bool signed_by_project =
      !signature.empty() &&
      dialect_.signed_by(project, providers::ecommpay::signing_string(link), signature, use);
  return signed_by_project ? project : providers::ecommpay::ProjectView{};
}

void Pages::card(const http::Request& request, const http::Responder& respond) {
  Posted in = posted(request);
  if (in.refusal) return respond(std::move(*in.refusal));
  const auto& form = in.form;
  const std::string& lang = in.lang;
  const Texts& t = texts(lang);
  const Tenant& tenant = in.tenant;
  const std::string& link = in.link;
  CardPayoutResult& r = in.order;
  if (r.payout.status != PayoutStatus::kProcessing || r.order.stage != OrderStage::kRegistered) {
    return respond(web::redirect(result_path(r.order.order_id, lang)));
  }
  std::string pan;
  for (char c : web::form_value(form, "pan")) {
    if (c != ' ' && c != '-') pan.push_back(c);
  }
  const std::string holder = web::form_value(form, "cardholder");
  const std::string token = web::form_value(form, "token");
  const auto saved = cards_.saved_cards(tenant, r.order.client_id);
  if (!saved.ok()) {
    sodium_memzero(pan.data(), pan.size());
    return respond(unavailable_page(t));
  }
  auto again = [&](std::string_view why) {
    sodium_memzero(pan.data(), pan.size());
    respond(web::page(422, card_form(t, r, seconds_left(r.order), why, *saved, token, link)));
  };
  engine::CardPayouts::CodeAsk ask;
  std::string scheme, country;
  if (!token.empty()) {
    for (const auto& c : *saved) {
      if (c.binding_id == token) scheme = c.scheme, country = c.country;
    }
    ask.saved = token;  // the engine refuses a token that is not the client's
  } else {
    if (pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax ||
        !cards::luhn_valid(pan)) {
      return again(t.invalid_card);
    }
    bool holder_ok = holder.size() <= 26;
    for (char c : holder) {
      holder_ok &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' ||
                   c == '\'' || c == '-';
    }
    if (!holder_ok) return again(t.invalid_holder);
    auto issuer = cards_.bins().find(pan);
    if (!issuer) return again(t.unsupported_card);
    scheme = issuer->scheme, country = issuer->country;
    std::string upper;
    for (char c : holder) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
    ask.card = {std::move(pan), *issuer, std::move(upper)};
    ask.save = web::form_value(form, "save") == "1";
  }
  proceed(in, scheme, country, in.parties, std::move(ask), respond);
}

void Pages::recipient(const http::Request& request, const http::Responder& respond) {
  Posted in = posted(request);
  if (in.refusal) return respond(std::move(*in.refusal));
  const Texts& t = texts(in.lang);
  CardPayoutResult& r = in.order;
  if (r.payout.status != PayoutStatus::kProcessing || r.order.stage != OrderStage::kRegistered) {
    return respond(web::redirect(result_path(r.order.order_id, in.lang)));
  }
  providers::ecommpay::Parties parties = providers::ecommpay::parties_from_json(r.order.parties);
  providers::ecommpay::Party& l = parties.recipient;
  l.country = web::form_value(in.form, "recipient_country");
  l.state = web::form_value(in.form, "recipient_state");
  for (std::string* s : {&l.country, &l.state}) {
    for (char& c : *s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  }
  l.city = web::form_value(in.form, "recipient_city");
  l.address = web::form_value(in.form, "recipient_address");
  const std::string problem = providers::ecommpay::location_problem(l);
  if (!problem.empty()) {
    const std::string_view why = problem == "country" ? t.invalid_country
                                 : problem == "state" ? t.invalid_state
                                 : problem == "city"  ? t.invalid_city
                                                      : t.invalid_address;
    return respond(web::page(422, location_form(t, r, l, in.link, why)));
  }
  proceed(in, r.order.scheme, r.order.country, parties, {}, respond);
}

void Pages::proceed(const Posted& in, std::string_view scheme, std::string_view country,
                    const providers::ecommpay::Parties& parties, engine::CardPayouts::CodeAsk ask,
                    const http::Responder& respond) {
  using providers::ecommpay::Requirement;
  const CardPayoutResult& r = in.order;
  const Tenant& tenant = in.tenant;
  const Requirement need = providers::ecommpay::requirement(in.project.settings->person_sender,
                                                            scheme, country, parties);
  auto answered = [respond, lang = in.lang, link = in.link, parties](const CardPayoutResult& res) {
    const Texts& tx = texts(lang);
    if (res.error == Error::kNone && res.payout.status == PayoutStatus::kProcessing &&
        res.order.stage == OrderStage::kRegistered) {
      if (res.order.code_hash.empty())
        return respond(web::page(200, location_form(tx, res, parties.recipient, link, {})));
      return respond(web::page(200, code_form(tx, res, link, {})));
    }
    if (res.error == Error::kUnavailable) return respond(unavailable_page(tx));
    if (res.error == Error::kUnknownCard || res.error == Error::kNoCard) {
      return respond(web::page(422, message(tx, tx.unsupported_card, "declined")));
    }
    respond(web::redirect(result_path(res.order.order_id, lang)));
  };
  if (need == Requirement::kDecline) {
    return cards_.refuse(tenant, r.payout.partner_id,
                         std::string(providers::ecommpay::kDeclineProgramData), answered);
  }
  ask.send = need == Requirement::kMet;
  ask.parties = providers::ecommpay::parties_json(parties);
  cards_.request_code(tenant, r.payout.partner_id, std::move(ask), answered);
}

void Pages::code(const http::Request& request, const http::Responder& respond) {
  Posted in = posted(request);
  if (in.refusal) return respond(std::move(*in.refusal));
  const std::string& lang = in.lang;
  const CardPayoutResult& r = in.order;
  const std::string order_id = r.order.order_id;
  cards_.confirm_code(in.tenant, r.payout.partner_id, web::form_value(in.form, "code"),
                      [respond, lang, order_id, link = in.link](const CardPayoutResult& res) {
                        const Texts& tx = texts(lang);
                        if (res.error == Error::kWrongCode) {
                          return respond(web::page(422, code_form(tx, res, link, tx.wrong_code)));
                        }
                        if (res.error == Error::kNoCode || res.error == Error::kCodeExpired) {
                          return respond(web::page(422, message(tx, tx.code_expired, "declined")));
                        }
                        if (res.error == Error::kUnavailable) return respond(unavailable_page(tx));
                        respond(web::redirect(result_path(order_id, lang)));
                      });
}

void Pages::result(const http::Request& request, const http::Responder& reply) {
  auto params = web::parse_form(request.query());
  http::Responder respond = reply;
  const std::string_view lang =
      page_language(params ? web::form_value(*params, "lang") : std::string(), request, respond);
  const Texts& t = texts(lang);
  Tenant tenant;
  CardPayoutResult r = params ? cards_.get_by_order_id(web::form_value(*params, "uuid"),
                                                       providers::ecommpay::kProvider, &tenant)
                              : CardPayoutResult{Error::kNotFound};
  if (r.error == Error::kUnavailable) return respond(unavailable_page(t));
  if (r.error != Error::kNone) {
    return respond(web::page(404, message(t, t.not_found, "declined")));
  }
  std::string body;
  if (r.payout.status == PayoutStatus::kProcessing && r.order.stage != OrderStage::kRegistered) {
    body = result_page(t, r, t.processing, "", "processing", "2");
  } else if (r.payout.status == PayoutStatus::kSuccess) {
    body = result_page(t, r, t.success, "success", "success");
  } else if (r.payout.decline_code == engine::kDeclineExpired ||
             (r.payout.status == PayoutStatus::kProcessing &&
              SystemClock().now_ms() >= r.order.expires_ms)) {
    body = result_page(t, r, t.expired, "declined", "expired");
  } else if (r.payout.decline_code == providers::ecommpay::kDeclineProgramData) {
    body = result_page(t, r, t.program_declined, "declined", "declined");
  } else if (r.payout.status == PayoutStatus::kDeclined) {
    body = result_page(t, r, t.declined, "declined", "declined");
  } else {
    body = result_page(t, r, t.processing, "", "registered", {}, seconds_left(r.order));
  }
  cards_.engine().answer_when_durable(respond, web::page(200, std::move(body)),
                                      [&t] { return unavailable_page(t); });
}

}  // namespace payoutd::providers::ecommpay
