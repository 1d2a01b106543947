#include "web/forms.h"

#include <algorithm>

#include "http/query.h"

namespace payoutd::web {

std::optional<FormParams> parse_form(std::string_view text) {
  FormParams out;
  bool refused = false;
  http::for_each_raw_param(text, [&](const http::RawParam& param) {
    if (param.name.empty() && !param.has_value) return true;  // "a&&b", "&a"
    auto name = http::form_decode(param.name), value = http::form_decode(param.value);
    refused = out.size() == kFormParamsMax || !name || !value;
    if (!refused) out.emplace_back(std::move(*name), std::move(*value));
    return !refused;
  });
  if (refused) return std::nullopt;
  // A repeated name is refused: found by sorting views of the names (n log n), not by comparing
  // each with all before it (a 64 KiB body of 20 000 one-letter names once cost the I/O thread a
  // tenth of a second that way).
  std::vector<std::string_view> names;
  names.reserve(out.size());
  for (const auto& [k, v] : out) names.push_back(k);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) return std::nullopt;
  return out;
}

std::string form_value(const FormParams& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
  }
  return {};
}

}  // namespace payoutd::web
