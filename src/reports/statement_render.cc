#include "reports/statement_render.h"

#include "core/json.h"
#include "core/money.h"
#include "core/time_format.h"
#include "web/api.h"
#include "web/csv.h"

namespace payoutd::reports {
namespace {

using engine::Statement;
using engine::StatementLine;

std::string decimal(std::int64_t minor, Currency currency) {
  return format_decimal(minor, currency.exponent());
}

std::string offset_text(int minutes) {
  // format_iso8601 ends with the offset it was given: "+03:00" (six characters).
  const std::string time = format_iso8601(0, minutes);
  return time.substr(time.size() - 6);
}

// A row of the CSV. Amounts and balances are payoutd's own decimals, written as they are (a
// spreadsheet reads "-150.00" as a number); every other field goes through csv_field.
void csv_row(std::string& out, const Statement& s, std::int64_t at_ms, std::string_view type,
             const StatementLine* line, std::int64_t balance) {
  const std::string time = format_iso8601(at_ms, s.day.utc_offset_minutes);
  const std::string payout = line && line->payout_id ? std::to_string(line->payout_id) : "";
  const std::string transfer = line ? std::to_string(line->transfer_id) : "";
  const std::string tenant = s.tenant.key();
  for (std::string_view field : {std::string_view(tenant), std::string_view(s.account),
                                 std::string_view(s.day.date), std::string_view(time), type}) {
    web::csv_field(out, field);
    out.push_back(',');
  }
  for (std::string_view field :
       {line ? std::string_view(line->partner_id) : std::string_view(), std::string_view(payout),
        std::string_view(transfer),
        line ? std::string_view(line->counter_account) : std::string_view()}) {
    web::csv_field(out, field);
    out.push_back(',');
  }
  if (line) out.append(decimal(line->amount, s.currency));
  out.push_back(',');
  web::csv_field(out, s.currency.code());
  out.push_back(',');
  out.append(decimal(balance, s.currency)).append("\r\n");
}

void write_line(json::Writer& w, const Statement& s, const StatementLine& line) {
  w.begin_object();
  w.key("transferId").integer(line.transfer_id);
  w.key("time").string(format_iso8601(line.at_ms, s.day.utc_offset_minutes));
  w.key("type").string(engine::movement_kind_name(line.kind));
  w.key("partnerId").string(line.partner_id);
  if (line.payout_id) w.key("payoutId").integer(line.payout_id);
  w.key("counterAccount").string(line.counter_account);
  web::write_amount(w, "amount", line.amount, s.currency);
  web::write_amount(w, "balance", line.balance, s.currency);
  w.end_object();
}

}  // namespace

std::string statement_csv(const Statement& s) {
  std::string out(kStatementCsvHeader);
  if (s.first_page) csv_row(out, s, s.day.start_ms, "opening", nullptr, s.opening);
  for (const StatementLine& line : s.lines) {
    csv_row(out, s, line.at_ms, engine::movement_kind_name(line.kind), &line, line.balance);
  }
  if (s.next_cursor.empty()) csv_row(out, s, s.day.end_ms, "closing", nullptr, s.closing);
  return out;
}

std::string statement_json(const Statement& s) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("tenant").string(s.tenant.key());
  w.key("fundingAccount").string(s.account);
  w.key("displayName").string(s.account_name);
  w.key("currency").string(s.currency.code());
  w.key("date").string(s.day.date);
  w.key("utcOffset").string(offset_text(s.day.utc_offset_minutes));
  w.key("from").string(format_iso8601(s.day.start_ms, s.day.utc_offset_minutes));
  w.key("to").string(format_iso8601(s.day.end_ms, s.day.utc_offset_minutes));
  web::write_amount(w, "opening", s.opening, s.currency);
  web::write_amount(w, "closing", s.closing, s.currency);
  web::write_amount(w, "credits", s.credits, s.currency);
  web::write_amount(w, "debits", s.debits, s.currency);
  w.key("lines").begin_array();
  for (const StatementLine& line : s.lines) write_line(w, s, line);
  w.end_array();
  w.key("complete").boolean(s.first_page && s.next_cursor.empty());
  if (!s.next_cursor.empty()) w.key("nextCursor").string(s.next_cursor);
  w.end_object();
  return out;
}

std::string statement_file_name(const Statement& s) {
  std::string name = "statement-" + s.tenant.provider + "-" + s.tenant.id + "-" + s.account + "-" +
                     s.day.date + ".csv";
  for (char& c : name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (!safe) c = '_';
  }
  return name;
}

}  // namespace payoutd::reports
