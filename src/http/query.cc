#include "http/query.h"

#include <algorithm>
#include <boost/url/decode_view.hpp>
#include <boost/url/pct_string_view.hpp>

namespace payoutd::http {
namespace {

std::optional<std::string> decode(std::string_view text, bool space_as_plus) {
  // Boost.URL checks every escape but lets a NUL byte through, raw or escaped; the contract
  // refuses it: a NUL would cut a value short wherever it meets a C string.
  const auto escaped = boost::urls::make_pct_string_view(text);
  if (!escaped) return std::nullopt;
  boost::urls::encoding_opts options;
  options.space_as_plus = space_as_plus;
  std::string out = escaped->decode(options);
  if (std::find(out.begin(), out.end(), '\0') != out.end()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) { return decode(text, false); }

std::optional<std::string> form_decode(std::string_view text) { return decode(text, true); }

QueryParam query_param(std::string_view query, std::string_view name) {
  QueryParam result;
  for_each_raw_param(query, [&](const RawParam& param) {
    if (param.name != name) return true;
    if (result.present) {  // given twice: nothing later changes the answer
      result.valid = false;
      return false;
    }
    result.present = true;
    auto decoded = form_decode(param.value);
    if (decoded) result.value = std::move(*decoded);
    result.valid = decoded.has_value();
    return true;
  });
  return result;
}

}  // namespace payoutd::http
