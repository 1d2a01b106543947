// Fuzz target: ecommpay's signature flattening (providers/ecommpay/signature.h), over a Gate API
// JSON body (as the dialect parses it) and over Payment Page's query parameters (the input read
// as a query string, as the pages parse it).
// For any bytes:
// - signing_string never crashes, leaks or fails a sanitizer check;
// - a `signature` member added to (or replacing one in) the JSON document, or a `signature`
//   parameter added to the query, leaves the signing string unchanged (signatures never sign
//   themselves);
// - for a JSON object whose members are all scalars, the JSON form and the parameter form of the
//   same pairs give the same signing string (true/false as 1/0, null as empty);
// - a signature made with sign() is valid for its string, and not for the string extended.
#include "providers/ecommpay/signature.h"
#include "check.h"
#include "core/json.h"
#include "web/forms.h"

#include <optional>
#include <string>
#include <vector>

namespace {

namespace ecommpay = payoutd::providers::ecommpay;
using payoutd::json::Value;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kSecret = "fuzz-project-secret";

Value with_signature(const Value& document) {
  Value::Object members;
  for (const auto& member : document.as_object()) {
    if (member.first != "signature") members.push_back(member);
  }
  members.emplace_back("signature", Value::string("c2lnbmF0dXJl"));
  return Value::object(std::move(members));
}

// The members of a flat object as Payment Page parameters; nullopt when one is not a scalar.
std::optional<Params> scalar_params(const Value& document) {
  Params params;
  for (const auto& [key, member] : document.as_object()) {
    switch (member.kind()) {
      case Value::Kind::kNull:
        params.emplace_back(key, "");
        break;
      case Value::Kind::kBool:
        params.emplace_back(key, member.as_bool() ? "1" : "0");
        break;
      case Value::Kind::kNumber:
        params.emplace_back(key, std::string(member.number_text()));
        break;
      case Value::Kind::kString:
        params.emplace_back(key, member.as_string());
        break;
      default:
        return std::nullopt;
    }
  }
  return params;
}

void check_signature(const std::string& signing) {
  const std::string signature = ecommpay::sign(kSecret, signing);
  FUZZ_CHECK(ecommpay::signature_valid(kSecret, signing, signature));
  FUZZ_CHECK(!ecommpay::signature_valid(kSecret, signing + ";", signature));
}

void check_json(std::string_view text) {
  const auto parsed = payoutd::json::parse(text);
  if (!parsed.value) return;
  const Value& document = *parsed.value;
  const std::string signing = ecommpay::signing_string(document);
  check_signature(signing);
  if (!document.is_object()) return;
  FUZZ_CHECK(ecommpay::signing_string(with_signature(document)) == signing);
  if (const auto params = scalar_params(document))
    FUZZ_CHECK(ecommpay::signing_string(*params) == signing);
}

void check_params(std::string_view text) {
  auto params = payoutd::web::parse_form(text);
  if (!params) return;
  const std::string signing = ecommpay::signing_string(*params);
  params->emplace_back("signature", "c2lnbmF0dXJl");
  FUZZ_CHECK(ecommpay::signing_string(*params) == signing);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = payoutd::fuzz::text_of(data, size);
  check_json(text);
  check_params(text);
  return 0;
}
