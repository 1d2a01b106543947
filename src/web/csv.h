#pragma once
// CSV as the cabinet's exports and the statements write it: RFC 4180 (fields separated by
// commas, records by CRLF, a field quoted when it holds a comma, a quote or a line break, a
// quote inside doubled), and safe to open in a spreadsheet: a field starting with = + - @, a tab
// or a carriage return, which a spreadsheet could run as a formula (OWASP, "CSV Injection"), is
// quoted and prefixed with a single quote.
#include <initializer_list>
#include <string>
#include <string_view>

namespace payoutd::web {

// Appends the field `value` to `out`, quoted and neutralised as needed.
void csv_field(std::string& out, std::string_view value);

// Appends the fields as one record, separated by commas and ended by CRLF.
void csv_record(std::string& out, std::initializer_list<std::string_view> fields);

}  // namespace payoutd::web
