#pragma once
// The bank's hosted pages for Bereke orders registered by registerPayout.do (seed 003): the
// card-entry page at formUrl, where the recipient (or the partner's operator) types the card, or
// chooses one of the order's client's saved cards (its recipient bindings, masked), and confirms;
// and the finish page that shows the payout's status and leads back to the partner's returnUrl
// or failUrl.
//
// Server-rendered HTML in ru, en and kk, one page per language (payment_<lang>.html): formUrl
// names the registration's language; an order registered without one the pages have opens at the
// default payment_ru.html, which sends a browser whose Accept-Language prefers English or Kazakh
// to that language's page. One same-origin script (validation as the user types, the countdown)
// and one stylesheet, under a strict Content-Security-Policy with no third-party
// anything. The card number travels only in the POST body, never in a URL, and the page never
// shows it back.
#include "engine/cards/card_payouts.h"
#include "http/server.h"
#include "providers/bereke/api.h"

namespace payoutd::providers::bereke {

class Pages {
 public:
  Pages(engine::CardPayouts& cards, const providers::bereke::Dialect& dialect);

  // True when the path is one of the pages'; the request is then answered through `respond`.
  bool handle(http::Request& request, const http::Responder& respond);

 private:
  void form(const http::Request& request, const http::Responder& respond, std::string_view lang);
  void confirm(const http::Request& request, const http::Responder& respond);
  void finish(const http::Request& request, const http::Responder& respond, std::string_view lang);

  engine::CardPayouts& cards_;
  const providers::bereke::Dialect& dialect_;
};

}  // namespace payoutd::providers::bereke
