#include "providers/bereke/api.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "cards/card.h"
#include "core/json.h"
#include "core/log_limit.h"
#include "web/api.h"

namespace payoutd::providers::bereke {

using engine::CardOrder;
using engine::CardPayoutResult;
using Error = engine::OrderError;
using engine::OrderStage;
using store::PayoutStatus;

namespace {

constexpr std::string_view kPrefix = "/payouts/api/v2/";
constexpr std::string_view kCurrencyKzt = "398";
constexpr std::string_view kSuccessRu = "Успешно";

// The seed's messages, byte for byte: "is а required" has a Cyrillic "а" (U+0430), and
// "Сard affiliation" a Cyrillic "С" (U+0421).
constexpr std::string_view kRequiredSuffix = " is \xD0\xB0 required parameter";
constexpr std::string_view kCardAffiliation =
    "\xD0\xA1" "ard affiliation does not match required pattern";

// Patterns named in "does not match required pattern" answers.
constexpr std::string_view kOrderNumberPattern = "^(?!\\.+$)[0-9A-Za-z_.-]{1,32}$";
constexpr std::string_view kAmountPattern = "^[1-9][0-9]{0,11}$";
constexpr std::string_view kLanguagePattern = "^[A-Za-z]{2}$";
// The tables say 30 characters, the seed's own examples send a 36-character clientId.
constexpr std::string_view kClientIdPattern = "^.{1,64}$";
constexpr std::string_view kEmailPattern = "^[^@\\s]{1,28}@[^@\\s]{1,28}$ (30 characters at most)";
constexpr std::string_view kPhonePattern = "^[0-9]{1,15}$";
constexpr std::string_view kNamePattern = "^[A-Za-z .'-]{1,24}$";
constexpr std::string_view kDescriptionPattern = "^.{0,598}$";
constexpr std::string_view kTimeoutPattern = "^[1-9][0-9]{0,5}$";
constexpr std::string_view kUrlPattern = "^https?://[^\\s]{1,500}$";
constexpr std::string_view kBindingPattern = "^[0-9A-Za-z-]{1,64}$";
constexpr std::string_view kPanPattern = "^[0-9]{13,19}$";
constexpr std::string_view kOrderIdPattern = "^[0-9a-f-]{36}$";
constexpr std::string_view kParamPattern = "^.{0,1024}$";
constexpr std::size_t kParamsMax = 50;
constexpr std::size_t kParamNameMax = 64;

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

// One problem with the request: the answer it gets.
struct Problem {
  int status = 400;
  std::string code = "98";
  std::string message;
};

Problem required(std::string_view name) {
  return {400, "98", std::string(name).append(kRequiredSuffix)};
}
Problem mismatch(std::string_view name, std::string_view pattern) {
  return {400, "98", std::string(name) + " does not match required pattern " + std::string(pattern)};
}
Problem invalid_request() { return {400, "98", "Invalid request"}; }

bool matches_chars(std::string_view s, std::size_t min, std::size_t max, auto allowed) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!allowed(c)) return false;
  }
  return true;
}
bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_order_number(std::string_view s) { return web::is_partner_id(s, 32); }
bool is_binding_id(std::string_view s) {
  return matches_chars(s, 1, 64, [](char c) { return is_alnum(c) || c == '-'; });
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Reads the request's members; the first problem wins and later reads are skipped.
class Reader {
 public:
  explicit Reader(const json::Value& body) : body_(body) {}
  std::optional<Problem> problem;

  const json::Value* member(const json::Value& object, std::string_view name) const {
    const json::Value* v = object.find(name);
    return v && !v->is_null() ? v : nullptr;
  }

  // A string member of `object` (named `path` in messages), checked by `valid`. Numbers are read
  // as their literal text. Returns false (with the problem) when invalid; absent is not invalid
  // unless `needed`.
  bool text(const json::Value& object, std::string_view name, std::string_view path,
            std::string* out, bool needed, std::string_view pattern, auto valid) {
    if (problem) return false;
    const json::Value* v = member(object, name);
    if (!v) {
      if (needed) problem = required(path);
      return !needed;
    }
    if (v->is_string()) {
      *out = v->as_string();
    } else if (v->is_number()) {
      *out = std::string(v->number_text());
    } else {
      problem = mismatch(path, pattern);
      return false;
    }
    if (out->empty() && needed) {
      problem = required(path);
      return false;
    }
    if (!out->empty() && !valid(*out)) {
      problem = mismatch(path, pattern);
      return false;
    }
    return true;
  }

  const json::Value* object(const json::Value& parent, std::string_view name) {
    if (problem) return nullptr;
    const json::Value* v = member(parent, name);
    if (!v) return nullptr;
    if (!v->is_object()) {
      problem = invalid_request();
      return nullptr;
    }
    return v;
  }

  const json::Value& body() const { return body_; }

 private:
  const json::Value& body_;
};

struct MethodInfo {
  std::string_view name;          // e.g. "performPayout.do"
  std::string_view message_type;  // e.g. "PerformPayoutRequest"
};

// The fields registerPayout.do and performPayout.do share.
struct OrderFields {
  std::string order_number, amount_text, currency, description, language;
  std::string client_id, email, phone, name;
  std::string return_url, fail_url, timeout_text;
  std::string params_json;
};

void read_order_fields(Reader& in, OrderFields& f) {
  const json::Value& b = in.body();
  in.text(b, "orderNumber", "orderNumber", &f.order_number, true, kOrderNumberPattern,
          is_order_number);
  in.text(b, "amount", "amount", &f.amount_text, true, kAmountPattern, [](std::string_view s) {
    return s[0] != '0' && matches_chars(s, 1, 12, [](char c) { return c >= '0' && c <= '9'; });
  });
  in.text(b, "currency", "currency", &f.currency, true, "", [](std::string_view) { return true; });
  if (!in.problem && f.currency != kCurrencyKzt) {
    in.problem = Problem{400, "98", "Currency does not match required pattern"};
  }
  in.text(b, "description", "description", &f.description, false, kDescriptionPattern,
          [](std::string_view s) { return utf8_length(s) <= 598; });
  in.text(b, "language", "language", &f.language, false, kLanguagePattern, [](std::string_view s) {
    return matches_chars(s, 2, 2, [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
  });
  if (const json::Value* client = in.object(b, "client")) {
    in.text(*client, "clientId", "client.clientId", &f.client_id, false, kClientIdPattern,
            [](std::string_view s) {
              return utf8_length(s) <= 64 && s.find('\x1f') == std::string_view::npos;
            });
    in.text(*client, "email", "client.email", &f.email, false, kEmailPattern,
            [](std::string_view s) {
              const auto at = s.find('@');
              return s.size() <= 30 && at != std::string_view::npos && at > 0 &&
                     at + 1 < s.size() && s.find('@', at + 1) == std::string_view::npos &&
                     s.find_first_of(" \t\r\n") == std::string_view::npos;
            });
    in.text(*client, "phone", "client.phone", &f.phone, false, kPhonePattern,
            [](std::string_view s) {
              return matches_chars(s, 1, 15, [](char c) { return c >= '0' && c <= '9'; });
            });
    in.text(*client, "name", "client.name", &f.name, false, kNamePattern, [](std::string_view s) {
      return matches_chars(s, 1, 24, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' ||
               c == '\'' || c == '-';
      });
    });
  }
  in.text(b, "sessionTimeoutSecs", "sessionTimeoutSecs", &f.timeout_text, false, kTimeoutPattern,
          [](std::string_view s) {
            return s[0] != '0' && matches_chars(s, 1, 6, [](char c) { return c >= '0' && c <= '9'; });
          });
  if (const json::Value* urls = in.object(b, "urls")) {
    auto url_ok = [](std::string_view s) {
      const bool scheme = s.starts_with("https://") || s.starts_with("http://");
      const std::size_t rest = s.size() - (s.starts_with("https://") ? 8 : 7);
      return scheme && rest >= 1 && s.size() <= 508 &&
             s.find_first_of(" \t\r\n\"<>") == std::string_view::npos;
    };
    in.text(*urls, "returnUrl", "urls.returnUrl", &f.return_url, true, kUrlPattern, url_ok);
    in.text(*urls, "failUrl", "urls.failUrl", &f.fail_url, false, kUrlPattern, url_ok);
  }
  if (const json::Value* params = in.object(b, "jsonParams")) {
    const auto& members = params->as_object();
    if (members.size() > kParamsMax) {
      in.problem = mismatch("jsonParams", "at most 50 parameters");
      return;
    }
    json::Writer w(f.params_json);
    w.begin_object();
    for (const auto& [key, value] : members) {
      const std::string path = "jsonParams." + key;
      if (key.empty() || key.size() > kParamNameMax) {
        in.problem = mismatch("jsonParams", "^.{1,64}$ for each name");
        return;
      }
      std::string text;
      if (!in.text(*params, key, path, &text, false, kParamPattern,
                   [](std::string_view s) { return utf8_length(s) <= 1024; })) {
        return;
      }
      w.key(key).string(text);
    }
    w.end_object();
  }
}

// --- answers ------------------------------------------------------------------------------------

bool english(std::string_view language) { return page_language(language) == "en"; }

std::string_view order_status(const store::PayoutRecord& p, const CardOrder& o) {
  switch (p.status) {
    case PayoutStatus::kSuccess: return "2";
    case PayoutStatus::kDeclined: return "6";
    case PayoutStatus::kProcessing: break;
  }
  return o.stage == OrderStage::kRegistered ? "0" : "1";
}

std::string_view decline_message(std::string_view code, bool en) {
  if (code == engine::kDeclineCardDeclined) return en ? "Declined by the issuer" : "Отказ эмитента";
  if (code == engine::kDeclineInsufficientFunds) {
    return en ? "Insufficient funds on the payout balance" : "Недостаточно средств на балансе";
  }
  if (code == engine::kDeclineExpired) return en ? "The session has expired" : "Время сессии истекло";
  if (engine::is_card_limit(code) || code == engine::kDeclineLimitExceeded) {
    return en ? "Payout limit exceeded" : "Превышен лимит выплат";
  }
  return en ? "Declined" : "Отказ";
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

}  // namespace

std::string Dialect::knp_of(const Partner& partner) const {
  return cards_.corporate().knp(tenant_of(partner.id)).value_or(partner.knp);
}

std::string tenant_of(std::string_view partner_id) {
  std::string tenant(kTenantPrefix);
  tenant.append(partner_id);
  return tenant;
}

std::string page_language(std::string_view requested) {
  std::string lang;
  for (char c : requested) lang.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  if (lang == "en" || lang == "kk" || lang == "ru") return lang;
  return "ru";
}

std::string form_url(std::string_view base, std::string_view language, std::string_view order_id) {
  std::string url(base);
  url.append("/payouts/payment/payment_").append(page_language(language));
  url.append(".html?mdOrder=").append(order_id);
  return url;
}

// One API call: what every method needs to answer it.
struct Dialect::Call {
  MethodInfo method;
  json::Value body;
  const Partner* partner = nullptr;
  http::Responder respond;

  void fail(const Problem& p) const { respond(error(p.status, p.code, p.message)); }
};

Dialect::Dialect(engine::CardPayouts& cards, Options options)
    : cards_(cards), options_(std::move(options)), throttle_(options_.throttle) {}

void Dialect::set_public_url(std::string url) {
  if (options_.public_url.empty()) options_.public_url = std::move(url);
}

const Partner* Dialect::partner_of_tenant(std::string_view tenant) const {
  for (const Partner& p : options_.partners) {
    if (tenant_of(p.id) == tenant) return &p;
  }
  return nullptr;
}

bool Dialect::handle(http::Request& request, const http::Responder& respond) {
  const std::string_view path = request.path();
  if (!path.starts_with("/payouts/api/")) return false;
  switch (request.problem) {
    case http::RequestProblem::kNone: break;
    case http::RequestProblem::kBodyTooLarge:
    case http::RequestProblem::kHeaderTooLarge:
      respond(error(413, "98", "Invalid request"));
      return true;
    case http::RequestProblem::kMalformed:
      respond(error(400, "98", "Invalid request"));
      return true;
  }
  const std::string_view name = path.starts_with(kPrefix) ? path.substr(kPrefix.size()) : "";
  static constexpr MethodInfo kMethods[] = {
      {"getAmount.do", "GetAmountRequest"},
      {"registerPayout.do", "RegisterPayoutRequest"},
      {"performPayout.do", "PerformPayoutRequest"},
      {"getPayoutStatus.do", "GetPayoutStatusRequest"},
  };
  if (name == "echo") {
    if (request.method != "GET" && request.method != "HEAD") {
      http::Response r = error(405, "98", "Invalid request");
      r.headers.emplace_back("Allow", "GET");
      respond(std::move(r));
      return true;
    }
    http::Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Payout v2.3 is online in channel Payout_APIserver - " + options_.node +
             "[instance:" + options_.instance + "]";
    respond(std::move(r));
    return true;
  }
  const MethodInfo* method = nullptr;
  for (const MethodInfo& m : kMethods) {
    if (m.name == name) method = &m;
  }
  if (!method) {
    http::Response r;
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "Not Found";
    respond(std::move(r));
    return true;
  }
  if (request.method != "POST") {
    http::Response r = error(405, "98", "Invalid request");
    r.headers.emplace_back("Allow", "POST");
    respond(std::move(r));
    return true;
  }
  Call call{*method, {}, nullptr, respond};
  const std::string not_set = "Errors while parsing incoming request: " +
                              std::string(method->message_type) + " is not set for method " +
                              std::string(method->name);
  std::string_view body = request.body;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' ||
                           body.front() == '\t')) {
    body.remove_prefix(1);
  }
  if (body.empty()) {
    call.fail({400, "98", not_set});
    return true;
  }
  json::Limits limits;
  limits.trailing_commas = true;  // the seed's registerPayout example has one (docs/bereke.md)
  limits.depth_max = 8;
  json::ParseResult parsed = json::parse(request.body, limits);
  if (!parsed.value) {
    call.fail({500, "99", "Failed to parse incoming request for " + std::string(method->message_type)});
    return true;
  }
  if (!parsed.value->is_object()) {
    call.fail({400, "98", not_set});
    return true;
  }
  call.body = std::move(*parsed.value);

  // Credentials: "userName" as the tables say, or "username" as the examples write it.
  auto credential = [&](std::initializer_list<std::string_view> names) -> std::optional<std::string> {
    for (std::string_view n : names) {
      const json::Value* v = call.body.find(n);
      if (v && v->is_string() && !v->as_string().empty()) return v->as_string();
    }
    return std::nullopt;
  };
  const auto user = credential({"userName", "username"});
  const auto password = credential({"password"});
  if (!user || !password) {
    call.fail({400, "98", "userName and password are mandatory fields"});
    return true;
  }
  // Guessing is throttled per (userName, address) and per address, known user or not
  // (core/throttle.h); the right password waits out a delay as a wrong one does.
  const std::int64_t now_ms = SystemClock().now_ms();
  if (const std::int64_t wait_ms = throttle_.wait_ms(*user, request.peer_address, now_ms); wait_ms > 0) {
    const std::int64_t seconds = http::retry_after_seconds(wait_ms);
    http::Response r = error(429, "90", "Too many failed authentication attempts: retry in " +
                                            std::to_string(seconds) + " s");
    http::set_retry_after(r, seconds);
    respond(std::move(r));
    return true;
  }
  for (const Partner& p : options_.partners) {
    // Every partner is compared, so the time taken does not tell which user names exist.
    const bool user_ok = secrets_equal(p.user_name, *user);
    const bool password_ok = secrets_equal(p.password, *password);
    if (user_ok && password_ok) call.partner = &p;
  }
  if (!call.partner) {
    throttle_.failed(*user, request.peer_address, now_ms);
    call.fail({401, "90", "User not authenticated"});
    return true;
  }
  throttle_.succeeded(*user, request.peer_address);
  if (name == "getAmount.do") get_amount(call);
  if (name == "registerPayout.do") register_payout(call);
  if (name == "performPayout.do") perform_payout(call);
  if (name == "getPayoutStatus.do") payout_status(call);
  return true;
}

namespace {

const Problem kBadSource{400, "98",
                         "Source is not specified or is incorrect compared to configured debit tools"};
const Problem kBadDebitMethod{400, "98",
                              "Payout config error: debit method is incorrect for specified payout type"};
const Problem kNoSettings{500, "99", "No merchant settings available"};

// The partner may fund this way: from a corporate card (source given) or its transit account.
bool debit_method_allowed(const Partner& p, const std::string& source) {
  return source.empty() ? p.transit_funding : p.card_funding;
}

// source.bindingId, when given.
std::optional<std::string> read_source(Reader& in) {
  std::string binding;
  if (const json::Value* source = in.object(in.body(), "source")) {
    in.text(*source, "bindingId", "source.bindingId", &binding, true, kBindingPattern,
            is_binding_id);
  }
  if (in.problem) return std::nullopt;
  return binding;
}

}  // namespace

void Dialect::get_amount(Call& call) {
  Reader in(call.body);
  const auto read = read_source(in);
  if (!read) return call.fail(*in.problem);
  const std::string tenant = tenant_of(call.partner->id);
  const std::optional<std::string> source = read->empty() ? cards_.corporate().primary_card(tenant) : *read;
  if (!debit_method_allowed(*call.partner, *source)) return call.fail(kBadDebitMethod);
  auto account = cards_.corporate().funding_account(tenant, *source);
  // No transit account: the partner is configured but its accounts were never set up.
  if (!account) return call.fail(source->empty() ? kNoSettings : kBadSource);
  std::string body;
  json::Writer w(body);
  const std::int64_t available = account->available();
  w.begin_object().key("errorCode").string("0").key("balanceDescriptionList").begin_object();
  w.key("balanceAmount").integer(available < 0 ? -available : available);
  w.key("balanceCurrency").string(kCurrencyKzt);
  w.key("balanceSign").string(available < 0 ? "D" : "C");
  w.end_object().end_object();
  cards_.engine().after_durable([respond = call.respond, body = std::move(body)]() mutable {
    respond(answer(200, std::move(body)));
  });
}

namespace {

// The engine's answer to a registration or a payout, in the dialect's words.
void answer_result(const http::Responder& respond, CardPayoutResult r, bool hosted,
                   const std::string& base_url, std::string language,
                   std::string_view rail_name, bool from_card) {
  switch (r.error) {
    case Error::kNone: break;
    case Error::kIdConflict:
      return respond(error(400, "1", "Order with this number was already processed"));
    case Error::kSourceNotFound: {
      const Problem& p = from_card ? kBadSource : kNoSettings;
      return respond(error(p.status, p.code, p.message));
    }
    case Error::kDestinationNotFound:
      return respond(error(502, "99", "Unable to get card data for specified bindingId"));
    case Error::kCurrencyMismatch:
      return respond(error(400, "98", "Currency does not match required pattern"));
    case Error::kUnavailable:
      return respond(error(504, "91", "Timeout when requesting payout-store"));
    case Error::kNotFound:
    case Error::kNotOpen:  // the page's refusals, never a registration's or a payout's
    case Error::kNoCode:
    case Error::kCodeExpired:
    case Error::kWrongCode:
    case Error::kTooManyCodes:
    case Error::kNoCard:
    case Error::kUnknownCard:
      return respond(error(500, "99", "There was an error getting gateway parameters"));
  }
  if (r.rail_timeout) {
    return respond(error(504, "91", "Timeout when requesting " + std::string(rail_name)));
  }
  http::Response response;
  if (hosted) {
    json::Writer w(response.body);
    w.begin_object();
    w.key("errorCode").string("0");
    w.key("orderNumber").string(r.payout.partner_id);
    w.key("orderId").string(r.order.order_id);
    w.key("formUrl").string(form_url(base_url, r.order.language, r.order.order_id));
    w.end_object();
  } else {
    response.render_body = [r = std::move(r), language = std::move(language)](std::string& out) {
      out = render_order(r, language);
    };
  }
  respond(std::move(response));
}

std::string canonical_of(const OrderFields& f, std::string_view source, std::string_view knp) {
  std::string c;
  for (const std::string_view part :
       {std::string_view(f.description), std::string_view(f.client_id), std::string_view(f.email),
        std::string_view(f.phone), std::string_view(f.name), std::string_view(f.return_url),
        std::string_view(f.fail_url), std::string_view(f.timeout_text),
        std::string_view(f.params_json), source, knp}) {
    c.append(part).append(1, engine::kFieldSeparator);
  }
  return c;
}

// The engine's request for an order's fields, as registerPayout and performPayout share them.
// `source`: as the request named it (the replay's fingerprint); `funding`: the card that pays,
// the primary card when the request named none; `knp`: the partner's KNP now (the cabinet's).
engine::CardPayoutRequest order_request(const Partner& partner, const OrderFields& f,
                                        const std::string& source, const std::string& funding,
                                        std::string knp) {
  engine::CardPayoutRequest r;
  r.tenant = tenant_of(partner.id);
  r.partner_id = f.order_number;
  r.amount = {std::stoll(f.amount_text), *Currency::from_code("KZT")};
  r.canonical = canonical_of(f, source, partner.knp);
  CardOrder& o = r.order;
  o.client_id = f.client_id;
  o.email = f.email;
  o.phone = f.phone;
  o.name = f.name;
  o.description = f.description;
  o.params_json = f.params_json;
  o.source_binding = funding;
  o.knp = std::move(knp);
  o.fee = partner.fee;
  return r;
}

}  // namespace

void Dialect::register_payout(Call& call) {
  Reader in(call.body);
  OrderFields f;
  read_order_fields(in, f);
  if (in.problem) return call.fail(*in.problem);
  const std::string tenant = tenant_of(call.partner->id);
  const std::string funding = cards_.corporate().primary_card(tenant);
  if (!debit_method_allowed(*call.partner, funding)) return call.fail(kBadDebitMethod);
  engine::CardPayoutRequest r = order_request(*call.partner, f, {}, funding, knp_of(*call.partner));
  r.hosted = true;
  const std::int64_t timeout_s =
      f.timeout_text.empty() ? options_.session_timeout_default_s : std::stoll(f.timeout_text);
  r.session_timeout_ms = timeout_s * 1000;
  CardOrder& o = r.order;
  o.language = f.language.empty() ? "ru" : page_language(f.language);
  o.return_url = f.return_url;
  o.fail_url = f.fail_url;
  cards_.submit(std::move(r), [respond = call.respond, base = options_.public_url,
                               rail = std::string(cards_.rail_name())](CardPayoutResult result) {
    answer_result(respond, std::move(result), true, base, {}, rail, false);
  });
}

void Dialect::perform_payout(Call& call) {
  Reader in(call.body);
  OrderFields f;
  read_order_fields(in, f);
  const auto source = read_source(in);
  std::string target_binding, pan;
  bool pan_given = false;
  if (!in.problem) {
    const json::Value* target = in.object(call.body, "target");
    if (!in.problem && !target) in.problem = required("target");
    if (target) {
      const json::Value* card = in.object(*target, "card");
      const json::Value* pan_holder = card ? card : target;
      const std::string pan_path = card ? "target.card.pan" : "target.pan";
      const bool has_binding = in.member(*target, "bindingId") != nullptr;
      const bool has_pan = in.member(*pan_holder, "pan") != nullptr;
      if (!in.problem && has_binding == has_pan) {
        in.problem = has_binding ? invalid_request() : required("target.card.pan");
      }
      if (!in.problem && has_binding) {
        in.text(*target, "bindingId", "target.bindingId", &target_binding, true, kBindingPattern,
                is_binding_id);
      }
      if (!in.problem && has_pan) {
        const json::Value* v = in.member(*pan_holder, "pan");
        if (!v->is_string()) {
          in.problem = mismatch(pan_path, kPanPattern);
        } else {
          pan = v->as_string();
          pan_given = true;
        }
      }
    }
  }
  if (in.problem) return call.fail(*in.problem);
  const std::string funding = source->empty() ? cards_.corporate().primary_card(tenant_of(call.partner->id)) : *source;
  if (!debit_method_allowed(*call.partner, funding)) return call.fail(kBadDebitMethod);
  cards::Issuer issuer;
  if (pan_given) {
    if (pan.empty() || !cards::all_digits(pan)) {
      return call.fail({502, "400", "Invalid request: bin is empty or is not numeric"});
    }
    if (pan.size() < cards::kPanDigitsMin || pan.size() > cards::kPanDigitsMax) {
      return call.fail(mismatch("target.card.pan", kPanPattern));
    }
    if (!cards::luhn_valid(pan)) return call.fail({502, "204", "Unsupported pan"});
    auto found = cards_.bins().find(pan);
    if (!found) {
      return call.fail({502, "204", "Cannot find any bin range in db for " + pan.substr(0, 6)});
    }
    bool allowed = false;
    for (const std::string& country : call.partner->card_countries) allowed |= country == found->country;
    if (!allowed) return call.fail({400, "98", std::string(kCardAffiliation)});
    issuer = std::move(*found);
  }
  engine::CardPayoutRequest r = order_request(*call.partner, f, *source, funding, knp_of(*call.partner));
  r.pan = std::move(pan);
  r.issuer = std::move(issuer);
  r.target_binding = target_binding;
  r.order.cardholder = f.name;
  r.order.language = f.language;
  cards_.submit(std::move(r), [respond = call.respond, language = f.language,
                               rail = std::string(cards_.rail_name()),
                               from_card = !source->empty()](CardPayoutResult result) {
    answer_result(respond, std::move(result), false, {}, language, rail, from_card);
  });
}

void Dialect::payout_status(Call& call) {
  Reader in(call.body);
  std::string order_id, order_number, language;
  in.text(call.body, "orderId", "orderId", &order_id, false, kOrderIdPattern,
          [](std::string_view s) {
            return matches_chars(s, 36, 36, [](char c) {
              return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
            });
          });
  in.text(call.body, "orderNumber", "orderNumber", &order_number, false, kOrderNumberPattern,
          is_order_number);
  in.text(call.body, "language", "language", &language, false, kLanguagePattern,
          [](std::string_view s) { return s.size() == 2; });
  if (in.problem) return call.fail(*in.problem);
  if (order_id.empty() && order_number.empty()) {
    return call.fail({400, "98", "No order identification provided to find order in database"});
  }
  const std::string tenant = tenant_of(call.partner->id);
  CardPayoutResult r;
  if (!order_id.empty()) {
    for (char& c : order_id) c = static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c);
    std::string owner;
    r = cards_.get_by_order_id(order_id, kTenantPrefix, &owner);
    if (r.error == Error::kNone && owner != tenant) r.error = Error::kNotFound;
  } else {
    r = cards_.get(tenant, order_number);
  }
  if (r.error != Error::kNone) {
    return call.fail({400, "98", "Order not found in payout proxy. Check orderId or orderNumber"});
  }
  std::string body = render_order(r, language);
  cards_.engine().after_durable([respond = call.respond, body = std::move(body)]() mutable {
    respond(answer(200, std::move(body)));
  });
}

}  // namespace payoutd::providers::bereke
