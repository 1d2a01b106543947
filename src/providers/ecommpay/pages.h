#pragma once
// ecommpay's Payment Page in payout mode (seed 002): opened by the merchant with a signed query
// (GET /payment?mode=payout&project_id&payment_id&uuid&customer_id&customer_email&payment_amount
// &payment_currency&signature...), it takes the customer's card, sends a verification code to
// the registration's email, and confirms the payout with it; the result page shows how it ended.
// A card program that needs the recipient's location gets it on an extra page (program.h).
// Server-rendered, ru and en, the pages' shared script and stylesheet, the strict CSP. The link's
// language_code chooses the language; without one the page has, the browser's Accept-Language
// does (English when it names neither), and every later page of the form stays in it. Each page
// while the order is open shows the countdown to the end of the uuid's session. A suspended
// project's page is refused (403, "payouts are not enabled"): its orders wait for its resumption.
#include "engine/cards/card_payouts.h"
#include "http/server.h"
#include "providers/ecommpay/api.h"
#include "providers/ecommpay/program.h"

namespace payoutd::providers::ecommpay {

class Pages {
 public:
  Pages(engine::CardPayouts& cards, const providers::ecommpay::Dialect& dialect);
  // GET or POST /payment opens the page (widget.h: a link, a form, or the widget); its forms post
  // to /payment/card, /payment/code and /payment/recipient; /payment/result shows the end.
  bool handle(http::Request& request, const http::Responder& plain);

 private:
  void open(const http::Request& request, const http::Responder& respond);
  void card(const http::Request& request, const http::Responder& respond);
  void code(const http::Request& request, const http::Responder& respond);
  void result(const http::Request& request, const http::Responder& respond);
  // The extra page's answer: the recipient's location.
  void recipient(const http::Request& request, const http::Responder& respond);
  using Params = providers::ecommpay::Params;
  struct Posted;
  Posted posted(const http::Request& request) const;
  // The card is chosen: what the card's program requires decides the next page. A payout
  // missing the parties' data is declined; a missing recipient location attaches the card and
  // shows the extra page; else the card is attached and the code sent.
  void proceed(const Posted& in, std::string_view scheme, std::string_view country,
               const providers::ecommpay::Parties& parties, engine::CardPayouts::CodeAsk ask,
               const http::Responder& respond);
  // The project (not closed) that signed a page link in payout mode with one of its working keys,
  // or an empty view; the key's use noted as `use` says.
  providers::ecommpay::ProjectView link_project(const Params& link,
                                                providers::ecommpay::KeyUse use) const;

  engine::CardPayouts& cards_;
  const providers::ecommpay::Dialect& dialect_;
};

}  // namespace payoutd::providers::ecommpay
