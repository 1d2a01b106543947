#pragma once
// What the Bereke API answers (docs/bereke.md): its error object {"errorCode","errorMessage"}
// with an HTTP status, an order's JSON (getPayoutStatus.do, performPayout.do), a registration's
// formUrl, a balance, and the card engine's results in the seed's words.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/cards/card_payouts.h"
#include "http/server.h"

namespace payoutd::providers::bereke::api {

inline constexpr std::string_view kCurrencyKzt = "398";  // the one currency, by its ISO number

// An error answer: its HTTP status, errorCode and errorMessage.
struct Problem {
  int status = 400;
  std::string code = "98";
  std::string message;
};

// Refusals the methods share.
extern const Problem kBadSource;       // a corporate card that is not the partner's debit tool
extern const Problem kBadDebitMethod;  // a funding method the partner's config does not allow
extern const Problem kNoSettings;      // a partner whose accounts were never set up
// A suspended partner's new payout (performPayout.do, registerPayout.do): the bank's own answer
// for a merchant whose payout settings it cannot use. Nothing moves; docs/bereke.md says why this
// row of the seed's table.
inline const Problem& kSuspended = kNoSettings;
// The store did not answer (overloaded, or a storage failure): nothing happened, retry. The
// seed's table's timeout row, the gateway's own temporary failure.
extern const Problem kTemporaryFailure;

// 200 (or `status`) with a JSON body.
http::Response answer(int status, std::string body);
// The error object with `status`; 5xx answers are logged (a limited number a second).
http::Response error(int status, std::string_view code, std::string_view message);
http::Response error(const Problem& problem);

// An order as getPayoutStatus.do and performPayout.do show it, its messages in `language`.
std::string render_order(const engine::CardPayoutResult& r, std::string_view language);
// getAmount.do's balance of `available` minor units: its amount and sign apart.
std::string render_balance(std::int64_t available);

// Where a payout's money comes from, as the request named it.
enum class Source : std::uint8_t {
  kTransit,        // no source.bindingId: the transit account (or the primary card)
  kCorporateCard,  // source.bindingId named a corporate card
};

// Answers registerPayout.do from the engine's result: the order's formUrl under `base_url`, or
// the refusal (a timeout's message names the order's rail).
void answer_registration(const http::Responder& respond, const engine::CardPayoutResult& r,
                         const std::string& base_url);
// Answers performPayout.do from the engine's result: the order with its messages in `language`,
// or the refusal.
void answer_payout(const http::Responder& respond, engine::CardPayoutResult r, std::string language,
                   Source source);

}  // namespace payoutd::providers::bereke::api
