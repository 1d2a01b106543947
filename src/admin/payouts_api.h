#pragma once
// The admin API's payouts across partners (docs/admin.md, "Payouts across partners"): the search
// of every provider's wallet and card payouts (GET payouts), a payout's timeline (GET
// payouts/{id}: its state changes, the card network's answers and every callback attempt), what
// needs an operator's attention (GET attention: card payouts awaiting reconciliation too long,
// callbacks failing or abandoned, the outbox's backlog), and a callback delivered again (POST
// outbox/{message}/redeliver). Reads of the store, answered once every state they may have seen is
// durable; the redelivery is decided in a job on the committer.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "admin/actor.h"
#include "core/json.h"
#include "engine/payouts.h"
#include "http/server.h"
#include "store/store.h"

namespace payoutd::admin {

inline constexpr std::size_t kPayoutsPageMax = 200;      // payouts one search answers
inline constexpr std::size_t kSearchScanMax = 10'000;    // payouts a search without a key examines
inline constexpr std::size_t kTimelineMessagesMax = 50;  // a payout's messages shown
inline constexpr std::size_t kAttentionItemsMax = 200;   // each list of GET attention
inline constexpr std::int64_t kAttentionAgeSecondsDefault = 900;  // awaiting longer than this

struct PayoutsApiOptions {
  // [admin] attention_age_s: a card payout awaiting reconciliation longer than this needs
  // attention (GET attention's age_s overrides it).
  std::int64_t attention_age_s = kAttentionAgeSecondsDefault;
};

class PayoutsApi {
 public:
  // `engine` runs the redelivery's job and orders the answers after durability; `store` is read.
  // Both outlive this API.
  PayoutsApi(engine::PayoutEngine& engine, const store::Store& store, PayoutsApiOptions options);

  // Answers `request` of `actor` when `path` (its segments after /admin/v1/) is one of its routes;
  // false otherwise.
  bool handle(http::Request& request, const Actor& actor, std::span<const std::string> path,
              const http::Responder& respond);
  // Called once a redelivery is durable (the outbox's dispatcher looks for due messages at once);
  // before the server starts.
  void on_redeliver(std::function<void()> wake) { wake_ = std::move(wake); }

 private:
  struct Call {
    http::Request& request;
    std::span<const std::string> path;
    const http::Responder& respond;
  };
  void search(const Call& call);     // GET payouts?tenant=&id=&card=&status=&...
  void timeline(const Call& call);   // GET payouts/{id} (admin/payout_timeline.cc)
  void attention(const Call& call);  // GET attention?age_s=&limit= (admin/attention.cc)
  void redeliver(const Call& call);  // POST outbox/{message}/redeliver (admin/attention.cc)
  // Answers `r` once every state the reads may have seen is durable.
  void answer_read(const Call& call, http::Response r);

  engine::PayoutEngine& engine_;
  const store::Store& store_;
  PayoutsApiOptions options_;
  std::function<void()> wake_;
};

// The masked cards of the card payouts among `page`, by payout id: one read per tenant among them.
store::Read<std::map<std::int64_t, std::string>> masked_cards(
    const store::Store& store, const std::vector<store::PayoutRecord>& page);
// A payout's summary as the search and the timeline write it; `card` its masked card, or empty.
void write_payout_summary(json::Writer& w, const store::PayoutRecord& p, std::string_view card);

}  // namespace payoutd::admin
