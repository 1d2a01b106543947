#pragma once
// The Bereke API's requests read and checked, member by member in the seed's order: the first
// problem is the request's answer (api_answers.h), in the seed's words byte for byte
// (docs/bereke.md, "Errors"); nothing of a request with a problem is used.
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "providers/bereke/api_answers.h"

namespace payoutd::providers::bereke::api {

// The pattern a "does not match required pattern" answer names for a card number.
inline constexpr std::string_view kPanPattern = "^[0-9]{13,19}$";

// A binding id as the API takes it (source.bindingId, target.bindingId) and the card page's
// choice of a saved card: ^[0-9A-Za-z-]{1,64}$.
bool is_binding_id(std::string_view s);

// "<name> is а required parameter" (with the seed's Cyrillic "а").
Problem required(std::string_view name);
// "<name> does not match required pattern <pattern>".
Problem mismatch(std::string_view name, std::string_view pattern);

// A method's body into *out: a JSON object (trailing commas allowed, as the seed's example has
// one; 8 levels deep at most), its problems naming the method and its request type
// ("performPayout.do", "PerformPayoutRequest").
std::optional<Problem> parse_body(std::string_view text, std::string_view method,
                                  std::string_view message_type, json::Value* out);

// "userName" (or "username", as the examples write it) and "password", neither empty.
struct Credentials {
  std::string user, password;
};
std::optional<Credentials> read_credentials(const json::Value& body);

// The fields registerPayout.do and performPayout.do share.
struct OrderFields {
  std::string order_number, amount_text, currency, description, language;
  std::string client_id, email, phone, name;
  std::string return_url, fail_url, timeout_text;
  std::string params_json;
};

// performPayout.do's fields: the order's, the source (empty: none named), and the target, a
// binding or a card number (as given: the method checks it against the BIN table).
struct PayoutFields {
  OrderFields order;
  std::string source;
  std::string target_binding;
  std::string pan;
  bool pan_given = false;
};

// getPayoutStatus.do's: an order id (lower-cased) or an order number, at least one of them.
struct StatusQuery {
  std::string order_id, order_number, language;
};

// Each reads a method's `body` into its fields: the request's first problem, or nullopt.
std::optional<Problem> read_source(const json::Value& body, std::string* binding);  // getAmount.do
std::optional<Problem> read_order(const json::Value& body, OrderFields* f);    // registerPayout.do
std::optional<Problem> read_payout(const json::Value& body, PayoutFields* f);  // performPayout.do
std::optional<Problem> read_status_query(const json::Value& body, StatusQuery* q);

}  // namespace payoutd::providers::bereke::api
