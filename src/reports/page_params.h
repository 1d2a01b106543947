#pragma once
// The query parameters every statement and report answer takes: ?format=csv|json, ?limit= (1 to
// the configured lines_max; default lines_max) and ?cursor= (a previous page's next cursor).
#include <cstdint>
#include <string>
#include <string_view>

namespace payoutd::reports {

enum class Format : std::uint8_t { kJson, kCsv };

struct PageParams {
  Format format = Format::kJson;
  std::string cursor;
  std::size_t limit = 0;
  std::string problem;  // empty, or what is wrong with them (for a 400)
};

// The page parameters of `query`; `format` when it names none.
PageParams page_params(std::string_view query, std::size_t lines_max, Format format);

// The HTTP header naming the next page's cursor of a CSV answer (JSON carries it in its body).
inline constexpr std::string_view kNextCursorHeader = "X-Next-Cursor";

}  // namespace payoutd::reports
