// The cabinet's password page (docs/cabinet.md, "Users at run time"): GET and POST
// /cabinet/password. A runtime user whose password someone else chose (generated when the
// operator created it or reset it) reaches only this page and signing out until they choose
// their own; any runtime user may change theirs here. A user of the config is told that the
// config sets its password.
#include "cabinet/pages.h"

namespace payoutd::cabinet {
namespace {

struct PasswordTexts {
  std::string_view title, link, required, config, current, next, again, save, saved, rejected,
      wrong, throttled, suspended, closed;
};

constexpr PasswordTexts kEn{
    "Password",
    "Password",
    "The password you were given was chosen by someone else: choose your own to go on.",
    "The password of this login is set in payoutd's configuration: ask your operator to change "
    "it.",
    "Current password",
    "New password (at least 12 characters)",
    "New password again",
    "Change password",
    "Your password has been changed.",
    "The new password must have 12 to 256 characters, be typed twice alike and differ from the "
    "current one.",
    "The current password is wrong.",
    "Too many wrong passwords: try again in a while.",
    "Your partner is suspended: pages can be read, nothing can be changed.",
    "This partner's cabinet is closed."};
constexpr PasswordTexts kRu{
    "Пароль",
    "Пароль",
    "Этот пароль выбрали за вас: чтобы продолжить, задайте свой.",
    "Пароль этого логина задан в конфигурации payoutd: обратитесь к оператору, чтобы сменить его.",
    "Текущий пароль",
    "Новый пароль (не короче 12 символов)",
    "Новый пароль ещё раз",
    "Сменить пароль",
    "Пароль изменён.",
    "Новый пароль должен быть от 12 до 256 символов, введён дважды одинаково и отличаться от "
    "текущего.",
    "Текущий пароль неверен.",
    "Слишком много неверных паролей: повторите позже.",
    "Работа партнёра приостановлена: страницы можно просматривать, изменять ничего нельзя.",
    "Кабинет этого партнёра закрыт."};

const PasswordTexts& password_texts(std::string_view lang) { return lang == "ru" ? kRu : kEn; }

web::Node password_words(const PasswordTexts& w) {
  return {{"required", w.required}, {"config", w.config}, {"current", w.current},
          {"next", w.next},         {"again", w.again},   {"save", w.save}};
}

}  // namespace

std::string_view password_link_label(std::string_view lang) { return password_texts(lang).link; }
std::string_view suspended_text(std::string_view lang) { return password_texts(lang).suspended; }
std::string_view closed_text(std::string_view lang) { return password_texts(lang).closed; }

void Pages::password_page(View& v, int status, std::string_view notice, std::string_view error) {
  const PasswordTexts& w = password_texts(v.t->lang);
  const Session& s = *v.session;
  const web::FormParams query = web::parse_form(v.query).value_or(web::FormParams{});
  if (notice.empty() && web::form_value(query, "done") == "1") notice = w.saved;
  const std::string content =
      web::render("cabinet/password", {{"w", password_words(w)},
                                       {"required", s.must_change_password},
                                       {"config", s.source == UserSource::kConfig},
                                       {"notice", notice},
                                       {"error", error},
                                       {"csrf", s.csrf},
                                       {"min", static_cast<std::int64_t>(kPasswordCharsMin)}});
  v.html(status, layout(v, "/cabinet/password", w.title, content));
}

void Pages::change_password(View& v, const http::Request& request, const web::FormParams& form) {
  auto shared = std::make_shared<View>(std::move(v));
  auth_.change_password(*shared->session, web::form_value(form, "current"),
                        web::form_value(form, "next"), web::form_value(form, "again"),
                        request.peer_address, [this, shared](PasswordOutcome outcome) {
                          View& answer = *shared;
                          const PasswordTexts& w = password_texts(answer.t->lang);
                          switch (outcome) {
                            case PasswordOutcome::kOk:
                              return answer.redirect("/cabinet/password?done=1");
                            case PasswordOutcome::kRejected:
                              return password_page(answer, 422, {}, w.rejected);
                            case PasswordOutcome::kWrong:
                              return password_page(answer, 403, {}, w.wrong);
                            case PasswordOutcome::kConfig:
                              return password_page(answer, 409, {}, w.config);
                            case PasswordOutcome::kThrottled:
                              return password_page(answer, 429, {}, w.throttled);
                            case PasswordOutcome::kBusy:
                            case PasswordOutcome::kUnavailable:
                              return answer_unavailable(answer);
                          }
                        });
}

}  // namespace payoutd::cabinet
