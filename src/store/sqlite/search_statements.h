#pragma once
// The SQLite store's statements of the operators' reads (store.h: Store::search_payouts and the
// attention's), and the expression of the index records_card_mask, which the search by card
// spells word for word (an index on an expression serves only a query that spells it).
#include "store/shared_sql.h"

// The first 6 and last 4 digits of a card order's masked card ("411111XXXXXX1111").
#define PAYOUTD_CARD_MASK                                 \
  "substr(json_extract(value, '$.masked_pan'), 1, 6) || " \
  "substr(json_extract(value, '$.masked_pan'), -4)"

namespace payoutd::store::sqlite {

// Every search statement's parameters: ?1 status (-1: any), ?2 from, ?3 to, ?4 min, ?5 max,
// ?6 currency, ?7 tenant, ?8 and ?9 the cursor, ?10 the page's limit, ?11 the key (the payout's
// id, the partner id or the card) or, without one, the payouts the window examines; the search by
// partner id's ?12 and ?13 below.
#define PAYOUTD_FILTERS PAYOUTD_SEARCH_FILTERS("?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8", "?9")

// The payout by its id alone, then filtered (the other indexes never compete with the key).
inline constexpr auto kSearchById =
    sql::concat("SELECT " PAYOUT_COLUMNS
                " FROM (SELECT * FROM payouts WHERE id = ?11 LIMIT 1) p "
                "WHERE p.",
                sql::kListedPayoutKinds, " AND " PAYOUTD_FILTERS " LIMIT ?10");
// Each tenant (first, a CROSS JOIN keeps the order) probes its unique key (tenant, kind,
// partner_id). The kinds are parameters (?12, ?13: the listed kinds), so that the partial indexes
// of the listed kinds, which a range of dates could make look cheaper, are out of the question.
inline constexpr auto kSearchByPartner =
    sql::concat(sql::kPayoutTenants,
                "SELECT " PAYOUT_COLUMNS
                " FROM (SELECT p.* FROM tenants t CROSS JOIN payouts p ON p.tenant = t.tenant AND "
                "p.kind IN (?12, ?13) AND p.partner_id = ?11 WHERE " PAYOUTD_FILTERS
                ") s ORDER BY created_ms DESC, id DESC LIMIT ?10");
inline constexpr auto kSearchByCard = sql::concat(
    "SELECT " PAYOUT_COLUMNS
    " FROM (SELECT p.* FROM records r JOIN payouts p "
    "ON p.tenant = r.tenant AND p.kind = ",
    sql::number<PayoutKind::kCardPayout>(),
    " AND p.partner_id = r.key WHERE r.kind = " PAYOUTD_CARD_ORDER_KIND " AND " PAYOUTD_CARD_MASK
    " = ?11 AND " PAYOUTD_FILTERS ") s ORDER BY created_ms DESC, id DESC LIMIT ?10");
// The window's rows come out of its co-routine in its order, and the page stops at its limit: no
// ORDER BY over them, which SQLite would meet by sorting the whole window (store_search_test.cc
// checks the order).
inline constexpr auto kSearchWindow =
    PAYOUTD_SEARCH_WINDOW("", "?2", "?3", "?8", "?9", "?11", PAYOUTD_FILTERS, "", "?10");
inline constexpr auto kSearchTenantWindow = PAYOUTD_SEARCH_WINDOW(
    "tenant = ?7 AND ", "?2", "?3", "?8", "?9", "?11", PAYOUTD_FILTERS, "", "?10");
#undef PAYOUTD_FILTERS
// (from, to, cursor's created_ms, cursor's id, offset[, tenant]).
inline constexpr auto kSearchWindowEnd =
    PAYOUTD_SEARCH_WINDOW_END("", "?1", "?2", "?3", "?4", "?5");
inline constexpr auto kSearchTenantWindowEnd =
    PAYOUTD_SEARCH_WINDOW_END("tenant = ?6 AND ", "?1", "?2", "?3", "?4", "?5");

inline constexpr auto kUnsettledCardPayouts = PAYOUTD_UNSETTLED_CARD_PAYOUTS("?1", "?2", "?3");
inline constexpr auto kFailingCallbacks = PAYOUTD_FAILING_CALLBACKS("?1");
inline constexpr auto kOutboxQueues = PAYOUTD_OUTBOX_QUEUES("?1");

}  // namespace payoutd::store::sqlite
