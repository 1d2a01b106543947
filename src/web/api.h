#pragma once
// Helpers every dialect shares: path segments, bearer tokens, typed JSON member access with
// precise error messages, and decimal amounts parsed from their literal text.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/money.h"
#include "core/secrets.h"  // secrets_equal: every credential is compared with it

namespace payoutd::web {

// Splits "/a/b%20c" into {"a", "b c"}, percent-decoding each segment. nullopt on a malformed
// escape, an empty segment ("//", trailing "/") or a decoded NUL.
std::optional<std::vector<std::string>> split_path(std::string_view path);

// "Bearer <token>" -> token; nullopt for a missing header or another scheme.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// True for 1..max_size characters of [A-Za-z0-9._-], not all of them dots ("." and ".." are path
// segments, not names): the partner ids payoutd accepts in paths and bodies.
bool is_partner_id(std::string_view id, std::size_t max_size = 64);

// Typed member access. On failure each returns false and sets *error to a message that names
// the member by `path` (e.g. "transactionAmount.currency: must be a string").
class Fields {
 public:
  Fields(const json::Value& object, std::string prefix, std::string* error)
      : object_(object), prefix_(std::move(prefix)), error_(error) {}

  bool string(std::string_view name, std::size_t size_max, std::string* out, bool required = true);
  bool object(std::string_view name, const json::Value** out);
  // A decimal amount in `currency` given as a JSON number or a JSON string, strictly positive.
  bool positive_amount(std::string_view value_name, Currency currency, std::int64_t* minor);
  // An amount that may be zero (fees, commissions).
  bool amount(std::string_view value_name, Currency currency, std::int64_t* minor);
  bool currency(std::string_view name, Currency* out);
  bool fail(std::string_view name, std::string_view what);
  // Fields of a nested object, reported as "<prefix><name>.<member>".
  Fields nested(std::string_view name, const json::Value& object) const;

 private:
  const json::Value& object_;
  std::string prefix_;
  std::string* error_;
};

// Parses a request body that must be a JSON object. On failure sets *error.
std::optional<json::Value> parse_object(std::string_view body, std::string* error);

// Writes "key":{"value":<decimal as a JSON number>,"currency":"RUB"}.
void write_amount(json::Writer& w, std::string_view key, std::int64_t minor, Currency currency);

// Reads {"value": ..., "currency": ...} at `name` into an Amount; positive unless allow_zero.
bool parse_amount_object(Fields& fields, std::string_view name, bool allow_zero, Amount* out);

}  // namespace payoutd::web
