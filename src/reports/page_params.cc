#include "reports/page_params.h"

#include <charconv>

#include "http/query.h"

namespace payoutd::reports {

PageParams page_params(std::string_view query, std::size_t lines_max, Format format) {
  PageParams p;
  p.format = format;
  p.limit = lines_max;
  const http::QueryParam f = http::query_param(query, "format");
  const http::QueryParam limit = http::query_param(query, "limit");
  const http::QueryParam cursor = http::query_param(query, "cursor");
  if (!f.valid || !limit.valid || !cursor.valid) {
    p.problem = "a parameter is given twice or malformed";
    return p;
  }
  if (f.present) {
    if (f.value == "csv") {
      p.format = Format::kCsv;
    } else if (f.value == "json") {
      p.format = Format::kJson;
    } else {
      p.problem = "format: must be csv or json";
      return p;
    }
  }
  if (limit.present) {
    std::size_t n = 0;
    const char* end = limit.value.data() + limit.value.size();
    const auto [at, ec] = std::from_chars(limit.value.data(), end, n);
    if (ec != std::errc() || at != end || n < 1 || n > lines_max) {
      p.problem = "limit: must be 1 to " + std::to_string(lines_max);
      return p;
    }
    p.limit = n;
  }
  if (cursor.present) {
    if (cursor.value.empty() || cursor.value.size() > 256) {
      p.problem = "cursor: must be a previous page's nextCursor";
      return p;
    }
    p.cursor = cursor.value;
  }
  return p;
}

}  // namespace payoutd::reports
