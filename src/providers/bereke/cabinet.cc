#include "providers/bereke/cabinet.h"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "cards/card.h"
#include "core/clock.h"
#include "web/html.h"
#include "web/template.h"

namespace payoutd::providers::bereke {

using cabinet::amount_text;
using cabinet::time_text;
using cabinet::url_encode;
using cabinet::View;
using Params = web::FormParams;

namespace {

struct CardTexts {
  std::string_view my_cards, knp_title, add_card, adding_card, cancel, actions, card_number, expiry,
      expiry_hint, holder, phone, phone_hint, save_card, binding_id, copy, primary, make_primary,
      remove, no_cards, sms_sent, sms_code, confirm, bad_card, bad_expiry, bad_holder, bad_phone,
      foreign_card, unknown_card, already_added, wrong_code, code_expired, card_added,
      card_declined, card_in_use, card_removed, card_primary, no_sms, knp_saved, knp_current, save,
      bad_knp, too_many_sms;
};

constexpr CardTexts kEn{
    "My cards",
    "KNP value",
    "Add a card",
    "Adding a card",
    "Cancel",
    "Actions",
    "Card number",
    "Expiry",
    "MM/YY",
    "Cardholder name",
    "Phone the card is linked to",
    "The code comes by SMS to it, e.g. +77011234567",
    "Save the card",
    "Binding ID",
    "Copy the binding ID",
    "Primary",
    "Make the card primary",
    "Delete the card",
    "No corporate cards yet",
    "We sent a one-time password by SMS to",
    "Password from the SMS",
    "Confirm",
    "Check the card number",
    "Check the expiry date (MM/YY, not in the past)",
    "Enter the cardholder's name in Latin letters (up to 26)",
    "Enter the phone as + and 10 to 15 digits",
    "Only cards issued in Kazakhstan can be added",
    "This card is not known to the bank",
    "This card is already among your cards",
    "The password is wrong",
    "The password has expired or was entered wrongly too often: add the card again",
    "The card was added: its binding ID is",
    "The card could not be verified",
    "Payouts in flight still hold money on this card: try again later",
    "The card was deleted",
    "The card is now the primary one",
    "SMS codes cannot be sent: no SMS gateway is configured",
    "The KNP value was saved",
    "Payouts carry the KNP",
    "Save",
    "Choose a code from the list",
    "Too many SMS codes were sent for this phone or partner: try again in an hour"};
constexpr CardTexts kRu{
    "Мои карты",
    "Значение КНП",
    "Добавить карту",
    "Добавление карты",
    "Отмена",
    "Действия",
    "Номер карты",
    "Срок действия",
    "ММ/ГГ",
    "Имя держателя карты",
    "Телефон, к которому привязана карта",
    "Пароль придёт по СМС, например +77011234567",
    "Сохранить карту",
    "ID связки",
    "Копировать ID связки",
    "Основная",
    "Сделать карту основной",
    "Удалить карту",
    "Корпоративных карт пока нет",
    "Мы отправили одноразовый пароль по СМС на",
    "Пароль из СМС",
    "Подтвердить",
    "Проверьте номер карты",
    "Проверьте срок действия (ММ/ГГ, не в прошлом)",
    "Укажите имя держателя латиницей (до 26 символов)",
    "Укажите телефон: + и от 10 до 15 цифр",
    "Добавить можно только карты, выпущенные в Казахстане",
    "Эта карта неизвестна банку",
    "Эта карта уже есть среди ваших карт",
    "Неверный пароль",
    "Пароль истёк или введён неверно слишком много раз: добавьте карту снова",
    "Карта добавлена, ID связки:",
    "Не удалось проверить карту",
    "На карте ещё зарезервированы деньги выплат в обработке: повторите позже",
    "Карта удалена",
    "Карта стала основной",
    "СМС не отправить: шлюз СМС не настроен",
    "Значение КНП сохранено",
    "Выплаты несут КНП",
    "Сохранить",
    "Выберите код из справочника",
    "Слишком много СМС-кодов для этого телефона или партнёра: повторите через час"};

const CardTexts& texts_of(const View& v) { return v.t->lang == "ru" ? kRu : kEn; }

// The texts the templates show, as their {{t.…}}.
web::Node words(const CardTexts& t) {
  return {{"actions", t.actions},
          {"add_card", t.add_card},
          {"adding_card", t.adding_card},
          {"binding_id", t.binding_id},
          {"cancel", t.cancel},
          {"card_number", t.card_number},
          {"confirm", t.confirm},
          {"copy", t.copy},
          {"expiry", t.expiry},
          {"expiry_hint", t.expiry_hint},
          {"holder", t.holder},
          {"knp_current", t.knp_current},
          {"knp_title", t.knp_title},
          {"make_primary", t.make_primary},
          {"no_cards", t.no_cards},
          {"no_sms", t.no_sms},
          {"phone", t.phone},
          {"phone_hint", t.phone_hint},
          {"primary", t.primary},
          {"remove", t.remove},
          {"save", t.save},
          {"save_card", t.save_card},
          {"sms_code", t.sms_code},
          {"sms_sent", t.sms_sent}};
}

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
      if (line != "code,name_ru")
        throw std::runtime_error(path + ":" + std::to_string(number) + ": expected code,name_ru");
      continue;
    }
    const auto comma = line.find(',');
    std::string code = line.substr(0, comma),
                name = comma == std::string::npos ? "" : line.substr(comma + 1);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t at = name.find("\"\""); at != std::string::npos;
           at = name.find("\"\"", at + 1))
        name.erase(at, 1);
    }
    if (code.size() != 3 || code.find_first_not_of("0123456789") != std::string::npos ||
        name.empty()) {
      throw std::runtime_error(path + ":" + std::to_string(number) +
                               ": expected a 3-digit code and its name");
    }
    if (!out.empty() && out.back().code >= code) {
      throw std::runtime_error(path + ":" + std::to_string(number) +
                               ": codes must be sorted and unique");
    }
    out.push_back({std::move(code), std::move(name)});
  }
  return out;
}

CabinetSection::CabinetSection(engine::CardPayouts& cards, const Dialect& dialect,
                               CabinetOptions options)
    : cards_(cards),
      dialect_(dialect),
      options_(std::move(options)),
      sms_per_phone_(options_.sms_per_phone_per_hour, 3'600'000, options_.sms_per_phone_per_hour,
                     100'000),
      sms_per_tenant_(options_.sms_per_tenant_per_hour, 3'600'000, options_.sms_per_tenant_per_hour,
                      100'000) {}

bool CabinetSection::serves(const Tenant& tenant) const { return tenant.provider == kProvider; }

std::vector<cabinet::NavEntry> CabinetSection::nav(std::string_view lang) const {
  const CardTexts& t = lang == "ru" ? kRu : kEn;
  return {{"/cabinet/cards", std::string(t.my_cards)}, {"/cabinet/knp", std::string(t.knp_title)}};
}

std::vector<cabinet::Route> CabinetSection::routes() {
  using cabinet::Call;
  using cabinet::Method;
  using cabinet::Role;
  auto page = [this](auto answer) {
    return [this, answer](View& v, const Call&) { (this->*answer)(v); };
  };
  auto form = [this](auto answer) {
    return [this, answer](View& v, const Call& c) {
      (this->*answer)(v, c.form, c.request.peer_address);
    };
  };
  return {
      {Method::kGet, "/cabinet/cards", Role::kCards, page(&CabinetSection::cards_page)},
      {Method::kPost, "/cabinet/cards/add", Role::kCards, form(&CabinetSection::add_card)},
      {Method::kPost, "/cabinet/cards/confirm", Role::kCards, form(&CabinetSection::confirm_card)},
      {Method::kPost, "/cabinet/cards/primary", Role::kCards, form(&CabinetSection::make_primary)},
      {Method::kPost, "/cabinet/cards/delete", Role::kCards, form(&CabinetSection::remove_card)},
      {Method::kGet, "/cabinet/knp", Role::kSettings, page(&CabinetSection::knp_page)},
      {Method::kPost, "/cabinet/knp", Role::kSettings, form(&CabinetSection::set_knp)},
  };
}

void CabinetSection::cards_page(View& v) {
  const Params query = web::parse_form(v.query).value_or(Params{});
  cards(v, {.adding = web::form_value(query, "add") == "1"});
}

void CabinetSection::knp_page(View& v) { knp(v, {}); }

void CabinetSection::make_primary(View& v, const Params& form, const std::string& address) {
  card_action(v, form, address, true);
}

void CabinetSection::remove_card(View& v, const Params& form, const std::string& address) {
  card_action(v, form, address, false);
}

void CabinetSection::cards(View& v, const CardsPage& page, int status) {
  const CardTexts& t = texts_of(v);
  const Tenant& tenant = v.session->tenant;
  const Params query = web::parse_form(v.query).value_or(Params{});
  std::string_view notice = page.notice;
  std::string added_notice;
  if (notice.empty() && page.error.empty()) {
    if (const std::string added = web::form_value(query, "added"); !added.empty()) {
      added_notice = std::string(t.card_added) + " " + added;
    } else if (web::form_value(query, "done") == "primary") {
      added_notice = t.card_primary;
    } else if (web::form_value(query, "done") == "removed") {
      added_notice = t.card_removed;
    }
    notice = added_notice;
  }
  const auto corporate = cards_.corporate().cards(tenant);
  if (!corporate.ok()) return cabinet::answer_unavailable(v);
  web::Node list = web::Node::list();
  int n = 0;
  for (const engine::CorporateCard& c : *corporate) {
    list.push({{"binding_id", c.binding_id},
               {"primary", c.primary},
               {"masked_pan", c.masked_pan},
               {"holder", c.holder},
               {"expiry", c.expiry},
               {"field", "binding-" + std::to_string(++n)},
               {"available", amount_text(c.account.available(), c.account.currency)}});
  }
  // A dialog's error shows in it; the page's above the list.
  const bool in_dialog = page.adding || page.enrolment;
  web::Node adding = page.adding ? web::Node{{"error", page.error}} : web::Node(false);
  web::Node confirming(false);
  if (const engine::Enrolment* e = page.enrolment) {
    confirming = web::Node{{"error", page.error},
                           {"phone", masked_phone(e->phone)},
                           {"masked_pan", e->masked_pan},
                           {"enrolment", e->id}};
  }
  const std::string content =
      web::render("providers/bereke/cards", {{"t", words(t)},
                                             {"notice", notice},
                                             {"error", in_dialog ? std::string_view() : page.error},
                                             {"available_label", v.t->available},
                                             {"cards", std::move(list)},
                                             {"csrf", v.session->csrf},
                                             {"sms", options_.sms},
                                             {"adding", std::move(adding)},
                                             {"confirming", std::move(confirming)}});
  v.html(status, cabinet::layout(v, "/cabinet/cards", t.my_cards, content));
}

void CabinetSection::add_card(View& v, const Params& form, const std::string& address) {
  const CardTexts& t = texts_of(v);
  if (!options_.sms) return cards(v, {.error = t.no_sms, .adding = true}, 503);
  std::string pan;
  for (char c : web::form_value(form, "pan")) {
    if (c != ' ' && c != '-') pan.push_back(c);
  }
  const std::string expiry = web::form_value(form, "expiry"),
                    holder = web::form_value(form, "holder"),
                    phone = web::form_value(form, "phone");
  auto refuse = [&](std::string_view why) {
    sodium_memzero(pan.data(), pan.size());
    cards(v, {.error = why, .adding = true}, 422);
  };
  if (pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax ||
      !cards::all_digits(pan) || !cards::luhn_valid(pan)) {
    return refuse(t.bad_card);
  }
  auto issuer = cards_.bins().find(pan);
  if (!issuer) return refuse(t.unknown_card);
  const PartnerView partner = dialect_.partner_of_tenant(v.session->tenant);
  bool allowed = false;
  if (partner.settings) {
    for (const std::string& country : partner.settings->card_countries) {
      allowed |= country == issuer->country;
    }
  }
  if (!allowed) return refuse(t.foreign_card);
  if (!valid_expiry(expiry, SystemClock().now_ms())) return refuse(t.bad_expiry);
  bool holder_ok = !holder.empty() && holder.size() <= 26;
  for (char c : holder)
    holder_ok &=
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' || c == '-';
  if (!holder_ok) return refuse(t.bad_holder);
  if (phone.size() < 11 || phone.size() > 16 || phone[0] != '+' ||
      !cards::all_digits(phone.substr(1))) {
    return refuse(t.bad_phone);
  }
  // Each SMS costs money and reaches a phone the user typed: bounded per phone and per tenant.
  const std::int64_t now_ms = SystemClock().now_ms();
  const std::string tenant = v.session->tenant.key();
  if (sms_per_phone_.wait_ms(phone, now_ms) > 0 || sms_per_tenant_.wait_ms(tenant, now_ms) > 0) {
    sodium_memzero(pan.data(), pan.size());
    return cards(v, {.error = t.too_many_sms, .adding = true}, 429);
  }
  sms_per_phone_.take(phone, now_ms);
  sms_per_tenant_.take(tenant, now_ms);
  std::string upper;
  for (char c : holder) upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  auto shared = std::make_shared<View>(std::move(v));
  cards_.corporate().enrol(
      shared->session->tenant, {std::move(pan), *issuer, upper}, expiry, phone,
      [this, shared, address](const engine::EnrolmentResult& r) {
        View& answer = *shared;
        if (r.error == engine::EnrolmentError::kAlreadyAdded)
          return cards(answer, {.error = texts_of(answer).already_added, .adding = true}, 409);
        if (r.error != engine::EnrolmentError::kNone)
          return cards(answer, {.error = answer.t->busy, .adding = true}, 503);
        answer.audit("cards.add.requested", r.enrolment.masked_pan, address,
                     [this, shared, e = r.enrolment](bool) { cards(*shared, {.enrolment = &e}); });
      });
}

void CabinetSection::confirm_card(View& v, const Params& form, const std::string& address) {
  const std::string id = web::form_value(form, "enrolment");
  const PartnerView partner = dialect_.partner_of_tenant(v.session->tenant);
  const std::int64_t opening = partner.settings ? partner.settings->new_card_balance : 0;
  auto shared = std::make_shared<View>(std::move(v));
  cards_.corporate().confirm_enrolment(
      shared->session->tenant, id.substr(0, 64), web::form_value(form, "code"), opening,
      [this, shared, address](const engine::EnrolmentResult& r) {
        View& answer = *shared;
        const CardTexts& t = texts_of(answer);
        if (r.error == engine::EnrolmentError::kWrongCode &&
            r.enrolment.state == engine::EnrolmentState::kCodeSent) {
          return cards(answer, {.error = t.wrong_code, .enrolment = &r.enrolment}, 422);
        }
        if (r.error != engine::EnrolmentError::kNone &&
            r.error != engine::EnrolmentError::kUnavailable) {
          return cards(answer, {.error = t.code_expired, .adding = true}, 422);
        }
        if (r.error != engine::EnrolmentError::kNone)
          return cards(answer, {.error = answer.t->busy}, 503);
        const bool bound = r.enrolment.state == engine::EnrolmentState::kBound;
        answer.audit(
            bound ? "cards.add" : "cards.add.declined",
            r.enrolment.masked_pan + " " + (bound ? r.enrolment.binding_id : r.enrolment.reason),
            address, [this, shared, e = r.enrolment, bound](bool) {
              if (bound)
                return shared->redirect("/cabinet/cards?added=" + url_encode(e.binding_id));
              const std::string declined =
                  std::string(texts_of(*shared).card_declined) + " (" + e.reason + ")";
              cards(*shared, {.error = declined}, 422);
            });
      });
}

void CabinetSection::card_action(View& v, const Params& form, const std::string& address,
                                 bool primary) {
  const std::string binding = web::form_value(form, "binding").substr(0, 64);
  auto shared = std::make_shared<View>(std::move(v));
  auto done = [this, shared, address, binding, primary](engine::CorporateCardResult r) {
    View& answer = *shared;
    const CardTexts& t = texts_of(answer);
    if (r == engine::CorporateCardResult::kInUse)
      return cards(answer, {.error = t.card_in_use}, 409);
    if (r == engine::CorporateCardResult::kNotFound)
      return cards(answer, {.error = answer.t->not_found}, 404);
    if (r != engine::CorporateCardResult::kOk) return cards(answer, {.error = answer.t->busy}, 503);
    answer.audit(
        primary ? "cards.primary" : "cards.delete", binding, address, [shared, primary](bool) {
          shared->redirect(primary ? "/cabinet/cards?done=primary" : "/cabinet/cards?done=removed");
        });
  };
  if (primary) return cards_.corporate().set_primary(shared->session->tenant, binding, done);
  cards_.corporate().remove(shared->session->tenant, binding, done);
}

void CabinetSection::knp(View& v, std::string_view notice, int status) {
  const CardTexts& t = texts_of(v);
  const PartnerView partner = dialect_.partner_of_tenant(v.session->tenant);
  const auto chosen = cards_.corporate().knp(v.session->tenant);
  if (!chosen.ok()) return cabinet::answer_unavailable(v);
  const std::string current =
      chosen->value_or(partner.settings ? partner.settings->knp : std::string());
  const Params query = web::parse_form(v.query).value_or(Params{});
  if (notice.empty() && web::form_value(query, "saved") == "1") notice = t.knp_saved;
  web::Node codes = web::Node::list();
  for (const KnpCode& k : options_.knp) {
    codes.push({{"code", k.code}, {"name", k.name}, {"selected", k.code == current}});
  }
  const bool is_notice = status == 200;
  const std::string content =
      web::render("providers/bereke/knp", {{"t", words(t)},
                                           {"notice", is_notice ? notice : std::string_view()},
                                           {"error", is_notice ? std::string_view() : notice},
                                           {"current", current},
                                           {"csrf", v.session->csrf},
                                           {"codes", std::move(codes)}});
  v.html(status, cabinet::layout(v, "/cabinet/knp", t.knp_title, content));
}

void CabinetSection::set_knp(View& v, const Params& form, const std::string& address) {
  const std::string code = web::form_value(form, "knp");
  const bool known = std::any_of(options_.knp.begin(), options_.knp.end(),
                                 [&](const KnpCode& k) { return k.code == code; });
  if (!known) return knp(v, texts_of(v).bad_knp, 422);
  const PartnerView partner = dialect_.partner_of_tenant(v.session->tenant);
  const auto chosen = cards_.corporate().knp(v.session->tenant);
  if (!chosen.ok()) return cabinet::answer_unavailable(v);
  const std::string before =
      chosen->value_or(partner.settings ? partner.settings->knp : std::string());
  auto shared = std::make_shared<View>(std::move(v));
  cards_.corporate().set_knp(shared->session->tenant, code,
                             [this, shared, address, before, code](engine::CorporateCardResult r) {
                               if (r != engine::CorporateCardResult::kOk)
                                 return knp(*shared, shared->t->busy, 503);
                               shared->audit(
                                   "knp.change", before + " -> " + code, address,
                                   [shared](bool) { shared->redirect("/cabinet/knp?saved=1"); });
                             });
}
}  // namespace payoutd::providers::bereke
