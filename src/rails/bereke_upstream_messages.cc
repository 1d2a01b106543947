// The upstream Bereke connector's messages: the requests it sends to a Payouts Module v2 and what
// it reads from the answers (rails/bereke_upstream.h; docs/rails.md, "Upstream Bereke").
#include <spdlog/spdlog.h>

#include "core/json.h"
#include "rails/bereke_upstream.h"
#include "rails/log_text.h"

namespace payoutd::rails::bereke_upstream {

namespace {

constexpr std::size_t kOrderNumberCharsMax = 32;  // the module's orderNumber: String [32]
constexpr std::size_t kClientNameCharsMax = 24;   // client.name: String [24], Latin letters
constexpr std::size_t kLogMessageBytesMax = 160;
constexpr std::string_view kCurrencyKzt = "398";  // the module pays tenge only

bool alphanumeric(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// The cardholder as client.name when it fits the module's pattern (Latin letters, space, . ' -,
// at most 24); empty otherwise: the module then pays without a name rather than refusing.
std::string client_name(std::string_view cardholder) {
  while (!cardholder.empty() && cardholder.front() == ' ') cardholder.remove_prefix(1);
  while (!cardholder.empty() && cardholder.back() == ' ') cardholder.remove_suffix(1);
  if (cardholder.empty() || cardholder.size() > kClientNameCharsMax) return {};
  for (char c : cardholder) {
    const bool latin = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!latin && c != ' ' && c != '.' && c != '\'' && c != '-') return {};
  }
  return std::string(cardholder);
}

void write_credentials(json::Writer& w, const BerekeUpstreamOptions& options) {
  w.key("userName").string(options.user_name);
  w.key("password").string(options.password);
}

// A string member, or an integer one as its digits (the seed's examples and tables disagree on
// which `orderStatus` and `resultCode` are).
std::string text_of(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (!v) return {};
  if (v->is_string()) return v->as_string();
  if (auto n = v->as_int64()) return std::to_string(*n);
  return {};
}

// The operation that decided the order: the last of operationList.
const json::Value* last_operation(const json::Value& order) {
  const json::Value* list = order.find("operationList");
  if (!list || !list->is_array() || list->as_array().empty()) return nullptr;
  const json::Value& last = list->as_array().back();
  return last.is_object() ? &last : nullptr;
}

std::string summary_of(int http_status, std::string_view code, std::string_view message) {
  std::string out = "HTTP " + std::to_string(http_status);
  if (!code.empty()) out += " " + shortened(code, 8);
  if (!message.empty()) out += ": " + shortened(message, kLogMessageBytesMax);
  return without_card_numbers(out);
}

Read answered(Outcome outcome, std::string code, std::string text, std::int64_t at_ms) {
  Read r;
  r.reading = Reading::kAnswer;
  r.answer = Answer{outcome, {}, std::move(code), std::move(text), at_ms};
  return r;
}

// An order (errorCode "0"): what its orderStatus and its last operation say.
Read read_order(const json::Value& order, std::string_view order_number, std::int64_t now_ms) {
  const std::string number = text_of(order, "orderNumber");
  if (!number.empty() && number != order_number) return {};  // not ours: unreadable
  std::string status = text_of(order, "orderStatus");
  if (status.empty()) status = text_of(order, "OrderStatus");  // the tables' spelling
  const json::Value* operation = last_operation(order);
  std::string code = operation ? text_of(*operation, "resultCode") : std::string();
  std::string text = operation ? text_of(*operation, "resultCodeDescription") : std::string();
  if (text.empty()) text = text_of(order, "errorMessage");
  std::int64_t at_ms = now_ms;
  if (const json::Value* date = operation ? operation->find("operationDate") : nullptr) {
    if (auto ms = date->as_int64(); ms && *ms > 0) at_ms = *ms;
  }
  if (status == "2") {
    Read r = answered(Outcome::kApproved, {}, std::move(text), at_ms);
    r.answer.approval = operation ? text_of(*operation, "refNum") : std::string();
    return r;
  }
  if (status == "6") return answered(Outcome::kDeclined, std::move(code), std::move(text), at_ms);
  if (status == "3" || status == "4") {  // cancelled, refunded: never on payouts, per the seed
    spdlog::warn("bereke upstream: order {} answered orderStatus {}: treated as declined",
                 order_number, status);
    return answered(Outcome::kDeclined, status,
                    status == "3" ? "the authorization was cancelled" : "the payout was refunded",
                    at_ms);
  }
  if (status == "0" || status == "1" || status == "5") {
    return answered(Outcome::kProcessing, {}, "the payout is in progress at the bank", 0);
  }
  return {};
}

// An error row of the seed's table (HTTP status, errorCode, errorMessage): what it says about the
// credit (docs/rails.md has the table).
Read read_error(int http_status, const std::string& code, const std::string& message) {
  Read r;
  const auto says = [&message](std::string_view words) {
    return message.find(words) != std::string::npos;
  };
  const bool card_refused = code == "204" || (http_status == 502 && code == "400") ||
                            (code == "98" && (says("ard affiliation does not match") ||
                                              says("Currency does not match") || says("Mrbin"))) ||
                            (code == "99" && says("3DS authorization"));
  if (card_refused) {
    r = answered(Outcome::kDeclined, code, message, 0);
  } else if (code == "98" && says("Order not found")) {
    r.reading = Reading::kOrderNotFound;
  } else if (code == "1" && http_status == 400) {  // "Order with this number was already processed"
    r.reading = Reading::kOrderExists;
  } else if ((http_status == 400 && code == "98") || http_status == 401 || http_status == 404 ||
             http_status == 429 ||
             (code == "99" && (says("No merchant settings") || says("Failed to parse")))) {
    r.reading = Reading::kRefused;
  } else {
    r.reading = Reading::kFailed;  // 504/91, the gateways' 5xx, anything not in the table
  }
  return r;
}

}  // namespace

std::string order_number(std::string_view reference) {
  std::string out;
  for (char c : reference) {
    if (c == '-') continue;
    if (!alphanumeric(c)) return {};
    out += c;
  }
  return out.size() <= kOrderNumberCharsMax ? out : std::string();
}

std::string payout_body(const CreditOrder& order, const BerekeUpstreamOptions& options,
                        std::string* problem) {
  const std::string number = order_number(order.reference);
  if (number.empty()) {
    *problem = "the reference gives no orderNumber the module takes (32 characters of [0-9A-Za-z])";
    return {};
  }
  std::string out;
  json::Writer w(out);
  w.begin_object();
  write_credentials(w, options);
  w.key("orderNumber").string(number);
  w.key("amount").integer(order.amount.minor);
  w.key("currency").string(kCurrencyKzt);
  if (const std::string name = client_name(order.cardholder); !name.empty()) {
    w.key("client").begin_object().key("name").string(name).end_object();
  }
  w.key("target").begin_object().key("card").begin_object().key("pan").string(order.pan);
  w.end_object().end_object();
  w.end_object();
  return out;
}

std::string status_body(std::string_view order_number, const BerekeUpstreamOptions& options) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  write_credentials(w, options);
  w.key("orderNumber").string(order_number);
  w.end_object();
  return out;
}

Read read_answer(int http_status, std::string_view body, std::string_view order_number,
                 std::int64_t now_ms) {
  json::ParseResult parsed = json::parse(body);
  const json::Value* document =
      parsed.value && parsed.value->is_object() ? &*parsed.value : nullptr;
  const std::string code = document ? text_of(*document, "errorCode") : std::string();
  const std::string message = document ? text_of(*document, "errorMessage") : std::string();
  Read r;
  if (http_status == 200 && code == "0") {
    r = read_order(*document, order_number, now_ms);
  } else if (http_status == 401 || http_status == 404 || http_status == 429 ||
             (document && !code.empty())) {
    r = read_error(http_status, code, message);
  }
  r.summary = summary_of(http_status, code, message);
  return r;
}

}  // namespace payoutd::rails::bereke_upstream
