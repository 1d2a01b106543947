// Payment Page's words in each language it has (English, the default, and Russian): the texts
// its pages and messages show, and the same as the {{t.…}} of its templates.
#pragma once

#include <array>
#include <string_view>

#include "web/template.h"

namespace payoutd::providers::ecommpay::page {

struct Texts {
  std::string_view lang, title, amount, description, time_left, card_number, card_hint, cardholder,
      cardholder_hint, next, code_sent, code_label, confirm, wrong_code, code_expired, new_card,
      invalid_card, invalid_holder, unsupported_card, expired, bad_link, time_limit, processing,
      success, declined, not_found, seconds, saved_cards, new_card_option, save_card,
      location_title, location_why, country, country_hint, state, state_hint, city, address,
      next_step, invalid_country, invalid_state, invalid_city, invalid_address, program_declined,
      suspended;
};

// The page's languages, its default first: what a language_code or a browser's Accept-Language
// may choose.
inline constexpr std::array<std::string_view, 2> kLanguages{"en", "ru"};

// The texts of `lang` ("ru"; anything else is English).
const Texts& texts(std::string_view lang);

// The texts the templates show, as their {{t.…}}.
web::Node words(const Texts& t);

}  // namespace payoutd::providers::ecommpay::page
