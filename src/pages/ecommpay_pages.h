#pragma once
// ecommpay's Payment Page in payout mode (seed 002): opened by the merchant with a signed query
// (GET /payment?mode=payout&project_id&payment_id&uuid&customer_id&customer_email&payment_amount
// &payment_currency&signature...), it takes the customer's card, sends a verification code to
// the registration's email, and confirms the payout with it; the result page shows how it ended.
// Server-rendered, ru and en, the pages' shared script and stylesheet, the strict CSP.
#include "dialects/ecommpay/ecommpay.h"
#include "engine/card_payouts.h"
#include "http/server.h"

namespace payoutd::pages {

class EcommpayPages {
 public:
  EcommpayPages(engine::CardPayouts& cards, const dialects::ecommpay::Dialect& dialect);
  bool handle(http::Request& request, const http::Responder& respond);

 private:
  void open(const http::Request& request, const http::Responder& respond);
  void card(const http::Request& request, const http::Responder& respond);
  void code(const http::Request& request, const http::Responder& respond);
  void result(const http::Request& request, const http::Responder& respond);

  engine::CardPayouts& cards_;
  const dialects::ecommpay::Dialect& dialect_;
};

}  // namespace payoutd::pages
