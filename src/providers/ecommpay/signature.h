#pragma once
// ecommpay's request signature (docs/ecommpay.md, "Signature"): the public algorithm of its SDKs.
// Every `signature` key (at any depth) and every `frame_mode` key is left out; each scalar
// becomes "path:value" (keys joined by ':', list items by their 0-based index; true/false as
// 1/0; null as the empty string; empty arrays and objects contribute nothing); the pairs are
// sorted by path (natural order: digit runs compare as numbers) and joined with ';'; the result
// is HMAC-SHA512 under the project's secret key, in base64.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace payoutd::providers::ecommpay {

// The string that is signed, for a JSON document.
std::string signing_string(const json::Value& document);
// The string that is signed, for Payment Page's query parameters (name, decoded value).
std::string signing_string(const std::vector<std::pair<std::string, std::string>>& params);

std::string sign(std::string_view secret, std::string_view signing_string);

// Whether `signature` is the signature of `signing_string` under `secret`, in constant time.
bool signature_valid(std::string_view secret, std::string_view signing_string,
                     std::string_view signature);

}  // namespace payoutd::providers::ecommpay
