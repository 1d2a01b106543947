// The admin API's payout timeline, what needs attention, and a callback's redelivery
// (admin/payouts_api.h).
#include <algorithm>

#include "admin/answers.h"
#include "admin/payouts_api.h"
#include "admin/query_params.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "engine/cards/records.h"
#include "engine/committer.h"

namespace payoutd::admin {
namespace {

using store::OutboxState;

// One moment of a payout's timeline: its time, what happened, and the facts of it as JSON
// members (written after "at", "atMs" and "event").
struct Event {
  std::int64_t at_ms = 0;
  std::string event;
  std::function<void(json::Writer&)> facts = [](json::Writer&) {};
};

std::string_view state_name(OutboxState s) {
  static constexpr std::string_view kStates[] = {"PENDING", "DELIVERED", "ABANDONED"};
  return kStates[static_cast<int>(s)];
}

// The payout's own moments: created, the card network's answers and the rails the order left,
// and its final state.
void payout_events(const store::PayoutRecord& p, const std::optional<engine::CardOrder>& order,
                   std::vector<Event>& out) {
  out.push_back({p.created_ms, "created"});
  if (order) {
    for (const engine::RailAttempt& a : order->rail_attempts) {
      out.push_back({a.at_ms, "rail.left", [a](json::Writer& w) {
                       w.key("rail").string(a.rail).key("result").string(a.result);
                       w.key("code").string(a.code).key("text").string(a.text);
                     }});
    }
    if (order->operation_ms > 0) {
      const engine::CardOrder& o = *order;
      out.push_back({o.operation_ms, "rail.answer", [o](json::Writer& w) {
                       w.key("rail").string(o.rail).key("code").string(o.rail_code);
                       w.key("text").string(o.rail_text).key("approval").string(o.approval);
                     }});
    }
    if (order->stage == engine::OrderStage::kAwaiting) {
      const engine::CardOrder& o = *order;
      out.push_back({p.updated_ms, "rail.awaiting", [o](json::Writer& w) {
                       w.key("rail").string(o.rail).key("railState").string(o.rail_state);
                       w.key("checks").integer(o.rail_checks);
                     }});
    }
  }
  if (p.status == store::PayoutStatus::kSuccess) out.push_back({p.updated_ms, "success"});
  if (p.status == store::PayoutStatus::kDeclined) {
    const std::string code = p.decline_code;
    out.push_back(
        {p.updated_ms, "declined", [code](json::Writer& w) { w.key("declineCode").string(code); }});
  }
}

// A message's moments (a callback, or a code to a person): written, each delivery attempt, and
// abandoned.
void message_events(const store::OutboxMessage& m, const std::vector<store::OutboxAttempt>& log,
                    std::vector<Event>& out) {
  const std::int64_t id = m.id;
  out.push_back({m.created_ms, "message.queued", [m](json::Writer& w) {
                   w.key("message").integer(m.id).key("eventId").string(m.event_id);
                 }});
  for (const store::OutboxAttempt& a : log) {
    out.push_back({a.at_ms, "message.attempt", [id, a](json::Writer& w) {
                     w.key("message").integer(id).key("attempt").integer(a.attempt);
                     w.key("httpStatus").integer(a.http_status).key("error").string(a.error);
                     w.key("durationMs").integer(a.duration_ms);
                   }});
  }
  if (m.state == OutboxState::kAbandoned) {
    out.push_back({m.updated_ms, "message.abandoned",
                   [id](json::Writer& w) { w.key("message").integer(id); }});
  }
}

void write_events(json::Writer& w, std::vector<Event>& events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at_ms < b.at_ms; });
  w.key("events").begin_array();
  for (const Event& e : events) {
    w.begin_object().key("at").string(format_iso8601(e.at_ms, 0)).key("atMs").integer(e.at_ms);
    w.key("event").string(e.event);
    e.facts(w);
    w.end_object();
  }
  w.end_array();
}

void write_failing(json::Writer& w, const store::OutboxMessage& m) {
  w.begin_object().key("id").integer(m.id).key("tenant").string(m.tenant);
  w.key("eventId").string(m.event_id).key("payoutId").integer(m.payout_id);
  w.key("target").string(m.target).key("state").string(state_name(m.state));
  w.key("attempts").integer(m.attempts).key("lastResult").string(m.last_result);
  w.key("createdMs").integer(m.created_ms).key("updatedMs").integer(m.updated_ms);
  if (m.state == OutboxState::kPending) w.key("nextAttemptMs").integer(m.next_attempt_ms);
  w.end_object();
}

void write_queue(json::Writer& w, const store::OutboxQueue& q) {
  static constexpr std::string_view kLanes[] = {"http", "sms", "mail"};
  w.begin_object().key("tenant").string(q.tenant);
  w.key("lane").string(kLanes[static_cast<int>(q.lane)]);
  w.key("pending").integer(q.pending).key("failing").integer(q.failing);
  w.key("oldestCreatedMs").integer(q.oldest_created_ms);
  w.key("nextAttemptMs").integer(q.next_attempt_ms_min).end_object();
}

// What a redelivery's job decided.
enum class Redelivery : std::uint8_t { kDue, kNotFound, kDelivered, kNotCallback };
struct Redelivered {
  Redelivery outcome = Redelivery::kNotFound;
  store::OutboxMessage message;
};

// In the job's transaction: a callback not delivered is due now, pending again if it was
// abandoned; its attempts keep counting, so an abandoned one that fails again is abandoned again
// (one more delivery cycle, never a new retry schedule).
Redelivered redeliver_in(store::WriteTxn& txn, std::int64_t id, std::int64_t now_ms) {
  std::optional<store::OutboxMessage> m = txn.find_outbox(id);
  if (!m) return {Redelivery::kNotFound, {}};
  if (m->state == OutboxState::kDelivered) return {Redelivery::kDelivered, *m};
  if (store::to_a_person(m->target)) return {Redelivery::kNotCallback, *m};
  m->state = OutboxState::kPending;
  m->next_attempt_ms = now_ms;
  m->updated_ms = now_ms;
  txn.update_outbox(*m);
  return {Redelivery::kDue, *m};
}

http::Response redelivered_answer(const Redelivered& r) {
  switch (r.outcome) {
    case Redelivery::kNotFound:
      return error(404, "message.not.found", "no such outbox message");
    case Redelivery::kDelivered:
      return error(409, "message.delivered", "the message was delivered already");
    case Redelivery::kNotCallback:
      return error(409, "message.not.callback",
                   "only callbacks to partners are delivered again (a code to a person is not)");
    case Redelivery::kDue:
      break;
  }
  http::Response ok;
  json::Writer w(ok.body);
  w.begin_object().key("id").integer(r.message.id).key("state").string("PENDING");
  w.key("attempts").integer(r.message.attempts);
  w.key("nextAttemptMs").integer(r.message.next_attempt_ms).end_object();
  return ok;
}

}  // namespace

void PayoutsApi::timeline(const Call& call) {
  const std::optional<std::int64_t> id = positive_number(call.path[1]);
  if (!id) return call.respond(error(400, "validation.error", "id: a payout's id (digits)"));
  const auto found = store_.search_payouts({.payout_id = *id, .limit = 1});
  if (!found.ok()) return call.respond(unavailable());
  if (found->payouts.empty()) return call.respond(error(404, "payout.not.found", "no such payout"));
  const store::PayoutRecord& p = found->payouts.front();
  std::optional<engine::CardOrder> order;
  if (p.kind == store::PayoutKind::kCardPayout) {
    const auto record = store_.get_record(p.tenant, engine::kOrderRecord, p.partner_id);
    if (!record.ok()) return call.respond(unavailable());
    if (*record) order = engine::order_from_json(**record);
  }
  const auto messages = store_.payout_messages(p.id, kTimelineMessagesMax);
  if (!messages.ok()) return call.respond(unavailable());
  std::vector<Event> events;
  payout_events(p, order, events);
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("payout");
  write_payout_summary(w, p, order ? std::string_view(order->masked_pan) : std::string_view());
  w.key("messages").begin_array();
  for (const store::OutboxMessage& m : *messages) {
    const auto attempts = store_.outbox_attempts(m.id);
    if (!attempts.ok()) return call.respond(unavailable());
    write_outbox_message(w, m, *attempts);
    message_events(m, *attempts, events);
  }
  w.end_array();
  write_events(w, events);
  w.end_object();
  answer_read(call, std::move(r));
}

void PayoutsApi::attention(const Call& call) {
  const std::string_view q = call.request.query();
  const auto age_s = number_param(http::query_param(q, "age_s"), options_.attention_age_s);
  const auto limit = number_param(http::query_param(q, "limit"), 50);
  if (!age_s || !limit || *age_s > 365LL * 86'400 || *limit > std::int64_t{kAttentionItemsMax}) {
    return call.respond(
        error(400, "validation.error", "age_s: seconds, 1 to 31536000; limit: 1 to 200"));
  }
  const auto n = static_cast<std::size_t>(*limit);
  const std::int64_t before_ms = SystemClock().now_ms() - *age_s * 1000;
  const auto awaiting = store_.unsettled_card_payouts(before_ms, n);
  const auto failing = store_.failing_callbacks(n);
  const auto queues = store_.outbox_queues(n);
  if (!awaiting.ok() || !failing.ok() || !queues.ok()) return call.respond(unavailable());
  const auto cards = masked_cards(store_, *awaiting);
  if (!cards.ok()) return call.respond(unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("ageS").integer(*age_s).key("awaitingReconciliation").begin_array();
  for (const store::PayoutRecord& p : *awaiting) {
    const auto card = cards->find(p.id);
    write_payout_summary(w, p, card == cards->end() ? std::string_view() : card->second);
  }
  w.end_array().key("failingCallbacks").begin_array();
  for (const store::OutboxMessage& m : *failing) write_failing(w, m);
  w.end_array().key("outboxBacklog").begin_array();
  for (const store::OutboxQueue& queue : *queues) write_queue(w, queue);
  w.end_array().end_object();
  answer_read(call, std::move(r));
}

void PayoutsApi::redeliver(const Call& call) {
  const std::optional<std::int64_t> id = positive_number(call.path[1]);
  if (!id) return call.respond(error(400, "validation.error", "message: a message's id (digits)"));
  auto job = engine::make_job<Redelivered>(
      *id, [](const std::int64_t&, store::Footprint&) {},
      [](const std::int64_t& message, store::WriteTxn& txn, std::int64_t now_ms) {
        return redeliver_in(txn, message, now_ms);
      },
      [respond = call.respond, wake = wake_](const Redelivered& r, const store::Status& status) {
        if (!status.ok) return respond(unavailable());
        if (r.outcome == Redelivery::kDue && wake) wake();
        respond(redelivered_answer(r));
      });
  if (!engine_.committer().submit(std::move(job))) call.respond(unavailable());
}

}  // namespace payoutd::admin
