// The cabinet's statements (docs/cabinet.md, "Statements"): a funding account's daily statement
// for the partner, on a page and as a CSV download, for every provider's tenants (every funding
// account is the ledger's, whoever's it is). Always the session's tenant: an account code is
// looked up in that tenant only, so another tenant's account is "not found".
#include "engine/statements.h"
#include "cabinet/pages.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "reports/statement_render.h"
#include "web/forms.h"
#include "web/template.h"

namespace payoutd::cabinet {
namespace {

// The chosen account and day of a statement's query; `valid` false when the date is malformed.
struct Choice {
  std::string account;
  std::optional<engine::StatementDay> day;
  std::string cursor;
};

Choice choice_of(const web::FormParams& query, int utc_offset_minutes) {
  Choice c;
  c.account = web::form_value(query, "account");
  c.cursor = web::form_value(query, "cursor");
  const std::string date = web::form_value(query, "date");
  c.day = date.empty() ? engine::statement_day_of(SystemClock().now_ms(), utc_offset_minutes)
                       : engine::statement_day(date, utc_offset_minutes);
  return c;
}

std::string query_text(const std::string& account, const std::string& date,
                       const std::string& cursor) {
  web::FormParams p{{"account", account}, {"date", date}};
  if (!cursor.empty()) p.emplace_back("cursor", cursor);
  return query_of(p);
}

web::Node statement_node(const engine::Statement& s) {
  const int offset = s.day.utc_offset_minutes;
  web::Node lines = web::Node::list();
  for (const engine::StatementLine& l : s.lines) {
    lines.push({{"time", format_iso8601(l.at_ms, offset)},
                {"kind", engine::movement_kind_name(l.kind)},
                {"partner_id", l.partner_id},
                {"counter", l.counter_account},
                {"transfer", std::to_string(l.transfer_id)},
                {"amount", amount_text(l.amount, s.currency)},
                {"balance", amount_text(l.balance, s.currency)}});
  }
  return {{"from", format_iso8601(s.day.start_ms, offset)},
          {"to", format_iso8601(s.day.end_ms, offset)},
          {"opening", amount_text(s.opening, s.currency)},
          {"closing", amount_text(s.closing, s.currency)},
          {"lines", std::move(lines)},
          {"complete", s.next_cursor.empty()},
          {"query", query_text(s.account, s.day.date, "")},
          {"next", s.next_cursor.empty() ? std::string()
                                         : query_text(s.account, s.day.date, s.next_cursor)}};
}

}  // namespace

void Pages::statements(View& v, const http::Request& request) {
  const Texts& t = *v.t;
  const web::FormParams query = web::parse_form(request.query()).value_or(web::FormParams{});
  Choice c = choice_of(query, options_.statements.utc_offset_minutes);
  const std::string tenant = v.session->tenant.key();
  const auto funders = store_.tenant_accounts(tenant, ledger::AccountKind::kFunder);
  if (!funders.ok()) return answer_unavailable(v);
  if (c.account.empty() && !funders->empty()) c.account = funders->front().code;
  web::Node accounts = web::Node::list();
  for (const ledger::Account& a : *funders) {
    accounts.push({{"code", a.code},
                   {"owner", a.owner},
                   {"currency", a.currency.code()},
                   {"selected", a.code == c.account}});
  }
  web::Node data{{"t", words(t)},
                 {"accounts", std::move(accounts)},
                 {"date", c.day ? c.day->date : web::form_value(query, "date")}};
  engine::StatementRead read;
  if (c.day && !c.account.empty()) {
    read = engine::read_statement(store_, v.session->tenant, c.account, *c.day, "",
                                  options_.statements.lines_max);
    if (read.error == engine::StatementError::kUnavailable) return answer_unavailable(v);
  }
  const bool bad = !c.day || (!c.account.empty() && read.error != engine::StatementError::kNone);
  data.set("bad", bad);
  if (!bad && !c.account.empty()) data.set("statement", statement_node(read.statement));
  v.html(bad ? 400 : 200,
         layout(v, "/cabinet/statements", t.statements, web::render("cabinet/statements", data)));
}

void Pages::statement_csv(View& v, const http::Request& request) {
  const Texts& t = *v.t;
  const web::FormParams query = web::parse_form(request.query()).value_or(web::FormParams{});
  const Choice c = choice_of(query, options_.statements.utc_offset_minutes);
  if (!c.day || c.account.empty()) return v.html(400, message_page(t, t.bad_filter));
  const engine::StatementRead read = engine::read_statement(
      store_, v.session->tenant, c.account, *c.day, c.cursor, options_.statements.lines_max);
  switch (read.error) {
    case engine::StatementError::kNone:
      break;
    case engine::StatementError::kNotFound:
      return v.html(404, message_page(t, t.not_found));
    case engine::StatementError::kBadCursor:
      return v.html(400, message_page(t, t.bad_filter));
    case engine::StatementError::kUnavailable:
      return answer_unavailable(v);
  }
  const engine::Statement& s = read.statement;
  auto response = std::make_shared<http::Response>();
  response->content_type = "text/csv; charset=utf-8";
  response->body = reports::statement_csv(s);
  response->headers = {
      {"Content-Disposition", "attachment; filename=\"" + reports::statement_file_name(s) + "\""},
      {"Cache-Control", "no-store"},
      {"X-Content-Type-Options", "nosniff"}};
  // A download is recorded before it is handed out, as the payouts' export is.
  auto shared = std::make_shared<View>(std::move(v));
  const std::string detail = s.account + " " + s.day.date + ", " + std::to_string(s.lines.size()) +
                             " lines" + (c.cursor.empty() ? "" : ", after " + c.cursor);
  auth_.audit(*shared->session, "statement.export", detail, request.peer_address,
              [shared, response](bool ok) {
                if (!ok) return shared->html(503, plain(*shared->t, shared->t->busy, {}));
                shared->send(std::move(*response));
              });
}

}  // namespace payoutd::cabinet
