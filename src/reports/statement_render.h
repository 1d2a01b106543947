#pragma once
// A daily statement (engine/statements.h) as it leaves payoutd, the same for every place that
// shows it (the admin API, the partner cabinet's download, the operators' console): CSV (RFC
// 4180, web/csv.h) and JSON. docs/admin.md, "Statements and reconciliation reports" is the contract
// of both. Pure.
#include <string>

#include "engine/statements.h"

namespace payoutd::reports {

// The CSV's header line, and its columns' names (docs/admin.md, "Statements and reconciliation
// reports", "CSV columns").
inline constexpr std::string_view kStatementCsvHeader =
    "tenant,account,date,time,type,partner_id,payout_id,transfer_id,counter_account,amount,"
    "currency,balance\r\n";

// The header line, an `opening` row on the day's first page, one row per line, and a `closing`
// row on the page that ends the day. Amounts and balances are decimals in the currency's
// exponent ("-150.00"); times ISO 8601 at the statement's offset.
std::string statement_csv(const engine::Statement& statement);

// {"tenant","fundingAccount","displayName","currency","date","utcOffset","from","to",
//  "opening","closing","credits","debits","lines":[...],"complete"[,"nextCursor"]}.
std::string statement_json(const engine::Statement& statement);

// "statement-<provider>-<tenant>-<account>-<date>.csv": a file name of the page's safe
// characters only.
std::string statement_file_name(const engine::Statement& statement);

}  // namespace payoutd::reports
