#pragma once
// The one reader of URL components: percent-escapes, decoded by Boost.URL, and the name=value
// pairs of query strings and form bodies (application/x-www-form-urlencoded). web/forms.h reads
// whole forms on top of it. Pure; any thread.
//
// Boost.URL decodes, but does not split: its query grammar (RFC 3986) refuses a whole query for
// bytes that clients send raw and this server accepts (a space, '"', '<', '\', UTF-8), and for one
// malformed escape anywhere, where query_param looks only at the parameter it is asked for.
#include <optional>
#include <string>
#include <string_view>

namespace payoutd::http {

// Percent-decodes a URL component (a path segment). nullopt on a malformed escape ('%' not
// followed by two hex digits) or a NUL byte, sent raw or escaped. Never longer than `text`.
std::optional<std::string> percent_decode(std::string_view text);

// The same for a name or a value of a query or form, where '+' is a space (and "%2B" a '+').
std::optional<std::string> form_decode(std::string_view text);

// One piece of a query between '&'s, as sent (still escaped): "a=1" is {"a", "1", true}, "a" is
// {"a", "", false}, "=" is {"", "", true}, and the empty piece is {"", "", false}.
struct RawParam {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

// Calls `visit(RawParam)` for each piece of `query` between '&'s, in order, until it returns
// false. Empty pieces count ("a&&b" has three, "&a" two), except one after a last '&' ("a&" has
// one). Nothing is decoded.
template <class Visit>
void for_each_raw_param(std::string_view query, Visit&& visit) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = piece.find('=');
    const bool has_value = eq != std::string_view::npos;
    const RawParam param{piece.substr(0, eq), has_value ? piece.substr(eq + 1) : std::string_view(),
                         has_value};
    if (!visit(param)) return;
  }
}

// A parameter of an application/x-www-form-urlencoded query, decoded ('+' is a space). A
// parameter given twice, or with a malformed escape, is present but not valid; given twice, its
// value is the first one's.
struct QueryParam {
  bool present = false;
  bool valid = true;
  std::string value;
};
// `name` is matched as sent, not decoded ("account%49d=1" is no accountId). Other parameters are
// neither decoded nor checked.
QueryParam query_param(std::string_view query, std::string_view name);

}  // namespace payoutd::http
