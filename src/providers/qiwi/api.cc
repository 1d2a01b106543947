#include "providers/qiwi/api.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/json.h"
#include "core/log_context.h"
#include "core/log_limit.h"
#include "core/time_format.h"
#include "http/query.h"
#include "providers/qiwi/operation_names.h"
#include "providers/qiwi/settings.h"
#include "web/api.h"
#include "web/error_envelope.h"

namespace payoutd::providers::qiwi {

using engine::Error;
using store::PayoutRecord;
using store::PayoutStatus;

namespace {

constexpr std::size_t kIdSizeMax = 64;

std::string_view status_word(PayoutStatus s) {
  switch (s) {
    case PayoutStatus::kProcessing:
      return "PROCESSING";
    case PayoutStatus::kSuccess:
      return "SUCCESS";
    case PayoutStatus::kDeclined:
      return "DECLINED";
  }
  return "PROCESSING";
}

std::string_view decline_description(std::string_view code) {
  if (code == engine::kDeclineInsufficientFunds) {
    return "The funder's available balance is less than the amount";
  }
  if (code == engine::kDeclineClientBlocked) return "The client's wallet does not accept credits";
  if (code == engine::kDeclineFunderBlocked) return "The funder is blocked for payouts";
  if (code == engine::kDeclineLimitExceeded) {
    return "The account has reached the largest amount payoutd can record";
  }
  if (code == engine::kDeclineWalletInsufficientFunds) {
    return "The wallet's balance is less than the amount";
  }
  return "Declined";
}

std::string render_payout(const PayoutRecord& p, std::string_view product, int utc_offset) {
  std::string out;
  out.reserve(320);
  json::Writer w(out);
  w.begin_object();
  w.key("productId").string(product);
  w.key("transactionId").string(p.partner_id);
  w.key("fromFunderId").string(p.source_ref);
  w.key("toClientId").string(p.destination_ref);
  web::write_amount(w, "transactionAmount", p.amount, p.currency);
  w.key("status").string(status_word(p.status));
  if (p.status == PayoutStatus::kDeclined) {
    w.key("declineReason").begin_object();
    w.key("code")
        .string(p.decline_code)
        .key("description")
        .string(decline_description(p.decline_code));
    w.end_object();
  }
  w.key("createdDateTime").string(format_iso8601(p.created_ms, utc_offset));
  w.end_object();
  return out;
}

struct StatusId {
  int id;
  std::string_view name;
};

StatusId history_status(int domain, int status) {
  const auto s = static_cast<PayoutStatus>(status);
  if (domain == static_cast<int>(engine::WalletDomain::kCards)) {
    switch (s) {
      case PayoutStatus::kProcessing:
        return {1, "PROCESSING"};
      case PayoutStatus::kSuccess:
        return {2, "SUCCESS"};
      case PayoutStatus::kDeclined:
        return {3, "DECLINED"};
    }
  }
  switch (s) {
    case PayoutStatus::kProcessing:
      return {50, "PROCESSING"};
    case PayoutStatus::kSuccess:
      return {60, "SUCCESS"};
    case PayoutStatus::kDeclined:
      return {70, "DECLINED"};
  }
  return {50, "PROCESSING"};
}

// The operation type's block of a history entry (seed 001): providerTxnInfo,
// transferBetweenClientsTxnInfo or cardTxnInfo.
void render_details(json::Writer& w, const store::HistoryDetails& d) {
  using Kind = store::HistoryDetails::Kind;
  switch (d.kind) {
    case Kind::kNone:
      return;
    case Kind::kProvider:
      w.key("providerTxnInfo").begin_object();
      w.key("providerId").string(d.provider_id).key("providerDisplayName").string(d.provider_name);
      break;
    case Kind::kTransfer:
      w.key("transferBetweenClientsTxnInfo").begin_object();
      w.key("anotherClientId").string(d.other_client_id);
      w.key("anotherAccountId").string(d.other_account_id);
      break;
    case Kind::kCard:
      w.key("cardTxnInfo").begin_object();
      w.key("cardTokenId").string(d.card.card_token_id).key("maskedPan").string(d.card.masked_pan);
      w.key("merchantType")
          .string(d.card.merchant_type)
          .key("merchantId")
          .string(d.card.merchant_id);
      w.key("merchantName").string(d.card.merchant_name);
      w.key("retrievalReferenceNumber").string(d.card.rrn);
      if (d.balance) web::write_amount(w, "accountBalance", d.balance->minor, d.balance->currency);
      break;
  }
  w.end_object();
}

void render_history_entry(json::Writer& w, const store::HistoryRecord& h,
                          const ledger::Account& account, std::string_view product,
                          int utc_offset) {
  const bool cards = h.domain == static_cast<int>(engine::WalletDomain::kCards);
  w.begin_object().key("commonTxnInfo").begin_object();
  w.key("txnHistoryId").string(h.txn_history_id);
  w.key("domain").string(cards ? "CARDS" : "PAYMENTS");
  w.key("domainTxnId").string(h.domain_txn_id);
  const StatusId status = history_status(h.domain, h.status);
  w.key("domainTxnStatus").begin_object();
  w.key("domainTxnStatusId").integer(status.id).key("name").string(status.name);
  w.end_object();
  w.key("txnType").begin_object();
  const OperationName* type = operation_name(static_cast<engine::OperationKind>(h.type_id));
  w.key("domainTxnTypeId").integer(type ? type->type_id : h.type_id);
  w.key("name").string(type ? type->name : "UNKNOWN");
  w.end_object();
  w.key("txnClientBalanceImpact").string(h.impact == 0 ? "INCOME" : "EXPENSE");
  w.key("clientId").string(account.owner);
  w.key("accountId").string(account.code);
  w.key("productId").string(product);
  w.key("txnCreationDateTime").string(format_iso8601(h.created_ms, utc_offset));
  web::write_amount(w, "txnAmount", h.amount, h.currency);
  web::write_amount(w, "commissionAmount", h.commission, h.currency);
  w.key("txnErrorInfo");
  if (h.error_code.empty()) {
    w.null();
  } else {
    w.begin_object();
    w.key("errorCode")
        .string(h.error_code)
        .key("description")
        .string(decline_description(h.error_code));
    w.end_object();
  }
  w.end_object();
  render_details(w, h.details);
  w.end_object();
}

}  // namespace

Tenant tenant_of(std::string_view product_id) {
  return {std::string(kProvider), std::string(product_id)};
}

Dialect::Dialect(engine::PayoutEngine& engine, Options options, tenants::Directory& tenants)
    : engine_(engine),
      options_(std::move(options)),
      tenants_(tenants),
      throttle_(options_.throttle) {}

http::Response Dialect::error(int status, std::string_view service, std::string_view code,
                              std::string_view description) const {
  return web::error_response(status, service, code, description, options_.utc_offset_minutes);
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  const bool payments = path.starts_with("/partner/openapi-payment-api/");
  const bool reports = path.starts_with("/partner/openapi-reports/");
  if (!payments && !reports) return false;
  log::annotate(kProvider);
  const std::string_view service = payments ? kServicePayments : kServiceReports;

  if (auto problem = web::problem_response(request, service, options_.utc_offset_minutes)) {
    respond(std::move(*problem));
    return true;
  }
  auto segments = web::split_path(path);
  if (!segments) {
    respond(error(400, service, "validation.error", "path: malformed"));
    return true;
  }
  auto& s = *segments;
  // partner/openapi-payment-api/v1/funder-payouts/products/{p}/transactions/{t}
  if (payments && s.size() == 8 && s[2] == "v1" && s[3] == "funder-payouts" && s[4] == "products" &&
      s[6] == "transactions") {
    if (request.method != "PUT" && request.method != "GET") {
      respond(error(405, service, "method.not.allowed", "use PUT to pay out, GET for status"));
      return true;
    }
    const tenants::Authentication product = authorize(request, respond, service, s[5]);
    if (!product.tenant) return true;
    if (!web::is_partner_id(s[7], kIdSizeMax)) {
      respond(error(400, service, "validation.error",
                    "transactionId: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
      return true;
    }
    log::annotate(kProvider, s[5], s[7]);
    if (request.method == "PUT") {
      // Suspended: no new payout; the product's payouts in flight, statuses and history go on.
      if (product.tenant->record.status == tenants::Status::kSuspended) {
        respond(error(403, service, "auth.forbidden",
                      "the product is suspended: new payouts are refused"));
        return true;
      }
      payout(request, respond, s[5], s[7]);
    } else {
      payout_status(respond, s[5], s[7]);
    }
    return true;
  }
  // partner/openapi-reports/v1/products/{p}/operations/history. Seed 001's example URL repeats
  // "openapi-reports/v1/products/{p}" by mistake; that form is accepted too, so the example works
  // as printed.
  const bool doubled = reports && s.size() == 11 && s[5] == "openapi-reports" && s[6] == "v1" &&
                       s[7] == "products" && s[8] == s[4];
  if (doubled) s.erase(s.begin() + 5, s.begin() + 9);
  if (reports && s.size() == 7 && s[2] == "v1" && s[3] == "products" && s[5] == "operations" &&
      s[6] == "history") {
    if (request.method != "GET") {
      respond(error(405, service, "method.not.allowed", "use GET"));
      return true;
    }
    if (!authorize(request, respond, service, s[4]).tenant) return true;
    log::annotate(kProvider, s[4]);
    history(request, respond, s[4]);
    return true;
  }
  respond(error(404, service, "route.not.found", "no such path"));
  return true;
}

bool Dialect::certificate_admitted(const http::Request& request, const std::string& product) {
  const tenants::Found found = tenants_.find(kProvider, product);
  if (!found.tenant || !found.tenant->settings) return true;  // the token check answers
  return product_settings(*found.tenant->settings)
      .client_certificates.admits(request.client_certificate.get());
}

tenants::Authentication Dialect::authorize(const http::Request& request,
                                           const http::Responder& respond, std::string_view service,
                                           const std::string& product) {
  const auto token = web::bearer_token(request.authorization);
  if (!token) {
    respond(error(401, service, "auth.token.missing", "Authorization: Bearer token required"));
    return {};
  }
  // Guessing tokens is throttled per (product, address) and per address (core/throttle.h).
  const std::int64_t now_ms = SystemClock().now_ms();
  if (const std::int64_t wait_ms = throttle_.wait_ms(product, request.peer_address, now_ms);
      wait_ms > 0) {
    const std::int64_t seconds = http::retry_after_seconds(wait_ms);
    http::Response r = error(
        429, service, "auth.too.many.attempts",
        "too many invalid tokens from this address: retry in " + std::to_string(seconds) + " s");
    http::set_retry_after(r, seconds);
    respond(std::move(r));
    return {};
  }
  // The path's product's certificates, checked before the token so that the answer never tells
  // a right token from a wrong one.
  if (!certificate_admitted(request, product)) {
    throttle_.failed(product, request.peer_address, now_ms);
    respond(error(401, service, "auth.certificate.invalid",
                  "a client certificate the product accepts is required"));
    return {};
  }
  // Tokens are looked up by their keyed digest (tenants/credentials.h): a closed product's, or a
  // replaced one after its overlap, matches nothing.
  tenants::Authentication owner = tenants_.authenticate(kProvider, *token);
  if (!owner.tenant) {
    throttle_.failed(product, request.peer_address, now_ms);
    respond(error(401, service, "auth.token.invalid", "the token is not valid"));
    return {};
  }
  throttle_.succeeded(product, request.peer_address);
  if (owner.tenant->record.tenant.id != product) {
    respond(
        error(403, service, "auth.forbidden", "the token does not grant access to this product"));
    return {};
  }
  return owner;
}

void Dialect::payout(http::Request& request, const http::Responder& respond,
                     const std::string& product, const std::string& transaction_id) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  engine::WalletPayout command;
  if (body) {
    web::Fields fields(*body, "", &problem);
    if (fields.string("fromFunderId", kIdSizeMax, &command.funder_code) &&
        !web::is_partner_id(command.funder_code, kIdSizeMax)) {
      fields.fail("fromFunderId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    if (problem.empty() && fields.string("toClientId", kIdSizeMax, &command.client_id) &&
        !web::is_partner_id(command.client_id, kIdSizeMax)) {
      fields.fail("toClientId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
    }
    if (problem.empty())
      web::parse_amount_object(fields, "transactionAmount", false, &command.amount);
  }
  if (!problem.empty()) {
    respond(error(400, kServicePayments, "validation.error", problem));
    return;
  }
  command.tenant = tenant_of(product);
  command.transaction_id = transaction_id;
  engine_.wallet_payout(std::move(command), [this, respond, product](engine::PayoutResult result) {
    switch (result.error) {
      case Error::kNone: {
        http::Response r;
        r.render_body = [payout = std::move(result.payout), product,
                         offset = options_.utc_offset_minutes](std::string& out) {
          out = render_payout(payout, product, offset);
        };
        respond(std::move(r));
        return;
      }
      case Error::kSourceNotFound:
        return respond(error(404, kServicePayments, "funder.not.found", result.detail));
      case Error::kDestinationNotFound:
        return respond(error(404, kServicePayments, "client.not.found", result.detail));
      case Error::kCurrencyMismatch:
        return respond(error(422, kServicePayments, "currency.mismatch", result.detail));
      case Error::kIdConflict:
        return respond(error(409, kServicePayments, "transaction.id.conflict", result.detail));
      case Error::kUnavailable:
        return respond(error(503, kServicePayments, "service.unavailable", result.detail));
      case Error::kNotFound:
      case Error::kInvalid:
        break;
    }
    respond(error(500, kServicePayments, "internal.error", result.detail));
  });
}

void Dialect::payout_status(const http::Responder& respond, const std::string& product,
                            const std::string& transaction_id) {
  auto result =
      engine_.get_payout(tenant_of(product), store::PayoutKind::kWalletPayout, transaction_id);
  if (result.error == Error::kNotFound) {
    respond(
        error(404, kServicePayments, "transaction.not.found", "no payout with this transactionId"));
    return;
  }
  if (result.error == Error::kUnavailable) {
    respond(error(503, kServicePayments, "service.unavailable", result.detail));
    return;
  }
  http::Response r;
  r.body = render_payout(result.payout, product, options_.utc_offset_minutes);
  engine_.answer_when_durable(respond, std::move(r), [this] {
    return error(503, kServicePayments, "service.unavailable", engine::kReadNotConfirmed);
  });
}

namespace {

// limit: plain digits, at least 1; values above the maximum are capped, however long.
std::optional<std::size_t> parse_limit(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min<std::size_t>(value * 10 + static_cast<std::size_t>(c - '0'), 1'000'000);
  }
  if (value == 0) return std::nullopt;
  return std::min(value, kHistoryLimitMax);
}

}  // namespace

void Dialect::history(http::Request& request, const http::Responder& respond,
                      const std::string& product) {
  const std::string_view query = request.query();
  const http::QueryParam account = http::query_param(query, "accountId");
  const http::QueryParam limit_param = http::query_param(query, "limit");
  const http::QueryParam cursor = http::query_param(query, "cursor");
  if (!account.present || !account.valid || account.value.empty() ||
      account.value.size() > kIdSizeMax) {
    respond(error(400, kServiceReports, "validation.error", "accountId: is required, once"));
    return;
  }
  std::optional<std::size_t> limit;
  if (limit_param.present && limit_param.valid) limit = parse_limit(limit_param.value);
  if (!limit) {
    respond(error(400, kServiceReports, "validation.error",
                  "limit: is required, an integer from 1 (above 200 returns 200)"));
    return;
  }
  if (cursor.present && (!cursor.valid || cursor.value.empty() || cursor.value.size() > 64)) {
    respond(error(400, kServiceReports, "history.cursor.invalid", "cursor: malformed"));
    return;
  }
  const engine::HistoryPage page = engine_.wallet_history(
      tenant_of(product), account.value, cursor.present ? &cursor.value : nullptr, *limit);
  if (page.error == Error::kNotFound) {
    respond(error(404, kServiceReports, "account.not.found", page.detail));
    return;
  }
  if (page.error == Error::kInvalid) {
    respond(error(400, kServiceReports, "history.cursor.invalid", page.detail));
    return;
  }
  if (page.error == Error::kUnavailable) {
    respond(error(503, kServiceReports, "service.unavailable", page.detail));
    return;
  }
  http::Response r;
  r.body.reserve(64 + page.entries.size() * 700);
  json::Writer w(r.body);
  w.begin_object().key("txnList").begin_array();
  for (const auto& h : page.entries) {
    render_history_entry(w, h, page.account, product, options_.utc_offset_minutes);
  }
  w.end_array();
  if (!page.entries.empty()) {
    w.key("cursor").string(page.entries.back().txn_history_id);
  } else if (cursor.present) {
    w.key("cursor").string(cursor.value);
  }
  w.end_object();
  engine_.answer_when_durable(respond, std::move(r), [this] {
    return error(503, kServiceReports, "service.unavailable", engine::kReadNotConfirmed);
  });
}

}  // namespace payoutd::providers::qiwi
