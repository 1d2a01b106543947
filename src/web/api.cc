#include "web/api.h"

#include "http/query.h"

namespace payoutd::web {

std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    if (raw.empty()) return std::nullopt;
    auto decoded = http::percent_decode(raw);
    if (!decoded) return std::nullopt;
    segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return std::nullopt;  // trailing slash
  }
  return segments;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char a = authorization[i];
    const char b = kScheme[i];
    if ((a | 0x20) != (b | 0x20)) return std::nullopt;  // scheme is case-insensitive
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

bool is_partner_id(std::string_view id, std::size_t max_size) {
  if (id.empty() || id.size() > max_size) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  // "." and ".." are path segments to every proxy, cache and log tool between the partner and us
  // (a normalising proxy turns /transactions/.. into the parent path): an id of dots alone is
  // refused, so an id is always a name.
  return id.find_first_not_of('.') != std::string_view::npos;
}

bool Fields::fail(std::string_view name, std::string_view what) {
  *error_ = prefix_;
  error_->append(name).append(": ").append(what);
  return false;
}

bool Fields::string(std::string_view name, std::size_t size_max, std::string* out, bool required) {
  const json::Value* v = object_.find(name);
  if (!v || v->is_null()) {
    if (!required) return true;
    return fail(name, "is required");
  }
  if (!v->is_string()) return fail(name, "must be a string");
  const std::string& s = v->as_string();
  if (s.empty()) return fail(name, "must not be empty");
  if (s.size() > size_max) {
    return fail(name, "must be at most " + std::to_string(size_max) + " bytes");
  }
  *out = s;
  return true;
}

bool Fields::object(std::string_view name, const json::Value** out) {
  const json::Value* v = object_.find(name);
  if (!v || v->is_null()) return fail(name, "is required");
  if (!v->is_object()) return fail(name, "must be an object");
  *out = v;
  return true;
}

bool Fields::currency(std::string_view name, Currency* out) {
  std::string code;
  if (!string(name, 3, &code)) return false;
  auto c = Currency::from_code(code);
  if (!c) return fail(name, "is not a supported ISO 4217 currency code");
  *out = *c;
  return true;
}

bool Fields::amount(std::string_view name, Currency currency, std::int64_t* minor) {
  const json::Value* v = object_.find(name);
  if (!v || v->is_null()) return fail(name, "is required");
  std::string_view text;
  if (v->is_number()) {
    text = v->number_text();
  } else if (v->is_string()) {
    text = v->as_string();
  } else {
    return fail(name, "must be a decimal number or a string holding one");
  }
  const DecimalParse parsed = parse_decimal(text, currency.exponent());
  if (parsed.error != DecimalError::kNone) return fail(name, describe(parsed.error));
  if (parsed.minor < 0) return fail(name, "must not be negative");
  *minor = parsed.minor;
  return true;
}

bool Fields::positive_amount(std::string_view name, Currency currency, std::int64_t* minor) {
  if (!amount(name, currency, minor)) return false;
  if (*minor == 0) return fail(name, "must be greater than zero");
  return true;
}

std::optional<json::Value> parse_object(std::string_view body, std::string* error) {
  if (body.empty()) {
    *error = "body: a JSON object is required";
    return std::nullopt;
  }
  json::ParseResult parsed = json::parse(body);
  if (!parsed.value) {
    *error = "body: malformed JSON at byte " + std::to_string(parsed.error.offset) + ": " +
             parsed.error.message;
    return std::nullopt;
  }
  if (!parsed.value->is_object()) {
    *error = "body: must be a JSON object";
    return std::nullopt;
  }
  return std::move(parsed.value);
}

void write_amount(json::Writer& w, std::string_view key, std::int64_t minor, Currency currency) {
  std::string value;
  append_decimal(value, minor, currency.exponent());
  w.key(key).begin_object();
  w.key("value").number_raw(value).key("currency").string(currency.code());
  w.end_object();
}

Fields Fields::nested(std::string_view name, const json::Value& object) const {
  return Fields(object, prefix_ + std::string(name) + ".", error_);
}

bool parse_amount_object(Fields& fields, std::string_view name, bool allow_zero, Amount* out) {
  const json::Value* amount = nullptr;
  if (!fields.object(name, &amount)) return false;
  Fields inner = fields.nested(name, *amount);
  Currency currency;
  if (!inner.currency("currency", &currency)) return false;
  std::int64_t minor = 0;
  const bool ok = allow_zero ? inner.amount("value", currency, &minor)
                             : inner.positive_amount("value", currency, &minor);
  if (!ok) return false;
  *out = Amount{minor, currency};
  return true;
}

}  // namespace payoutd::web
