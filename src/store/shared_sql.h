#pragma once
// SQL that both backends spell the same: the tables' column lists, the conditions of the partial
// indexes, the statements of audit's snapshot, and the schema steps whose text is the same in
// both dialects. Each backend's other statements are in its own statements.h and schema.cc.
#include "store/sql_text.h"
#include "store/store.h"

// Column lists, as macros so that a statement without enum values stays one string literal. A
// list's columns after `id` (the *_FIELDS) are those of the record's field table in rows.h, in
// the same order.
#define ACCOUNT_FIELDS                                                                    \
  "tenant, kind, code, owner, currency, floor, status, credit_delay_ms, debits_pending, " \
  "debits_posted, credits_pending, credits_posted, history_seq, created_ms"
#define ACCOUNT_COLUMNS "id, " ACCOUNT_FIELDS
#define PAYOUT_FIELDS                                                                            \
  "tenant, kind, partner_id, fingerprint, status, decline_code, source_account_id, "             \
  "destination_account_id, amount, currency, pending_transfer_id, source_ref, destination_ref, " \
  "history_id, created_ms, updated_ms, due_ms, history_account_id, history_seq"
#define PAYOUT_COLUMNS "id, " PAYOUT_FIELDS
#define TRANSFER_FIELDS                                                                     \
  "debit_account_id, credit_account_id, amount, currency, kind, pending_id, timestamp_ms, " \
  "reference"
#define TRANSFER_COLUMNS "id, " TRANSFER_FIELDS
#define HISTORY_COLUMNS                                                                       \
  "account_id, seq, txn_history_id, domain, type_id, status, impact, domain_txn_id, amount, " \
  "commission, currency, created_ms, error_code, details"
#define OUTBOX_FIELDS                                                                          \
  "tenant, event_id, target, body, state, attempts, next_attempt_ms, created_ms, updated_ms, " \
  "last_result, payout_id, sealed, request_id"
#define OUTBOX_COLUMNS "id, " OUTBOX_FIELDS
#define OUTBOX_ATTEMPT_COLUMNS "message_id, attempt, at_ms, duration_ms, http_status, error"
// A wallet payout read as its history entry: payouts p joined with its source account a.
#define HISTORY_PAYOUT_COLUMNS                                                                \
  "p.history_seq, p.history_id, p.status, p.partner_id, p.amount, p.currency, p.created_ms, " \
  "p.decline_code, p.source_ref, a.owner"

namespace payoutd::store::sql {

// --- Partial indexes -----------------------------------------------------------------------------
// A query reads through a partial index only when its own WHERE spells the index's condition:
// SQLite plans a statement when it is prepared, before any value is bound, and PostgreSQL's
// generic plan is made without the values. So each condition below is spelled into the index and
// into every query that uses it, from this one constant, its value taken from the enum.

// payouts_processing (due_ms): the payouts still to be settled.
inline constexpr auto kProcessingPayout = concat("status = ", number<PayoutStatus::kProcessing>());
// outbox_queues (tenant, lane, next_attempt_ms), outbox_due before version 6: messages to send.
inline constexpr auto kPendingMessage = concat("state = ", number<OutboxState::kPending>());
// payouts_by_tenant (tenant, id) and payouts_by_tenant_time (tenant, created_ms): the payouts the
// partner cabinet lists (PayoutQuery), wallet and card payouts.
inline constexpr auto kListedPayoutKinds =
    concat("kind IN (", list<PayoutKind::kWalletPayout, PayoutKind::kCardPayout>(), ")");

// transfers_posted_debits (debit_account_id, timestamp_ms): the transfers that change
// a posted balance (a statement's movements, store.h's MovementQuery).
inline constexpr auto kPostedTransfer =
    concat("kind IN (", list<ledger::TransferKind::kSingle, ledger::TransferKind::kPost>(), ")");
// transfers_posted_credits (credit_account_id, timestamp_ms): of them, those that may credit a
// funding account. A wallet payout credits a wallet and a card payout the card rail's system
// account, never a funding account, and statements are only of funding accounts: leaving them out
// (their reference is "<kind>:<tenant>:<partner id>", engine::transfer_reference) keeps a payout at
// one index entry, its funding account's debit. `payoutd audit` checks that no payout credits one.
inline constexpr auto kPostedCredit =
    concat(kPostedTransfer, " AND substr(reference, 1, 2) NOT IN ('",
           number<PayoutKind::kWalletPayout>(), ":', '", number<PayoutKind::kCardPayout>(), ":')");

// --- Statements (MovementQuery) ------------------------------------------------------------------
// The two statements of a statement's read, the same in both dialects but for their parameters
// and casts, which each backend's statements.h passes in: `account` the account's id, `after_ms`
// and `after_id` the cursor (timestamp_ms, id): what lies after it; `to_ms` the range's end,
// `limit` the lines, `tenant` the account's tenant; `sum` the dialect's bigint sum of `amount`,
// `kind_type` the type of payouts.kind. They read through transfers_posted_debits and
// transfers_posted_credits (their conditions spelled), so they see a funding account's movements
// only (a payout's credit to a wallet or a rail is in neither index).

// Credits less debits of the account's movements after the cursor.
#define PAYOUTD_POSTED_AFTER(side, condition, account, after_ms, after_id, sum)  \
  "(SELECT " sum " FROM transfers WHERE " side " = " account " AND ", condition, \
      " AND timestamp_ms >= " after_ms " AND (timestamp_ms > " after_ms " OR id > " after_id "))"
#define PAYOUTD_NET_AFTER_SQL(account, after_ms, after_id, sum)                                 \
  ::payoutd::store::sql::concat(                                                                \
      "SELECT coalesce(",                                                                       \
      PAYOUTD_POSTED_AFTER("credit_account_id", ::payoutd::store::sql::kPostedCredit, account,  \
                           after_ms, after_id, sum),                                            \
      ", 0) - coalesce(",                                                                       \
      PAYOUTD_POSTED_AFTER("debit_account_id", ::payoutd::store::sql::kPostedTransfer, account, \
                           after_ms, after_id, sum),                                            \
      ", 0)")
// Up to `limit` movements after the cursor and before `to_ms`, in order, each with its other
// account (kind, code) and the payout of `tenant` whose transfer_reference it carries: "<kind
// digit>:<tenant>:<partner id>", so the payout is found by its key through its unique index.
#define PAYOUTD_POSTED_SIDE(side, condition, other, alias, account, after_ms, after_id, to_ms, \
                            limit)                                                             \
  "SELECT * FROM (SELECT " TRANSFER_COLUMNS ", " other " AS other FROM transfers WHERE " side  \
  " = " account " AND ",                                                                       \
      condition,                                                                               \
      " AND timestamp_ms >= " after_ms " AND (timestamp_ms > " after_ms " OR id > " after_id   \
      ") AND timestamp_ms < " to_ms " ORDER BY timestamp_ms, id LIMIT " limit ") " alias
#define PAYOUTD_MOVEMENTS_SQL(account, after_ms, after_id, to_ms, limit, tenant, kind_type)     \
  ::payoutd::store::sql::concat(                                                                \
      "SELECT t.id, t.debit_account_id, t.credit_account_id, t.amount, t.currency, t.kind, "    \
      "t.pending_id, t.timestamp_ms, t.reference, (SELECT kind FROM accounts WHERE id = "       \
      "t.other), (SELECT code FROM accounts WHERE id = t.other), coalesce((SELECT id FROM "     \
      "payouts WHERE tenant = " tenant                                                          \
      " AND kind = CASE WHEN substr(t.reference, 1, 1) BETWEEN '0' AND '9' THEN "               \
      "CAST(substr(t.reference, 1, 1) AS " kind_type                                            \
      ") END AND partner_id = substr(t.reference, length(" tenant ") + 4)), 0) FROM (",         \
      PAYOUTD_POSTED_SIDE("debit_account_id", ::payoutd::store::sql::kPostedTransfer,           \
                          "credit_account_id", "d", account, after_ms, after_id, to_ms, limit), \
      " UNION ALL ",                                                                            \
      PAYOUTD_POSTED_SIDE("credit_account_id", ::payoutd::store::sql::kPostedCredit,            \
                          "debit_account_id", "c", account, after_ms, after_id, to_ms, limit),  \
      ") t ORDER BY t.timestamp_ms, t.id LIMIT " limit)

// --- Outbox --------------------------------------------------------------------------------------

// A message's lane (store::outbox_lane) computed from its target: the generated column `lane`.
inline constexpr auto kLaneOfTarget =
    concat("CASE WHEN substr(target, 1, 7) = 'mailto:' THEN ", number<OutboxLane::kMail>(),
           " WHEN substr(target, 1, 4) = 'sms:' THEN ", number<OutboxLane::kSms>(), " ELSE ",
           number<OutboxLane::kHttp>(), " END");

// The due read's first step (a recursive common table): `tenants`, every tenant with pending
// messages, one probe of the index outbox_queues each (a skip scan), then a NULL row.
inline constexpr auto kPendingTenants = concat(
    "WITH RECURSIVE tenants(tenant) AS ("
    " SELECT (SELECT tenant FROM outbox WHERE ",
    kPendingMessage,
    " ORDER BY tenant LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT o.tenant FROM outbox o WHERE o.",
    kPendingMessage,
    " AND o.tenant > t.tenant"
    "         ORDER BY o.tenant LIMIT 1)"
    " FROM tenants t WHERE t.tenant IS NOT NULL)");

// --- Metrics ------------------------------------------------------------------------------------

// Store::backlog, through outbox_queues and payouts_processing (their conditions spelled).
inline constexpr auto kCardPayoutUnsettled =
    concat(kProcessingPayout, " AND kind = ", number<PayoutKind::kCardPayout>(),
           " AND pending_transfer_id <> 0");
inline constexpr auto kBacklog =
    concat("SELECT (SELECT count(*) FROM outbox WHERE ", kPendingMessage,
           "),"
           " (SELECT coalesce(min(next_attempt_ms), 0) FROM outbox WHERE ",
           kPendingMessage,
           "),"
           " (SELECT count(*) FROM payouts WHERE ",
           kCardPayoutUnsettled,
           "),"
           " (SELECT coalesce(min(created_ms), 0) FROM payouts WHERE ",
           kCardPayoutUnsettled, ")");

// --- The operators' reads (Store::search_payouts and the attention's) ---------------------------

// outbox_abandoned (updated_ms): the messages given up on (schema version 10).
inline constexpr auto kAbandonedMessage = concat("state = ", number<OutboxState::kAbandoned>());
// A callback: a message to a partner's system (the generated column `lane`).
inline constexpr auto kCallbackLane = concat("lane = ", number<OutboxLane::kHttp>());

// The search's filters on the payouts `p`, each off at its neutral value (status -1, currency
// and tenant '', the bounds at 0 and kSearchEnd), and the cursor: the dialect's parameters.
#define PAYOUTD_SEARCH_FILTERS(status, from, to, min, max, currency, tenant, before_ms, before_id) \
  "(" status " < 0 OR p.status = " status ") AND p.created_ms >= " from " AND p.created_ms < " to  \
  " AND p.amount >= " min " AND p.amount <= " max " AND (" currency                                \
  " = '' OR p.currency = " currency ") AND (" tenant " = '' OR p.tenant = " tenant                 \
  ") AND (p.created_ms, p.id) < (" before_ms ", " before_id ")"

// The search by partner id's first step: `tenants`, every tenant with wallet or card payouts, one
// probe of payouts_by_tenant each (a skip scan), then a NULL row.
inline constexpr auto kPayoutTenants =
    concat("WITH RECURSIVE tenants(tenant) AS (SELECT (SELECT tenant FROM payouts WHERE ",
           kListedPayoutKinds,
           " ORDER BY tenant LIMIT 1) UNION ALL SELECT (SELECT q.tenant FROM payouts q WHERE q.",
           kListedPayoutKinds,
           " AND q.tenant > t.tenant ORDER BY q.tenant LIMIT 1) FROM tenants t WHERE t.tenant IS "
           "NOT NULL) ");

// Without a key: the payouts by creation time in the range and before the cursor, newest first
// (payouts_by_time, or payouts_by_tenant_time with `tenant_condition`), the first `scan` of them
// examined, those matching the filters returned, in the window's order: `order` is the dialect's
// (PostgreSQL keeps the window's order and needs no sort for an ORDER BY that repeats it; SQLite
// would sort the whole window for it, and keeps its order without one).
#define PAYOUTD_SEARCH_WINDOW(tenant_condition, from, to, before_ms, before_id, scan, filters,    \
                              order, limit)                                                       \
  ::payoutd::store::sql::concat(                                                                  \
      "SELECT " PAYOUT_COLUMNS " FROM (SELECT * FROM payouts WHERE " tenant_condition,            \
      ::payoutd::store::sql::kListedPayoutKinds,                                                  \
      " AND created_ms >= " from " AND created_ms < " to " AND (created_ms, id) < (" before_ms    \
      ", " before_id ") ORDER BY created_ms DESC, id DESC LIMIT " scan ") p WHERE " filters order \
      " LIMIT " limit)
// The last payout such a window examines: where the next page starts when the window ends first.
#define PAYOUTD_SEARCH_WINDOW_END(tenant_condition, from, to, before_ms, before_id, offset)   \
  ::payoutd::store::sql::concat("SELECT created_ms, id FROM payouts WHERE " tenant_condition, \
                                ::payoutd::store::sql::kListedPayoutKinds,                    \
                                " AND created_ms >= " from " AND created_ms < " to            \
                                " AND (created_ms, id) < (" before_ms ", " before_id          \
                                ") ORDER BY created_ms DESC, id DESC LIMIT 1 OFFSET " offset)

// Store::unsettled_card_payouts, through payouts_processing (its condition spelled). The kind is
// a parameter (card payouts'), so that no plan reads the payouts of every tenant by time instead.
#define PAYOUTD_UNSETTLED_CARD_PAYOUTS(created_before, limit, kind)              \
  ::payoutd::store::sql::concat("SELECT " PAYOUT_COLUMNS " FROM payouts WHERE ", \
                                ::payoutd::store::sql::kProcessingPayout,        \
                                " AND kind = " kind                              \
                                " AND pending_transfer_id <> 0 AND created_ms "  \
                                "< " created_before " ORDER BY created_ms, id LIMIT " limit)
// Store::failing_callbacks: the pending ones through outbox_queues, the abandoned ones through
// outbox_abandoned, each side at most `limit`.
#define PAYOUTD_FAILING_CALLBACKS(limit)                                                       \
  ::payoutd::store::sql::concat(                                                               \
      "SELECT " OUTBOX_COLUMNS " FROM (SELECT * FROM (SELECT " OUTBOX_COLUMNS                  \
      " FROM outbox WHERE ",                                                                   \
      ::payoutd::store::sql::kPendingMessage, " AND attempts > 0 AND ",                        \
      ::payoutd::store::sql::kCallbackLane,                                                    \
      " ORDER BY updated_ms DESC LIMIT " limit                                                 \
      ") f UNION ALL SELECT * FROM (SELECT " OUTBOX_COLUMNS " FROM outbox WHERE ",             \
      ::payoutd::store::sql::kAbandonedMessage, " AND ", ::payoutd::store::sql::kCallbackLane, \
      " ORDER BY updated_ms DESC LIMIT " limit                                                 \
      ") a) m ORDER BY updated_ms DESC, id DESC LIMIT " limit)
// Store::outbox_queues, through outbox_queues (its condition spelled).
#define PAYOUTD_OUTBOX_QUEUES(limit)                                                   \
  ::payoutd::store::sql::concat(                                                       \
      "SELECT tenant, lane, count(*), sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), " \
      "min(created_ms), min(next_attempt_ms) FROM outbox WHERE ",                      \
      ::payoutd::store::sql::kPendingMessage,                                          \
      " GROUP BY tenant, lane ORDER BY count(*) DESC, tenant, lane LIMIT " limit)

// --- Audit's snapshot: whole tables --------------------------------------------------------------

inline constexpr const char* kAllAccounts = "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY id";
inline constexpr const char* kAllTransfers =
    "SELECT " TRANSFER_COLUMNS " FROM transfers ORDER BY id";
inline constexpr const char* kAllPayouts = "SELECT " PAYOUT_COLUMNS " FROM payouts ORDER BY id";
inline constexpr const char* kAllHistory =
    "SELECT txn_history_id, status, account_id, seq FROM history";

// --- Schema steps the same in both dialects (migration.h) ----------------------------------------

// A tenant's payouts, newest first (the partner cabinet's list).
inline constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX payouts_by_tenant ON payouts (tenant, id);
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms);
)sql";

// The cabinet's indexes cover only the payouts it lists, and its queries spell the same
// condition. On PostgreSQL a statement whose kind is a parameter cannot use them, so they never
// compete with the key a lookup means: while `payouts` is small every index looks as cheap as the
// next, and a plan cached then probed (tenant, created_ms) and read the tenant's every payout per
// partner id.
// clang-format off: the condition stands where it stands in the SQL.
inline constexpr auto kSchemaV7 = concat(R"sql(
DROP INDEX payouts_by_tenant;
DROP INDEX payouts_by_tenant_time;
CREATE INDEX payouts_by_tenant ON payouts (tenant, id) WHERE )sql",
                                         kListedPayoutKinds, R"sql(;
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms) WHERE )sql",
                                         kListedPayoutKinds, R"sql(;
)sql");
// clang-format on
// Version 8: a message carries the id of the request that caused it (X-Request-Id), sent with
// it and named in the dispatcher's log lines; earlier messages have none. A constant default:
// no table rewrite on either backend.
inline constexpr const char* kSchemaV8 = R"sql(
ALTER TABLE outbox ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
)sql";

// Version 9: an account's posted movements by time, on each side, for its daily statements
// (MovementQuery). Partial, so that reservations and voids (half of a card payout's transfers)
// cost no index entry, nor a payout's credit (kPostedCredit): a payout costs one entry, its
// funding account's debit. Two columns, no more: the entry is written by every payout, on the
// committer, and engine_bench measured a covering (account, timestamp_ms, id, amount) at some 9%
// of the durable payouts a second against 6-7% for this (docs/admin.md, "Statements and
// reconciliation reports"). Reading a day's lines in (timestamp_ms, id) order needs no sort on
// SQLite (an index ends with the rowid) and an incremental sort within one millisecond on
// PostgreSQL; the balances' sums read the rows of the movements since the day began.
// clang-format off: the condition stands where it stands in the SQL.
inline constexpr auto kSchemaV9 = concat(R"sql(
CREATE INDEX transfers_posted_debits ON transfers (debit_account_id, timestamp_ms)
  WHERE )sql",
                                         kPostedTransfer, R"sql(;
CREATE INDEX transfers_posted_credits ON transfers (credit_account_id, timestamp_ms)
  WHERE )sql",
                                         kPostedCredit, R"sql(;
)sql");
// clang-format on

// Version 10, the operators' reads (Store::search_payouts, failing_callbacks): the wallet and card
// payouts of every tenant by creation time, and the messages given up on. The first costs a payout
// one entry more, appended at the index's end (its key grows with time); the second only an
// abandoned message. A tenant's payouts by time end with the id, the search's order, so that
// PostgreSQL reads a tenant's newest through them (ordered as the search is) rather than walk every
// tenant's by time for the one's: the same entries, one column wider. The card orders' masked
// numbers are each dialect's (an expression index).
// clang-format off: the condition stands where it stands in the SQL.
inline constexpr auto kSchemaV10Shared = concat(R"sql(
CREATE INDEX payouts_by_time ON payouts (created_ms, id) WHERE )sql",
                                                kListedPayoutKinds, R"sql(;
DROP INDEX payouts_by_tenant_time;
CREATE INDEX payouts_by_tenant_time ON payouts (tenant, created_ms, id) WHERE )sql",
                                                kListedPayoutKinds, R"sql(;
CREATE INDEX outbox_abandoned ON outbox (updated_ms) WHERE )sql",
                                                kAbandonedMessage, R"sql(;
)sql");
// clang-format on
// The card orders' records (their kind spelled in each dialect's index of masked numbers).
#define PAYOUTD_CARD_ORDER_KIND "'card-order'"
static_assert(kCardOrderRecordKind == std::string_view(PAYOUTD_CARD_ORDER_KIND).substr(1, 10));

}  // namespace payoutd::store::sql
