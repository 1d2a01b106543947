#include "web/csv.h"

namespace payoutd::web {

void csv_field(std::string& out, std::string_view v) {
  const bool formula =
      !v.empty() && std::string_view("=+-@\t\r").find(v[0]) != std::string_view::npos;
  const bool quote = formula || v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  if (quote) out.push_back('"');
}

void csv_record(std::string& out, std::initializer_list<std::string_view> fields) {
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) out.push_back(',');
    first = false;
    csv_field(out, f);
  }
  out.append("\r\n");
}

}  // namespace payoutd::web
