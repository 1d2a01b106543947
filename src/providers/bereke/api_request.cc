#include "providers/bereke/api_request.h"

#include "web/api.h"

namespace payoutd::providers::bereke::api {
namespace {

// The seed's messages, byte for byte: "is а required" has a Cyrillic "а" (U+0430).
constexpr std::string_view kRequiredSuffix = " is \xD0\xB0 required parameter";

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
constexpr std::string_view kOrderIdPattern = "^[0-9a-f-]{36}$";
constexpr std::string_view kParamPattern = "^.{0,1024}$";
constexpr std::size_t kParamsMax = 50;
constexpr std::size_t kParamNameMax = 64;
constexpr std::size_t kBodyDepthMax = 8;

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

// client: the recipient as the partner knows it.
void read_client(Reader& in, const json::Value& client, OrderFields& f) {
  in.text(client, "clientId", "client.clientId", &f.client_id, false, kClientIdPattern,
          [](std::string_view s) {
            return utf8_length(s) <= 64 && s.find('\x1f') == std::string_view::npos;
          });
  in.text(client, "email", "client.email", &f.email, false, kEmailPattern, [](std::string_view s) {
    const auto at = s.find('@');
    return s.size() <= 30 && at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
           s.find('@', at + 1) == std::string_view::npos &&
           s.find_first_of(" \t\r\n") == std::string_view::npos;
  });
  in.text(client, "phone", "client.phone", &f.phone, false, kPhonePattern, [](std::string_view s) {
    return matches_chars(s, 1, 15, [](char c) { return c >= '0' && c <= '9'; });
  });
  in.text(client, "name", "client.name", &f.name, false, kNamePattern, [](std::string_view s) {
    return matches_chars(s, 1, 24, [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '.' ||
             c == '\'' || c == '-';
    });
  });
}

// urls: where the hosted page sends the recipient back.
void read_urls(Reader& in, const json::Value& urls, OrderFields& f) {
  auto url_ok = [](std::string_view s) {
    const bool scheme = s.starts_with("https://") || s.starts_with("http://");
    const std::size_t rest = s.size() - (s.starts_with("https://") ? 8 : 7);
    return scheme && rest >= 1 && s.size() <= 508 &&
           s.find_first_of(" \t\r\n\"<>") == std::string_view::npos;
  };
  in.text(urls, "returnUrl", "urls.returnUrl", &f.return_url, true, kUrlPattern, url_ok);
  in.text(urls, "failUrl", "urls.failUrl", &f.fail_url, false, kUrlPattern, url_ok);
}

// jsonParams: the partner's own parameters, kept as a JSON object of strings.
void read_params(Reader& in, const json::Value& params, OrderFields& f) {
  const auto& members = params.as_object();
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
    if (!in.text(params, key, path, &text, false, kParamPattern,
                 [](std::string_view s) { return utf8_length(s) <= 1024; })) {
      return;
    }
    w.key(key).string(text);
  }
  w.end_object();
}

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
    return matches_chars(s, 2, 2,
                         [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
  });
  if (const json::Value* client = in.object(b, "client")) read_client(in, *client, f);
  in.text(b, "sessionTimeoutSecs", "sessionTimeoutSecs", &f.timeout_text, false, kTimeoutPattern,
          [](std::string_view s) {
            return s[0] != '0' &&
                   matches_chars(s, 1, 6, [](char c) { return c >= '0' && c <= '9'; });
          });
  if (const json::Value* urls = in.object(b, "urls")) read_urls(in, *urls, f);
  if (const json::Value* params = in.object(b, "jsonParams")) read_params(in, *params, f);
}

// source.bindingId, when given.
void read_source_binding(Reader& in, std::string* binding) {
  if (const json::Value* source = in.object(in.body(), "source")) {
    in.text(*source, "bindingId", "source.bindingId", binding, true, kBindingPattern,
            is_binding_id);
  }
}

// target: a bindingId, or a card number ("target.card.pan", or "target.pan"), not both.
void read_target(Reader& in, PayoutFields& f) {
  const json::Value* target = in.object(in.body(), "target");
  if (!in.problem && !target) in.problem = required("target");
  if (!target) return;
  const json::Value* card = in.object(*target, "card");
  const json::Value* pan_holder = card ? card : target;
  const std::string pan_path = card ? "target.card.pan" : "target.pan";
  const bool has_binding = in.member(*target, "bindingId") != nullptr;
  const bool has_pan = in.member(*pan_holder, "pan") != nullptr;
  if (!in.problem && has_binding == has_pan) {
    in.problem = has_binding ? invalid_request() : required("target.card.pan");
  }
  if (!in.problem && has_binding) {
    in.text(*target, "bindingId", "target.bindingId", &f.target_binding, true, kBindingPattern,
            is_binding_id);
  }
  if (!in.problem && has_pan) {
    const json::Value* v = in.member(*pan_holder, "pan");
    if (!v->is_string()) {
      in.problem = mismatch(pan_path, kPanPattern);
    } else {
      f.pan = v->as_string();
      f.pan_given = true;
    }
  }
}

bool all_whitespace(std::string_view s) {
  return s.find_first_not_of(" \n\r\t") == std::string_view::npos;
}

}  // namespace

bool is_binding_id(std::string_view s) {
  return matches_chars(s, 1, 64, [](char c) { return is_alnum(c) || c == '-'; });
}

Problem required(std::string_view name) {
  return {400, "98", std::string(name).append(kRequiredSuffix)};
}

Problem mismatch(std::string_view name, std::string_view pattern) {
  return {400, "98",
          std::string(name) + " does not match required pattern " + std::string(pattern)};
}

std::optional<Problem> parse_body(std::string_view text, std::string_view method,
                                  std::string_view message_type, json::Value* out) {
  const Problem not_set{400, "98",
                        "Errors while parsing incoming request: " + std::string(message_type) +
                            " is not set for method " + std::string(method)};
  if (all_whitespace(text)) return not_set;
  json::Limits limits;
  limits.trailing_commas = true;  // the seed's registerPayout example has one (docs/bereke.md)
  limits.depth_max = kBodyDepthMax;
  json::ParseResult parsed = json::parse(text, limits);
  if (!parsed.value) {
    return Problem{500, "99", "Failed to parse incoming request for " + std::string(message_type)};
  }
  if (!parsed.value->is_object()) return not_set;
  *out = std::move(*parsed.value);
  return std::nullopt;
}

std::optional<Credentials> read_credentials(const json::Value& body) {
  auto credential =
      [&](std::initializer_list<std::string_view> names) -> std::optional<std::string> {
    for (std::string_view n : names) {
      const json::Value* v = body.find(n);
      if (v && v->is_string() && !v->as_string().empty()) return v->as_string();
    }
    return std::nullopt;
  };
  auto user = credential({"userName", "username"});
  auto password = credential({"password"});
  if (!user || !password) return std::nullopt;
  return Credentials{std::move(*user), std::move(*password)};
}

std::optional<Problem> read_source(const json::Value& body, std::string* binding) {
  Reader in(body);
  read_source_binding(in, binding);
  return in.problem;
}

std::optional<Problem> read_order(const json::Value& body, OrderFields* f) {
  Reader in(body);
  read_order_fields(in, *f);
  return in.problem;
}

std::optional<Problem> read_payout(const json::Value& body, PayoutFields* f) {
  Reader in(body);
  read_order_fields(in, f->order);
  read_source_binding(in, &f->source);
  if (!in.problem) read_target(in, *f);
  return in.problem;
}

std::optional<Problem> read_status_query(const json::Value& body, StatusQuery* q) {
  Reader in(body);
  in.text(body, "orderId", "orderId", &q->order_id, false, kOrderIdPattern, [](std::string_view s) {
    return matches_chars(s, 36, 36, [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
    });
  });
  in.text(body, "orderNumber", "orderNumber", &q->order_number, false, kOrderNumberPattern,
          is_order_number);
  in.text(body, "language", "language", &q->language, false, kLanguagePattern,
          [](std::string_view s) { return s.size() == 2; });
  if (in.problem) return in.problem;
  if (q->order_id.empty() && q->order_number.empty()) {
    return Problem{400, "98", "No order identification provided to find order in database"};
  }
  for (char& c : q->order_id) c = static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c);
  return std::nullopt;
}

}  // namespace payoutd::providers::bereke::api
