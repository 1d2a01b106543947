#pragma once
// The PostgreSQL store's statements of the operators' reads (store.h: Store::search_payouts and
// the attention's), and the expression of the index records_card_mask, which the search by card
// spells word for word (an index on an expression serves only a query that spells it). Per-key
// lookups are LATERAL subqueries, as everywhere in this store (statements.h says why).
#include "store/shared_sql.h"

// The first 6 and last 4 digits of a card order's masked card ("411111XXXXXX1111").
#define PAYOUTD_CARD_MASK \
  "left(value::jsonb ->> 'masked_pan', 6) || right(value::jsonb ->> 'masked_pan', 4)"

namespace payoutd::store::postgres {

// Every search statement's parameters: $1 status (-1: any), $2 from, $3 to, $4 min, $5 max,
// $6 currency, $7 tenant, $8 and $9 the cursor, $10 the page's limit, $11 the key (the payout's
// id, the partner id or the card) or, without one, the payouts the window examines.
#define PAYOUTD_FILTERS                                                                     \
  PAYOUTD_SEARCH_FILTERS("$1::int", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint", \
                         "$6::text", "$7::text", "$8::bigint", "$9::bigint")

inline constexpr auto kSearchById =
    sql::concat("SELECT " PAYOUT_COLUMNS " FROM payouts p WHERE p.id = $11::bigint AND p.",
                sql::kListedPayoutKinds, " AND " PAYOUTD_FILTERS " LIMIT $10::bigint");
inline constexpr auto kSearchByPartner = sql::concat(
    sql::kPayoutTenants,
    "SELECT " PAYOUT_COLUMNS " FROM (SELECT p.* FROM tenants t CROSS JOIN LATERAL (SELECT * FROM "
    "payouts WHERE tenant = t.tenant AND ",
    sql::kListedPayoutKinds,
    " AND partner_id = $11::text LIMIT 2) p WHERE " PAYOUTD_FILTERS
    ") s ORDER BY created_ms DESC, id DESC LIMIT $10::bigint");
inline constexpr auto kSearchByCard = sql::concat(
    "SELECT " PAYOUT_COLUMNS " FROM (SELECT p.* FROM records r CROSS JOIN LATERAL (SELECT * FROM "
    "payouts WHERE tenant = r.tenant AND kind = ",
    sql::number<PayoutKind::kCardPayout>(),
    " AND partner_id = r.key LIMIT 1) p WHERE r.kind = " PAYOUTD_CARD_ORDER_KIND
    " AND " PAYOUTD_CARD_MASK " = $11::text AND " PAYOUTD_FILTERS
    ") s ORDER BY created_ms DESC, id DESC LIMIT $10::bigint");
inline constexpr auto kSearchWindow =
    PAYOUTD_SEARCH_WINDOW("", "$2::bigint", "$3::bigint", "$8::bigint", "$9::bigint", "$11::bigint",
                          PAYOUTD_FILTERS, "$10::bigint");
inline constexpr auto kSearchTenantWindow =
    PAYOUTD_SEARCH_WINDOW("tenant = $7::text AND ", "$2::bigint", "$3::bigint", "$8::bigint",
                          "$9::bigint", "$11::bigint", PAYOUTD_FILTERS, "$10::bigint");
#undef PAYOUTD_FILTERS
// (from, to, cursor's created_ms, cursor's id, offset[, tenant]).
inline constexpr auto kSearchWindowEnd = PAYOUTD_SEARCH_WINDOW_END(
    "", "$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint");
inline constexpr auto kSearchTenantWindowEnd =
    PAYOUTD_SEARCH_WINDOW_END("tenant = $6::text AND ", "$1::bigint", "$2::bigint", "$3::bigint",
                              "$4::bigint", "$5::bigint");

inline constexpr auto kUnsettledCardPayouts =
    PAYOUTD_UNSETTLED_CARD_PAYOUTS("$1::bigint", "$2::bigint");
inline constexpr auto kFailingCallbacks = PAYOUTD_FAILING_CALLBACKS("$1::bigint");
inline constexpr auto kOutboxQueues = PAYOUTD_OUTBOX_QUEUES("$1::bigint");

}  // namespace payoutd::store::postgres
