#include "providers/bereke/api_answers.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "core/json.h"
#include "core/log_limit.h"
#include "providers/bereke/api.h"

namespace payoutd::providers::bereke::api {

using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;
using engine::OrderStage;
using store::PayoutStatus;

const Problem kBadSource{
    400, "98", "Source is not specified or is incorrect compared to configured debit tools"};
const Problem kBadDebitMethod{
    400, "98", "Payout config error: debit method is incorrect for specified payout type"};
const Problem kNoSettings{500, "99", "No merchant settings available"};
const Problem kTemporaryFailure{504, "91", "Timeout when requesting payout-store"};

namespace {

constexpr std::string_view kSuccessRu = "Успешно";

bool english(std::string_view language) { return page_language(language) == "en"; }

std::string_view order_status(const store::PayoutRecord& p, const CardOrder& o) {
  switch (p.status) {
    case PayoutStatus::kSuccess:
      return "2";
    case PayoutStatus::kDeclined:
      return "6";
    case PayoutStatus::kProcessing:
      break;
  }
  return o.stage == OrderStage::kRegistered ? "0" : "1";
}

std::string_view decline_message(std::string_view code, bool en) {
  if (code == engine::kDeclineCardDeclined) return en ? "Declined by the issuer" : "Отказ эмитента";
  if (code == engine::kDeclineInsufficientFunds) {
    return en ? "Insufficient funds on the payout balance" : "Недостаточно средств на балансе";
  }
  if (code == engine::kDeclineExpired) {
    return en ? "The session has expired" : "Время сессии истекло";
  }
  if (engine::is_card_limit(code) || code == engine::kDeclineLimitExceeded) {
    return en ? "Payout limit exceeded" : "Превышен лимит выплат";
  }
  if (code == engine::kDeclineNoRoute) {
    return en ? "Payouts to this card are not available" : "Выплаты на эту карту недоступны";
  }
  return en ? "Declined" : "Отказ";
}

// The refusal of a registration's or a payout's result, or nullopt when the engine accepted it.
std::optional<http::Response> refusal(const CardPayoutResult& r, Source source) {
  switch (r.error) {
    case Error::kNone:
      break;
    case Error::kIdConflict:
      return error(400, "1", "Order with this number was already processed");
    case Error::kSourceNotFound:
      return error(source == Source::kCorporateCard ? kBadSource : kNoSettings);
    case Error::kDestinationNotFound:
      return error(502, "99", "Unable to get card data for specified bindingId");
    case Error::kCurrencyMismatch:
      return error(400, "98", "Currency does not match required pattern");
    case Error::kUnavailable:
      return error(kTemporaryFailure);
    case Error::kNotFound:
    case Error::kNotOpen:  // the page's refusals, never a registration's or a payout's
    case Error::kNoCode:
    case Error::kCodeExpired:
    case Error::kWrongCode:
    case Error::kTooManyCodes:
    case Error::kNoCard:
    case Error::kUnknownCard:
      return error(500, "99", "There was an error getting gateway parameters");
  }
  // The gateway named is the card rail the order went to ("sandbox-card-rail").
  if (r.rail_timeout)
    return error(504, "91", "Timeout when requesting " + r.order.rail + "-card-rail");
  return std::nullopt;
}

}  // namespace

http::Response answer(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::Response error(int status, std::string_view code, std::string_view message) {
  std::string body;
  json::Writer w(body);
  w.begin_object().key("errorCode").string(code).key("errorMessage").string(message).end_object();
  static LogLimit server_errors;
  if (status >= 500) {
    if (const std::int64_t held = server_errors.admit(); held >= 0) {
      spdlog::warn("bereke {} {}: {} ({} more not logged)", status, code, message, held);
    }
  }
  return answer(status, std::move(body));
}

http::Response error(const Problem& problem) {
  return error(problem.status, problem.code, problem.message);
}

std::string render_order(const CardPayoutResult& r, std::string_view language) {
  const store::PayoutRecord& p = r.payout;
  const CardOrder& o = r.order;
  const bool en = english(language);
  std::string out;
  out.reserve(640);
  json::Writer w(out);
  w.begin_object();
  w.key("errorCode").string("0");
  if (p.status == PayoutStatus::kDeclined) {
    w.key("errorMessage").string(decline_message(p.decline_code, en));
  } else {
    w.key("errorMessage").string(en ? "Success" : kSuccessRu);
  }
  w.key("amount").integer(p.amount);
  w.key("fee").integer(o.fee);
  w.key("currency").string(kCurrencyKzt);
  w.key("creationDate").integer(p.created_ms);
  if (!o.description.empty()) w.key("description").string(o.description);
  w.key("orderId").string(o.order_id);
  w.key("orderNumber").string(p.partner_id);
  w.key("orderStatus").string(order_status(p, o));
  const bool operated = !o.approval.empty() || !o.rail_code.empty();
  if (operated && p.status != PayoutStatus::kProcessing) {
    const bool ok = p.status == PayoutStatus::kSuccess;
    w.key("operationList").begin_array().begin_object();
    w.key("operationDate").integer(o.operation_ms);
    w.key("operationType").string("P2P_CREDIT");
    w.key("amount").integer(p.amount);
    w.key("currency").string(kCurrencyKzt);
    w.key("orderId").string(o.order_id);
    w.key("orderNumber").string(p.partner_id);
    w.key("resultCode").integer(ok ? 0 : 1);
    w.key("resultCodeDescription")
        .string(ok ? (en ? "Transfer completed" : "Перевод исполнен")
                   : decline_message(p.decline_code, en));
    if (ok) w.key("refNum").string(o.approval);
    w.key("pan").string(o.masked_pan);
    w.key("panMaskedTo").string(o.masked_pan);
    if (!o.cardholder.empty()) w.key("cardholderName").string(o.cardholder);
    w.end_object().end_array();
  }
  if (!o.source_binding.empty()) {
    w.key("source").begin_object().key("bindingId").string(o.source_binding).end_object();
  }
  if (!o.target_binding.empty() || !o.client_id.empty() || !o.masked_pan.empty()) {
    w.key("target").begin_object();
    if (!o.target_binding.empty()) w.key("bindingId").string(o.target_binding);
    if (!o.client_id.empty()) w.key("clientId").string(o.client_id);
    if (!o.masked_pan.empty()) w.key("maskedPan").string(o.masked_pan);
    w.end_object();
  }
  if (!o.params_json.empty()) w.key("orderParams").raw(o.params_json);
  w.end_object();
  return out;
}

std::string render_balance(std::int64_t available) {
  std::string body;
  json::Writer w(body);
  w.begin_object().key("errorCode").string("0").key("balanceDescriptionList").begin_object();
  w.key("balanceAmount").integer(available < 0 ? -available : available);
  w.key("balanceCurrency").string(kCurrencyKzt);
  w.key("balanceSign").string(available < 0 ? "D" : "C");
  w.end_object().end_object();
  return body;
}

void answer_registration(const http::Responder& respond, const CardPayoutResult& r,
                         const std::string& base_url) {
  if (auto refused = refusal(r, Source::kTransit)) return respond(std::move(*refused));
  http::Response response;
  json::Writer w(response.body);
  w.begin_object();
  w.key("errorCode").string("0");
  w.key("orderNumber").string(r.payout.partner_id);
  w.key("orderId").string(r.order.order_id);
  w.key("formUrl").string(form_url(base_url, r.order.language, r.order.order_id));
  w.end_object();
  respond(std::move(response));
}

void answer_payout(const http::Responder& respond, CardPayoutResult r, std::string language,
                   Source source) {
  if (auto refused = refusal(r, source)) return respond(std::move(*refused));
  http::Response response;
  response.render_body = [r = std::move(r), language = std::move(language)](std::string& out) {
    out = render_order(r, language);
  };
  respond(std::move(response));
}

}  // namespace payoutd::providers::bereke::api
