// The admin API's statements and reports (docs/admin.md, "Statements and reconciliation reports"):
// a funding account's daily statement, and the card payouts of a day by the card network's answer.
// Reads of the store, answered once every state they may have seen is durable.
#include <algorithm>

#include "admin/answers.h"
#include "admin/api.h"
#include "core/assert.h"
#include "http/query.h"
#include "reports/card_payouts.h"
#include "reports/page_params.h"
#include "reports/statement_render.h"

namespace payoutd::admin {
namespace {

// A CSV answer: a download, never cached nor sniffed; the next page's cursor in a header.
http::Response csv_answer(std::string body, const std::string& file_name,
                          const std::string& next_cursor) {
  http::Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body);
  r.headers = {{"Content-Disposition", "attachment; filename=\"" + file_name + "\""},
               {"Cache-Control", "no-store"},
               {"X-Content-Type-Options", "nosniff"}};
  if (!next_cursor.empty()) r.headers.emplace_back(reports::kNextCursorHeader, next_cursor);
  return r;
}

http::Response json_answer(std::string body) {
  http::Response r;
  r.body = std::move(body);
  r.headers = {{"Cache-Control", "no-store"}};
  return r;
}

http::Response bad_date() {
  return error(400, "validation.error", "date: must be a day of the calendar as YYYY-MM-DD");
}

}  // namespace

void Dialect::statement(const Call& call) {
  const std::optional<Tenant> tenant = Tenant::parse(call.path[1]);
  PAYOUTD_ASSERT(tenant.has_value(), "an admitted tenants/{tenant}/ path names a tenant");
  const engine::StatementOptions& o = options_.statements;
  const auto day = engine::statement_day(call.path[5], o.utc_offset_minutes);
  if (!day) return call.respond(bad_date());
  const reports::PageParams page =
      reports::page_params(call.request.query(), o.lines_max, reports::Format::kJson);
  if (!page.problem.empty()) return call.respond(error(400, "validation.error", page.problem));
  if (!report_store_) return call.respond(error(404, "route.not.found", "no statements"));
  engine::StatementRead read =
      engine::read_statement(*report_store_, *tenant, call.path[3], *day, page.cursor, page.limit);
  switch (read.error) {
    case engine::StatementError::kNone:
      break;
    case engine::StatementError::kNotFound:
      return call.respond(error(404, "funder.not.found", "no such funder"));
    case engine::StatementError::kBadCursor:
      return call.respond(
          error(400, "validation.error", "cursor: must be a nextCursor of this day's statement"));
    case engine::StatementError::kUnavailable:
      return call.respond(unavailable());
  }
  const engine::Statement& s = read.statement;
  http::Response r =
      page.format == reports::Format::kCsv
          ? csv_answer(reports::statement_csv(s), reports::statement_file_name(s), s.next_cursor)
          : json_answer(reports::statement_json(s));
  engine_.answer_when_durable(call.respond, std::move(r), unavailable);
}

void Dialect::card_payouts_report(const Call& call) {
  const engine::StatementOptions& o = options_.statements;
  const http::QueryParam date = http::query_param(call.request.query(), "date");
  const http::QueryParam rail = http::query_param(call.request.query(), "rail");
  if (!date.present || !date.valid) return call.respond(bad_date());
  const auto day = engine::statement_day(date.value, o.utc_offset_minutes);
  if (!day) return call.respond(bad_date());
  if (!rail.valid || rail.value.size() > kIdSizeMax) {
    return call.respond(error(400, "validation.error", "rail: must be a rail's name"));
  }
  const reports::PageParams page =
      reports::page_params(call.request.query(), o.lines_max, reports::Format::kJson);
  if (!page.problem.empty()) return call.respond(error(400, "validation.error", page.problem));
  if (!report_store_) return call.respond(error(404, "route.not.found", "no reports"));
  // The config's card tenants and the directory's (partners onboarded at run time), once each.
  std::vector<Tenant> card_tenants = options_.card_tenants;
  if (tenants_) {
    const std::optional<std::vector<Tenant>> runtime = tenants_->card_tenants();
    if (!runtime) return call.respond(unavailable());
    for (const Tenant& t : *runtime) {
      if (std::find(card_tenants.begin(), card_tenants.end(), t) == card_tenants.end()) {
        card_tenants.push_back(t);
      }
    }
  }
  const reports::ReportRead read = reports::read_card_payouts(
      *report_store_, card_tenants,
      {.day = *day, .rail = rail.value, .cursor = page.cursor, .limit = page.limit});
  switch (read.error) {
    case reports::ReportError::kNone:
      break;
    case reports::ReportError::kBadCursor:
      return call.respond(
          error(400, "validation.error", "cursor: must be a nextCursor of this report"));
    case reports::ReportError::kUnavailable:
      return call.respond(unavailable());
  }
  http::Response r = page.format == reports::Format::kCsv
                         ? csv_answer(reports::card_payouts_csv(read.report),
                                      "card-payouts-" + day->date + ".csv", read.report.next_cursor)
                         : json_answer(reports::card_payouts_json(read.report));
  engine_.answer_when_durable(call.respond, std::move(r), unavailable);
}

}  // namespace payoutd::admin
