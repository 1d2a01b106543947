#include "providers/bereke/cabinet.h"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "cards/card.h"
#include "core/clock.h"
#include "web/html.h"

namespace payoutd::providers::bereke {

using cabinet::amount_text;
using cabinet::hidden;
using cabinet::kFoot;
using cabinet::notice_html;
using cabinet::time_text;
using cabinet::url_encode;
using cabinet::View;
using web::escape;
using web::escape_into;
using Params = web::FormParams;

namespace {

struct CardTexts {
  std::string_view my_cards, knp_title, add_card, card_number, expiry, expiry_hint, holder, phone,
      phone_hint, save_card, binding_id, copy, primary, make_primary, remove, no_cards, sms_sent,
      sms_code, confirm, bad_card, bad_expiry, bad_holder, bad_phone, foreign_card, unknown_card,
      already_added, wrong_code, code_expired, card_added, card_declined, card_in_use,
      card_removed, card_primary, no_sms, knp_saved, knp_current, save, bad_knp, too_many_sms;
};

constexpr CardTexts kEn{
    "My cards", "KNP value", "Add a card", "Card number", "Expiry", "MM/YY", "Cardholder name",
    "Phone the card is linked to", "The code comes by SMS to it, e.g. +77011234567",
    "Save the card", "Binding ID", "Copy", "Primary", "Make primary", "Delete",
    "No corporate cards yet", "We sent a one-time password by SMS to", "Password from the SMS",
    "Confirm", "Check the card number", "Check the expiry date (MM/YY, not in the past)",
    "Enter the cardholder's name in Latin letters (up to 26)",
    "Enter the phone as + and 10 to 15 digits", "Only cards issued in Kazakhstan can be added",
    "This card is not known to the bank", "This card is already among your cards",
    "The password is wrong",
    "The password has expired or was entered wrongly too often: add the card again",
    "The card was added: its binding ID is", "The card could not be verified",
    "Payouts in flight still hold money on this card: try again later", "The card was deleted",
    "The card is now the primary one", "SMS codes cannot be sent: no SMS gateway is configured",
    "The KNP value was saved", "Payouts carry the KNP", "Save", "Choose a code from the list",
    "Too many SMS codes were sent for this phone or partner: try again in an hour"};
constexpr CardTexts kRu{
    "Мои карты", "Значение КНП", "Добавить карту", "Номер карты", "Срок действия", "ММ/ГГ",
    "Имя держателя карты", "Телефон, к которому привязана карта",
    "Пароль придёт по СМС, например +77011234567", "Сохранить карту", "ID связки", "Копировать",
    "Основная", "Сделать карту основной", "Удалить карту", "Корпоративных карт пока нет",
    "Мы отправили одноразовый пароль по СМС на", "Пароль из СМС", "Подтвердить",
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

const CardTexts& texts_of(const View& v) { return v.t->lang == "ru" ? kRu : kEn; }

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

CabinetSection::CabinetSection(engine::CardPayouts& cards, const Dialect& dialect, CabinetOptions options)
    : cards_(cards),
      dialect_(dialect),
      options_(std::move(options)),
      sms_per_phone_(options_.sms_per_phone_per_hour, 3'600'000, options_.sms_per_phone_per_hour, 100'000),
      sms_per_tenant_(options_.sms_per_tenant_per_hour, 3'600'000, options_.sms_per_tenant_per_hour, 100'000) {}

bool CabinetSection::serves(std::string_view tenant) const { return tenant.starts_with(kTenantPrefix); }

std::vector<cabinet::NavEntry> CabinetSection::nav(std::string_view lang) const {
  const CardTexts& t = lang == "ru" ? kRu : kEn;
  return {{"/cabinet/cards", std::string(t.my_cards)}, {"/cabinet/knp", std::string(t.knp_title)}};
}

bool CabinetSection::get(View& v, std::string_view path) {
  if (path == "/cabinet/cards") return cards(v, {}, {}), true;
  if (path == "/cabinet/knp") return knp(v, {}), true;
  return false;
}

bool CabinetSection::post(View& v, std::string_view path, const Params& form, const std::string& address) {
  if (path == "/cabinet/cards/add") return add_card(v, form, address), true;
  if (path == "/cabinet/cards/confirm") return confirm_card(v, form, address), true;
  if (path == "/cabinet/cards/primary") return card_action(v, form, address, true), true;
  if (path == "/cabinet/cards/delete") return card_action(v, form, address, false), true;
  if (path == "/cabinet/knp") return set_knp(v, form, address), true;
  return false;
}

void CabinetSection::cards(View& v, std::string_view notice, std::string_view error, int status) {
  const CardTexts& t = texts_of(v);
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
  std::string h = cabinet::layout(v, "/cabinet/cards", t.my_cards);
  h.append(notice_html(notice, error));
  h.append("<section><table id=\"cards\"><thead><tr><th>").append(t.card_number).append("</th><th>");
  h.append(t.holder).append("</th><th>").append(t.expiry).append("</th><th>").append(t.binding_id);
  h.append("</th><th class=\"num\">").append(v.t->available).append("</th><th></th></tr></thead><tbody>");
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

void CabinetSection::add_card(View& v, const Params& form, const std::string& address) {
  const CardTexts& t = texts_of(v);
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
  const Partner* partner = dialect_.partner_of_tenant(v.session->tenant);
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
                      if (r.error == engine::Error::kIdConflict) return cards(answer, {}, texts_of(answer).already_added, 409);
                      if (r.error != engine::Error::kNone) return cards(answer, {}, answer.t->busy, 503);
                      answer.audit("cards.add.requested", r.enrolment.masked_pan, address,
                                  [this, shared, e = r.enrolment](bool) { code_page(*shared, e, {}, 200); });
                    });
}

void CabinetSection::code_page(View& v, const engine::Enrolment& e, std::string_view error, int status) {
  const CardTexts& t = texts_of(v);
  std::string h = cabinet::layout(v, "/cabinet/cards", t.add_card);
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

void CabinetSection::confirm_card(View& v, const Params& form, const std::string& address) {
  const std::string id = web::form_value(form, "enrolment");
  const Partner* partner = dialect_.partner_of_tenant(v.session->tenant);
  const std::int64_t opening = partner ? partner->new_card_balance : 0;
  auto shared = std::make_shared<View>(std::move(v));
  cards_.confirm_enrolment(
      shared->session->tenant, id.substr(0, 64), web::form_value(form, "code"), opening,
      [this, shared, address](engine::EnrolmentResult r) {
        View& answer = *shared;
        const CardTexts& t = texts_of(answer);
        if (r.error == engine::Error::kInvalid && r.detail == "wrong-code" && r.enrolment.state == "code-sent") {
          return code_page(answer, r.enrolment, t.wrong_code, 422);
        }
        if (r.error == engine::Error::kInvalid || r.error == engine::Error::kNotFound) {
          return cards(answer, {}, t.code_expired, 422);
        }
        if (r.error != engine::Error::kNone) return cards(answer, {}, answer.t->busy, 503);
        const bool bound = r.enrolment.state == "bound";
        answer.audit(bound ? "cards.add" : "cards.add.declined",
                    r.enrolment.masked_pan + " " + (bound ? r.enrolment.binding_id : r.enrolment.reason), address,
                    [this, shared, e = r.enrolment, bound](bool) {
                      if (bound) return shared->redirect("/cabinet/cards?added=" + url_encode(e.binding_id));
                      cards(*shared, {}, std::string(texts_of(*shared).card_declined) + " (" + e.reason + ")", 422);
                    });
      });
}

void CabinetSection::card_action(View& v, const Params& form, const std::string& address, bool primary) {
  const std::string binding = web::form_value(form, "binding").substr(0, 64);
  auto shared = std::make_shared<View>(std::move(v));
  auto done = [this, shared, address, binding, primary](engine::AdminResult r) {
    View& answer = *shared;
    const CardTexts& t = texts_of(answer);
    if (r.error == engine::Error::kInvalid) return cards(answer, {}, t.card_in_use, 409);
    if (r.error == engine::Error::kNotFound) return cards(answer, {}, answer.t->not_found, 404);
    if (r.error != engine::Error::kNone) return cards(answer, {}, answer.t->busy, 503);
    answer.audit(primary ? "cards.primary" : "cards.delete", binding, address, [shared, primary](bool) {
      shared->redirect(std::string("/cabinet/cards?done=") + (primary ? "primary" : "removed"));
    });
  };
  if (primary) return cards_.set_primary_card(shared->session->tenant, binding, done);
  cards_.remove_card(shared->session->tenant, binding, done);
}

void CabinetSection::knp(View& v, std::string_view notice, int status) {
  const CardTexts& t = texts_of(v);
  const Partner* partner = dialect_.partner_of_tenant(v.session->tenant);
  const std::string current =
      cards_.setting(v.session->tenant, "knp").value_or(partner ? partner->knp : std::string());
  const Params query = web::parse_form(v.query).value_or(Params{});
  if (notice.empty() && web::form_value(query, "saved") == "1") notice = t.knp_saved;
  std::string h = cabinet::layout(v, "/cabinet/knp", t.knp_title);
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

void CabinetSection::set_knp(View& v, const Params& form, const std::string& address) {
  const std::string code = web::form_value(form, "knp");
  const bool known = std::any_of(options_.knp.begin(), options_.knp.end(), [&](const KnpCode& k) { return k.code == code; });
  if (!known) return knp(v, texts_of(v).bad_knp, 422);
  const Partner* partner = dialect_.partner_of_tenant(v.session->tenant);
  const std::string before =
      cards_.setting(v.session->tenant, "knp").value_or(partner ? partner->knp : std::string());
  auto shared = std::make_shared<View>(std::move(v));
  cards_.set_setting(shared->session->tenant, "knp", code, [this, shared, address, before, code](engine::AdminResult r) {
    if (r.error != engine::Error::kNone) return knp(*shared, shared->t->busy, 503);
    shared->audit("knp.change", before + " -> " + code, address,
                [shared](bool) { shared->redirect("/cabinet/knp?saved=1"); });
  });
}
}  // namespace payoutd::providers::bereke
