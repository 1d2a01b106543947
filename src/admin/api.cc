#include "admin/api.h"

#include "core/json.h"
#include "http/query.h"
#include "web/api.h"

namespace payoutd::admin {

using engine::Error;
using ledger::Account;
using ledger::AccountKind;

namespace {

constexpr std::string_view kService = "payoutd-admin";
constexpr std::size_t kIdSizeMax = 64;
constexpr std::size_t kNameSizeMax = 256;

std::string render_funder(const Account& a) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("funderId").string(a.code);
  w.key("displayName").string(a.owner);
  w.key("currency").string(a.currency.code());
  w.key("status").string(a.status == ledger::AccountStatus::kActive ? "ACTIVE" : "BLOCKED");
  web::write_amount(w, "balance", a.balance(), a.currency);
  web::write_amount(w, "reserved", a.debits_pending, a.currency);
  web::write_amount(w, "available", a.available(), a.currency);
  w.end_object();
  return out;
}

std::string render_client(std::string_view client_id, const std::vector<Account>& wallets) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("clientId").string(client_id);
  const Account& first = wallets.front();
  w.key("accountId").string(first.code);
  w.key("currency").string(first.currency.code());
  w.key("status").string(first.status == ledger::AccountStatus::kActive ? "ACTIVE" : "BLOCKED");
  web::write_amount(w, "balance", first.balance(), first.currency);
  web::write_amount(w, "incoming", first.credits_pending, first.currency);
  w.key("accounts").begin_array();
  for (const Account& a : wallets) {
    w.begin_object();
    w.key("accountId").string(a.code);
    web::write_amount(w, "balance", a.balance(), a.currency);
    web::write_amount(w, "incoming", a.credits_pending, a.currency);
    web::write_amount(w, "outgoing", a.debits_pending, a.currency);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

std::string render_record(const store::PayoutRecord& p) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("id").string(p.partner_id);
  w.key("status").string(p.status == store::PayoutStatus::kSuccess      ? "SUCCESS"
                         : p.status == store::PayoutStatus::kDeclined   ? "DECLINED"
                                                                        : "PROCESSING");
  if (!p.decline_code.empty()) w.key("declineCode").string(p.decline_code);
  web::write_amount(w, "amount", p.amount, p.currency);
  if (!p.history_id.empty()) w.key("txnHistoryId").string(p.history_id);
  w.end_object();
  return out;
}

// A masked card number as QIWI shows it ("4153****8772"): 12 to 19 characters of digits and
// mask characters, at most the first 6 and the last 4 digits in clear. Anything that could be a
// clear card number is refused, so none is ever stored.
bool is_masked_pan(std::string_view pan) {
  if (pan.size() < 12 || pan.size() > 19) return false;
  auto is_mask = [](char c) { return c == '*' || c == 'X' || c == 'x'; };
  for (std::size_t i = 0; i < pan.size(); ++i) {
    const char c = pan[i];
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !is_mask(c)) return false;
    const bool clear_allowed = i < 6 || i + 4 >= pan.size();
    if (digit && !clear_allowed) return false;
  }
  return true;
}

std::optional<engine::WalletTxnType> operation_type(std::string_view name) {
  using T = engine::WalletTxnType;
  if (name == "PAYMENT") return T::kPayment;
  if (name == "PURCHASE_E_POS") return T::kPurchaseEPos;
  if (name == "INVOICING_SERVICE") return T::kInvoicingService;
  if (name == "TRANSFER_BETWEEN_CLIENTS") return T::kTransferBetweenClients;
  if (name == "FAST_FUNDS") return T::kFastFunds;
  if (name == "BALANCE_INQUIRY") return T::kBalanceInquiry;
  return std::nullopt;
}

}  // namespace

Dialect::Dialect(engine::PayoutEngine& engine, const providers::qiwi::Options& qiwi, Options options)
    : engine_(engine), qiwi_(qiwi), options_(std::move(options)), throttle_(options_.throttle) {}

http::Response Dialect::error(int status, std::string_view code,
                              std::string_view description) const {
  return web::error_response(status, kService, code, description, qiwi_.utc_offset_minutes);
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (!path.starts_with("/admin/")) return false;
  if (options_.token.empty()) {
    respond(error(404, "route.not.found", "the admin API is disabled"));
    return true;
  }
  if (auto problem = web::problem_response(request, kService, qiwi_.utc_offset_minutes)) {
    respond(std::move(*problem));
    return true;
  }
  const auto token = web::bearer_token(request.authorization);
  if (!token) {
    respond(error(401, "auth.token.missing", "Authorization: Bearer token required"));
    return true;
  }
  // Guessing the token is throttled per address (core/throttle.h): it mints money.
  const std::int64_t now_ms = SystemClock().now_ms();
  if (const std::int64_t wait_ms = throttle_.wait_ms("admin", request.peer_address, now_ms); wait_ms > 0) {
    const std::int64_t seconds = http::retry_after_seconds(wait_ms);
    http::Response r = error(429, "auth.too.many.attempts",
                             "too many invalid tokens from this address: retry in " + std::to_string(seconds) + " s");
    http::set_retry_after(r, seconds);
    respond(std::move(r));
    return true;
  }
  if (!secrets_equal(*token, options_.token)) {
    throttle_.failed("admin", request.peer_address, now_ms);
    respond(error(401, "auth.token.invalid", "the token is not valid"));
    return true;
  }
  throttle_.succeeded("admin", request.peer_address);
  auto segments = web::split_path(path);
  if (segments && segments->size() == 3 && (*segments)[1] == "v1" && (*segments)[2] == "stats") {
    if (request.method != "GET") {
      respond(error(405, "method.not.allowed", "use GET"));
    } else {
      respond(stats());
    }
    return true;
  }
  // admin/v1/outbox?tenant=T&event=PREFIX: notifications and every delivery attempt.
  if (segments && segments->size() == 3 && (*segments)[1] == "v1" && (*segments)[2] == "outbox") {
    if (request.method != "GET") return respond(error(405, "method.not.allowed", "use GET")), true;
    respond(outbox(request));
    return true;
  }
  // admin/v1/rail/credits/{reference}: the sandbox card network's record of a credit.
  if (segments && segments->size() == 5 && (*segments)[1] == "v1" && (*segments)[2] == "rail" &&
      (*segments)[3] == "credits") {
    if (request.method != "GET") return respond(error(405, "method.not.allowed", "use GET")), true;
    auto credit = rail_ ? rail_->find((*segments)[4]) : std::nullopt;
    if (!credit) return respond(error(404, "credit.not.found", "the card network has no such credit")), true;
    http::Response r;
    json::Writer w(r.body);
    w.begin_object();
    w.key("reference").string(credit->reference).key("maskedPan").string(credit->masked_pan);
    w.key("amount").integer(credit->amount).key("currency").string(credit->currency);
    w.key("outcome").string(credit->outcome).key("code").string(credit->code);
    w.key("approval").string(credit->approval).key("received").integer(credit->received);
    w.key("createdMs").integer(credit->created_ms).key("finalMs").integer(credit->final_ms);
    w.key("operation").string(credit->operation);
    if (auto parties = json::parse(credit->parties); parties.value && parties.value->is_object()) {
      w.key("parties").value(*parties.value);
    }
    w.end_object();
    respond(std::move(r));
    return true;
  }
  // admin/v1/tenants/{tenant}/funders/{code}[/credits/{creditId}]: any dialect's funding
  // accounts (a Bereke partner's transit account and corporate cards, an ecommpay merchant
  // balance, a QIWI funder), shown and credited from outside.
  if (segments && segments->size() >= 6 && (*segments)[1] == "v1" && (*segments)[2] == "tenants" &&
      (*segments)[4] == "funders") {
    const auto& s = *segments;
    const std::string tenant = s[3];
    if (std::find(options_.tenants.begin(), options_.tenants.end(), tenant) == options_.tenants.end()) {
      return respond(error(404, "tenant.not.found", "no such tenant")), true;
    }
    if (!web::is_partner_id(s[5], kIdSizeMax) || (s.size() == 8 && !web::is_partner_id(s[7], kIdSizeMax))) {
      respond(error(400, "validation.error", "id: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
      return true;
    }
    if (s.size() == 6 && (request.method == "GET" || request.method == "HEAD")) return get_funder(respond, tenant, s[5]), true;
    if (s.size() == 8 && s[6] == "credits" && (request.method == "POST" || request.method == "PUT")) {
      return credit(request, respond, tenant, s[5], s[7]), true;
    }
    if (s.size() == 6 || (s.size() == 8 && s[6] == "credits")) {
      return respond(error(405, "method.not.allowed", "wrong method")), true;
    }
    return respond(error(404, "route.not.found", "no such path")), true;
  }
  // admin/v1/qiwi/products/{p}/...
  if (!segments || segments->size() < 6 || (*segments)[1] != "v1" || (*segments)[2] != "qiwi" ||
      (*segments)[3] != "products") {
    respond(error(404, "route.not.found", "no such path"));
    return true;
  }
  const auto& s = *segments;
  bool known_product = false;
  for (const auto& p : qiwi_.products) known_product |= p.id == s[4];
  if (!known_product) {
    respond(error(404, "product.not.found", "no such product"));
    return true;
  }
  const std::string tenant = providers::qiwi::tenant_of(s[4]);
  const std::string& m = request.method;
  auto method_not_allowed = [&] { respond(error(405, "method.not.allowed", "wrong method")); };
  if (s.size() == 7 && (s[5] == "funders" || s[5] == "clients" || s[5] == "operations")) {
    if (!web::is_partner_id(s[6], kIdSizeMax)) {
      respond(error(400, "validation.error", "id: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
      return true;
    }
    if (s[5] == "funders") {
      if (m == "PUT") return put_funder(request, respond, tenant, s[6]), true;
      if (m == "GET") return get_funder(respond, tenant, s[6]), true;
    } else if (s[5] == "clients") {
      if (m == "PUT") return put_client(request, respond, tenant, s[6]), true;
      if (m == "GET") return get_client(respond, tenant, s[6]), true;
    } else if (options_.sandbox) {
      if (m == "PUT") return operation(request, respond, tenant, s[6]), true;
    } else {
      respond(error(404, "route.not.found", "operations are recorded only in the sandbox"));
      return true;
    }
    method_not_allowed();
    return true;
  }
  if (s.size() == 9 && s[5] == "funders" && s[7] == "credits") {
    if (!web::is_partner_id(s[6], kIdSizeMax) || !web::is_partner_id(s[8], kIdSizeMax)) {
      respond(error(400, "validation.error", "id: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
      return true;
    }
    if (m != "POST" && m != "PUT") return method_not_allowed(), true;
    credit(request, respond, tenant, s[6], s[8]);
    return true;
  }
  respond(error(404, "route.not.found", "no such path"));
  return true;
}

http::Response Dialect::outbox(const http::Request& request) const {
  const http::QueryParam tenant = http::query_param(request.query(), "tenant");
  const http::QueryParam event = http::query_param(request.query(), "event");
  if (!tenant.present || !tenant.valid || tenant.value.empty() || !event.valid) {
    return error(400, "validation.error", "tenant is required (e.g. ecommpay:91348); event is a prefix");
  }
  if (!outbox_store_) return error(404, "route.not.found", "no outbox");
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("messages").begin_array();
  for (const store::OutboxMessage& m : outbox_store_->outbox_messages(tenant.value, event.value, 200)) {
    w.begin_object();
    w.key("id").integer(m.id).key("eventId").string(m.event_id).key("target").string(m.target);
    static constexpr const char* kStates[] = {"PENDING", "DELIVERED", "ABANDONED"};
    w.key("state").string(kStates[static_cast<int>(m.state)]);
    w.key("attempts").integer(m.attempts).key("nextAttemptMs").integer(m.next_attempt_ms);
    w.key("createdMs").integer(m.created_ms).key("lastResult").string(m.last_result);
    // A sealed body is the vault's ciphertext of a one-time code: no one is shown even that (nor
    // the clear body of a message to a person that an earlier version wrote unsealed).
    if (store::body_is_secret(m)) {
      w.key("body").null().key("sealed").boolean(m.sealed);
    } else {
      w.key("body").string(m.body);
    }
    w.key("attemptLog").begin_array();
    for (const store::OutboxAttempt& a : outbox_store_->outbox_attempts(m.id)) {
      w.begin_object().key("attempt").integer(a.attempt).key("atMs").integer(a.at_ms);
      w.key("durationMs").integer(a.duration_ms).key("httpStatus").integer(a.http_status);
      w.key("error").string(a.error).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return r;
}

http::Response Dialect::stats() const {
  const engine::CommitterStats c = engine_.committer().stats();
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("committer").begin_object();
  w.key("jobs").integer(static_cast<std::int64_t>(c.jobs));
  w.key("batches").integer(static_cast<std::int64_t>(c.batches));
  w.key("failedBatches").integer(static_cast<std::int64_t>(c.failed_batches));
  w.key("conflicts").integer(static_cast<std::int64_t>(c.conflicts));
  w.key("largestBatchJobs").integer(static_cast<std::int64_t>(c.batch_jobs_largest));
  w.key("syncs").integer(static_cast<std::int64_t>(c.syncs));
  w.key("applyUsTotal").integer(static_cast<std::int64_t>(c.apply_us_total));
  w.key("commitUsTotal").integer(static_cast<std::int64_t>(c.commit_us_total));
  w.key("syncUsTotal").integer(static_cast<std::int64_t>(c.sync_us_total));
  w.end_object().end_object();
  return r;
}

void Dialect::answer(const http::Responder& respond, const engine::AdminResult& result,
                     std::string ok_body) const {
  switch (result.error) {
    case Error::kNone: {
      http::Response r;
      r.body = std::move(ok_body);
      return respond(std::move(r));
    }
    case Error::kSourceNotFound:
      return respond(error(404, "funder.not.found", result.detail));
    case Error::kDestinationNotFound:
      return respond(error(404, "client.not.found", result.detail));
    case Error::kCurrencyMismatch:
      return respond(error(422, "currency.mismatch", result.detail));
    case Error::kIdConflict:
      return respond(error(409, "id.conflict", result.detail));
    case Error::kInvalid:
      return respond(error(400, "validation.error", result.detail));
    case Error::kUnavailable:
      return respond(error(503, "service.unavailable", result.detail));
    case Error::kNotFound:
      return respond(error(404, "not.found", result.detail));
  }
}

void Dialect::put_funder(http::Request& request, const http::Responder& respond,
                         const std::string& tenant, const std::string& funder) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  engine::FunderSpec spec;
  if (body) {
    web::Fields f(*body, "", &problem);
    if (f.currency("currency", &spec.currency)) {
      f.string("displayName", kNameSizeMax, &spec.display_name, false);
    }
  }
  if (!problem.empty()) return respond(error(400, "validation.error", problem));
  if (spec.display_name.empty()) spec.display_name = funder;
  spec.tenant = tenant;
  spec.code = funder;
  // The answer is rendered from the command's own result: completions run on the engine's
  // syncer thread, which must not read the store.
  engine_.create_funder(std::move(spec), [this, respond](engine::AdminResult r) {
    answer(respond, r, r.error == Error::kNone ? render_funder(r.accounts.front()) : std::string());
  });
}

void Dialect::get_funder(const http::Responder& respond, const std::string& tenant,
                         const std::string& funder) {
  auto account = engine_.find_account(tenant, AccountKind::kFunder, funder);
  if (!account) return respond(error(404, "funder.not.found", "no such funder"));
  http::Response r;
  r.body = render_funder(*account);
  engine_.after_durable([respond, r = std::move(r)]() mutable { respond(std::move(r)); });
}

void Dialect::credit(http::Request& request, const http::Responder& respond,
                     const std::string& tenant, const std::string& funder,
                     const std::string& credit_id) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  Amount amount;
  if (body) {
    web::Fields f(*body, "", &problem);
    web::parse_amount_object(f, "amount", false, &amount);
  }
  if (!problem.empty()) return respond(error(400, "validation.error", problem));
  engine_.credit_funder(tenant, credit_id, funder, amount,
                        [this, respond](engine::AdminResult r) {
                          answer(respond, r, render_record(r.record));
                        });
}

void Dialect::put_client(http::Request& request, const http::Responder& respond,
                         const std::string& tenant, const std::string& client) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  engine::ClientSpec spec;
  if (body) {
    web::Fields f(*body, "", &problem);
    std::string status;
    if (f.string("accountId", kIdSizeMax, &spec.account_code) &&
        f.currency("currency", &spec.currency) && f.string("status", 16, &status, false)) {
      if (!web::is_partner_id(spec.account_code, kIdSizeMax)) {
        f.fail("accountId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
      } else if (status == "BLOCKED") {
        spec.status = ledger::AccountStatus::kBlocked;
      } else if (!status.empty() && status != "ACTIVE") {
        f.fail("status", "must be ACTIVE or BLOCKED");
      }
    }
  }
  if (!problem.empty()) return respond(error(400, "validation.error", problem));
  spec.tenant = tenant;
  spec.client_id = client;
  engine_.create_client(std::move(spec), [this, respond, client](engine::AdminResult r) {
    answer(respond, r,
           r.error == Error::kNone ? render_client(client, r.accounts) : std::string());
  });
}

void Dialect::get_client(const http::Responder& respond, const std::string& tenant,
                         const std::string& client) {
  auto wallets = engine_.accounts_of(tenant, AccountKind::kWallet, client);
  if (wallets.empty()) return respond(error(404, "client.not.found", "no such client"));
  http::Response r;
  r.body = render_client(client, wallets);
  engine_.after_durable([respond, r = std::move(r)]() mutable { respond(std::move(r)); });
}

void Dialect::operation(http::Request& request, const http::Responder& respond,
                        const std::string& tenant, const std::string& operation_id) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  engine::WalletOperation op;
  op.tenant = tenant;
  op.operation_id = operation_id;
  if (body) {
    web::Fields f(*body, "", &problem);
    std::string type;
    if (f.string("type", 32, &type) && f.string("clientId", kIdSizeMax, &op.client_id)) {
      auto parsed = operation_type(type);
      if (!parsed) {
        f.fail("type", "is not a recordable operation type");
      } else {
        op.type = *parsed;
      }
    }
    const bool card_domain = op.type == engine::WalletTxnType::kPurchaseEPos ||
                             op.type == engine::WalletTxnType::kBalanceInquiry ||
                             op.type == engine::WalletTxnType::kFastFunds;
    if (problem.empty() && op.type == engine::WalletTxnType::kBalanceInquiry) {
      if (web::parse_amount_object(f, "commission", true, &op.amount)) {
        op.commission = op.amount.minor;
        op.amount.minor = 0;
      }
    } else if (problem.empty()) {
      Amount commission;
      if (web::parse_amount_object(f, "amount", false, &op.amount) && body->find("commission")) {
        if (web::parse_amount_object(f, "commission", true, &commission)) {
          // Only a balance inquiry charges its commission; elsewhere it would be shown in the
          // history without being debited.
          if (!(commission.currency == op.amount.currency)) {
            f.fail("commission.currency", "must equal amount.currency");
          } else if (commission.minor != 0) {
            f.fail("commission.value", "is charged only by BALANCE_INQUIRY operations here");
          }
        }
      }
    }
    if (problem.empty() && op.type == engine::WalletTxnType::kTransferBetweenClients) {
      f.string("toClientId", kIdSizeMax, &op.to_client_id);
    }
    if (problem.empty() && op.type == engine::WalletTxnType::kPayment) {
      f.string("providerId", kIdSizeMax, &op.provider_id) &&
          f.string("providerDisplayName", kNameSizeMax, &op.provider_display_name);
    }
    if (problem.empty() && op.type == engine::WalletTxnType::kPurchaseEPos) {
      std::string status;
      if (f.string("status", 16, &status, false)) {
        if (status == "PROCESSING") {
          op.processing = true;
        } else if (!status.empty() && status != "SUCCESS") {
          f.fail("status", "must be PROCESSING or SUCCESS");
        }
      }
    }
    if (problem.empty() && card_domain) {
      const json::Value* card = nullptr;
      if (f.object("card", &card)) {
        web::Fields c = f.nested("card", *card);
        (void)(c.string("cardTokenId", kIdSizeMax, &op.card.card_token_id) &&
               c.string("maskedPan", 19, &op.card.masked_pan) &&
               (is_masked_pan(op.card.masked_pan) ||
                c.fail("maskedPan", "must be masked: at most the first 6 and last 4 digits")) &&
               c.string("merchantType", 8, &op.card.merchant_type) &&
               c.string("merchantId", kIdSizeMax, &op.card.merchant_id) &&
               c.string("merchantName", kNameSizeMax, &op.card.merchant_name) &&
               c.string("retrievalReferenceNumber", 24, &op.card.rrn));
      }
    }
  }
  if (!problem.empty()) return respond(error(400, "validation.error", problem));
  engine_.record_operation(std::move(op), [this, respond](engine::AdminResult r) {
    answer(respond, r, render_record(r.record));
  });
}

}  // namespace payoutd::admin
