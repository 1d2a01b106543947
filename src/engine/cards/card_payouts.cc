#include "engine/cards/card_payouts.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/cards/card_store.h"
#include "engine/cards/hosted_jobs.h"
#include "engine/cards/order_jobs.h"

namespace payoutd::engine {

using store::PayoutKind;
using store::PayoutRecord;
using store::PayoutStatus;
using store::WriteTxn;

namespace {

// The scheduler's id of the check on waiting requests; payout ids are positive. Each check answers
// those that waited too long, and those whose payout another node sent and the rail has answered.
constexpr std::int64_t kWaiterCheck = -1;
constexpr std::int64_t kWaiterCheckIntervalMs = 250;
constexpr std::size_t kResumeMax = 1'000'000;
constexpr std::string_view kVaultKey = "data-key";
// The saved cards a page offers one client: more would not fit a page.
constexpr std::size_t kSavedCardsMax = 20;

void declare_payout_id(const std::int64_t& id, store::Footprint& f) { f.payout_ids.push_back(id); }

template <typename Input>
void declare_order(const Input& in, store::Footprint& f) {
  f.payouts.push_back({in.tenant, PayoutKind::kCardPayout, in.partner_id});
}

CardPayoutResult unavailable(std::string why) { return {OrderError::kUnavailable, std::move(why)}; }

}  // namespace

struct CardPayouts::Shared {
  std::mutex mutex;
  struct Waiter {
    std::int64_t deadline_ms;
    std::string tenant, partner_id;  // the payout's stored tenant key
    CardPayoutCallback done;
    bool sends = false;  // this request sends the payout: notify() answers its payout's waiters
  };
  std::unordered_map<std::int64_t, std::vector<Waiter>> waiters;
  bool stopping = false;
  std::map<std::string, CardNotifier, std::less<>> notifiers;  // by provider
  std::function<void()> wake;  // set before start(), read by jobs' completions

  CardNotifier notifier_of(std::string_view provider) {
    std::lock_guard lock(mutex);
    auto it = notifiers.find(provider);
    return it == notifiers.end() ? nullptr : it->second;
  }
};

CardPayouts::CardPayouts(PayoutEngine& engine, const store::Store& store, const Clock& clock,
                         cards::Vault& vault, const cards::BinTable& bins, rails::RailSet& rails,
                         CardEngineOptions options)
    : engine_(engine),
      store_(store),
      clock_(clock),
      vault_(vault),
      bins_(bins),
      rails_(rails),
      options_(options),
      shared_(std::make_unique<Shared>()),
      notify_([this](WriteTxn& txn, const PayoutRecord& p, const CardOrder& o,
                     std::int64_t now_ms) { return write_notifications(txn, p, o, now_ms); }),
      corporate_(engine, store, vault, rails),
      scheduler_(clock, [this](std::int64_t id) { fire(id); }) {}

CardPayouts::~CardPayouts() { stop(); }

std::string CardPayouts::open_vault() {
  std::promise<std::optional<std::string>> promise;
  auto future = promise.get_future();
  std::string fresh = vault_.new_wrapped_data_key();
  const bool submitted = engine_.committer().submit(make_job<std::string>(
      [fresh](WriteTxn& txn, std::int64_t) {
        if (auto stored_key = txn.find_record("", "vault", kVaultKey)) return *stored_key;
        txn.insert_record("", "vault", kVaultKey, fresh);
        return fresh;
      },
      [&promise](std::string key, const store::Status& status) {
        promise.set_value(status.ok ? std::optional<std::string>(std::move(key)) : std::nullopt);
      }));
  if (!submitted) return "the engine refused the vault's set-up";
  const auto key = future.get();
  if (!key) return "cannot read or store the vault's data key";
  if (!vault_.open(*key)) {
    return "the key-encryption key does not open the stored data key (wrong key?)";
  }
  return {};
}

void CardPayouts::start() {
  const auto processing =
      store_.processing_payouts(std::numeric_limits<std::int64_t>::max(), kResumeMax);
  // Unread, they are not lost: the settlement sweep hands every overdue one to resume().
  if (!processing.ok()) {
    spdlog::warn("card payouts not resumed: the sweep will resume them");
  } else {
    for (const PayoutRecord& p : *processing) {
      if (p.kind == PayoutKind::kCardPayout) resume(p);
    }
  }
  engine_.on_overdue_card_payout([this](const PayoutRecord& p) { resume(p); });
  scheduler_.schedule(kWaiterCheck, clock_.now_ms() + kWaiterCheckIntervalMs);
  scheduler_.start();
}

void CardPayouts::stop() {
  engine_.on_overdue_card_payout(nullptr);
  rails_.stop();
  scheduler_.stop();
  std::unordered_map<std::int64_t, std::vector<Shared::Waiter>> waiting;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    waiting.swap(shared_->waiters);
  }
  for (auto& [id, list] : waiting) {
    for (auto& w : list) w.done(unavailable("the server is stopping"));
  }
}

void CardPayouts::set_notifier(std::string provider, CardNotifier notifier) {
  std::lock_guard lock(shared_->mutex);
  shared_->notifiers[std::move(provider)] = std::move(notifier);
}

void CardPayouts::on_outbox(std::function<void()> wake) {
  corporate_.on_outbox(wake);
  shared_->wake = std::move(wake);
}

void CardPayouts::set_limits_source(LimitsSource source) { limits_source_ = std::move(source); }

card_jobs::ReserveRules CardPayouts::reserve_rules(const Tenant& tenant) const {
  return {limits_source_ ? limits_source_(tenant) : CardLimits{}, &rails_.routing()};
}

// Tells the payout's dialect of its new state, inside the batch (see CardNotifier). A message
// to a person carries a code: it is sealed before the batch stores it.
bool CardPayouts::write_notifications(WriteTxn& txn, const PayoutRecord& p, const CardOrder& o,
                                      std::int64_t now_ms) {
  const std::optional<Tenant> tenant = Tenant::parse(p.tenant);
  if (!tenant) return false;
  const CardNotifier notifier = shared_->notifier_of(tenant->provider);
  if (!notifier) return false;
  bool wrote = false;
  for (store::OutboxMessage& m : notifier(*tenant, p, o, now_ms)) {
    m.payout_id = p.id;
    m.request_id = o.request_id;
    m.sealed = m.sealed || store::to_a_person(m.target);
    if (m.sealed) m.body = vault_.seal_message(m.tenant, m.event_id, m.body);
    wrote |= txn.insert_outbox(m) != 0;
  }
  return wrote;
}

// --- the rail and the timers --------------------------------------------------------------------

// A payout in a state this engine should look at: at its due time (expiry, status check), or
// now when it may be waiting for a credit nobody is sending.
void CardPayouts::resume(const PayoutRecord& p) {
  const std::int64_t now = clock_.now_ms();
  scheduler_.schedule(p.id, std::min(p.due_ms, now));
}

void CardPayouts::fire(std::int64_t id) {
  if (id == kWaiterCheck) {
    expire_waiters();
    scheduler_.schedule(kWaiterCheck, clock_.now_ms() + kWaiterCheckIntervalMs);
    return;
  }
  examine(id);
}

void CardPayouts::examine(std::int64_t payout_id) {
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(), payout_id, &declare_payout_id,
      [this](const std::int64_t& id, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_examine(txn, id, notify_, now_ms);
      },
      [this, payout_id](const CardPayoutResult& r, const store::Status& status) {
        if (!status.ok) {
          scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_first_ms);
          return;
        }
        if (r.error != OrderError::kNone || r.payout.status != PayoutStatus::kProcessing) {
          if (r.error == OrderError::kNone) notify(r);  // expired while a page waited
          return;
        }
        switch (r.order.stage) {
          case OrderStage::kRegistered:
            scheduler_.schedule(payout_id, r.order.expires_ms);
            break;
          case OrderStage::kSending:
            send_when_due(r);
            break;
          case OrderStage::kAwaiting:
            ask_status(payout_id, r.order);
            break;
          case OrderStage::kFinal:
            break;
        }
      });
}

// The rail the order names; nullptr (logged, and looked at again later) when no rail of this
// node has that name: an operator took it out of the config while payouts were with it.
rails::CardRail* CardPayouts::rail_of(std::int64_t payout_id, const CardOrder& order) {
  rails::CardRail* rail = rails_.find(order.rail);
  if (!rail) {
    spdlog::error("card payout {}: its rail {} is not configured; it waits for it", payout_id,
                  order.rail);
    scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_max_ms);
  }
  return rail;
}

void CardPayouts::ask_status(std::int64_t payout_id, const CardOrder& order) {
  rails::CardRail* rail = rail_of(payout_id, order);
  if (!rail) return;
  rail->status(order.order_id, order.program,
               [this, payout_id, name = order.rail](rails::Answer a) {
                 answered(payout_id, std::move(a), true, name);
               });
}

void CardPayouts::dispatch(const PayoutRecord& p, const CardOrder& o, const Sealed* sealed) {
  rails::CardRail* rail = rail_of(p.id, o);
  if (!rail) return;
  // The card the request brought is still at hand, sealed: no read of the store for it.
  store::Read<std::optional<std::string>> pan =
      sealed && !sealed->blob.empty() ? vault_.unseal(p.tenant, sealed->card_id, sealed->blob)
                                      : card_jobs::open_card(store_, vault_, p.tenant, o.card_id);
  if (!pan.ok()) {
    // The store logged why; the payout's timer examines it again.
    scheduler_.schedule(p.id, clock_.now_ms() + options_.reconcile_first_ms);
    return;
  }
  if (!*pan) {
    // The vault cannot open the card: an operator must look (audit shows the payout open).
    spdlog::error("card payout {}: its card {} does not open in the vault", p.id, o.card_id);
    return;
  }
  rails::CreditOrder credit{
      o.order_id, std::move(**pan), o.cardholder, {p.amount, p.currency}, o.parties};
  credit.program = o.program;
  // This send is counted in rail_sends; every earlier one the rail answered kNotSent never left.
  credit.sent_before = o.rail_sends - o.rail_not_sent != 1;
  const std::int64_t payout_id = p.id;
  rail->credit(std::move(credit), [this, payout_id, name = o.rail](rails::Answer a) {
    answered(payout_id, std::move(a), false, name);
  });
}

void CardPayouts::answered(std::int64_t payout_id, rails::Answer answer, bool status_check,
                           std::string rail) {
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(),
      card_jobs::AnswerInput{payout_id, std::move(answer), status_check, std::move(rail)},
      +[](const card_jobs::AnswerInput& i, store::Footprint& f) {
        f.payout_ids.push_back(i.payout_id);
      },
      [this](const card_jobs::AnswerInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_answer(txn, i, options_, notify_, now_ms);
      },
      [this, payout_id](const CardPayoutResult& r, const store::Status& status) {
        if (!status.ok) {
          // The answer is lost with the batch; the rail still has it: ask again later.
          scheduler_.schedule(payout_id, clock_.now_ms() + options_.reconcile_first_ms);
          return;
        }
        after_change(r);
      });
}

// After an answer of the rail is durable: wake the requests waiting for it, and plan what next.
void CardPayouts::after_change(const CardPayoutResult& r) {
  if (r.error != OrderError::kNone) return;
  notify(r);
  if (r.payout.status != PayoutStatus::kProcessing) return;
  if (r.order.stage == OrderStage::kSending) {
    send_when_due(r);
  } else {
    scheduler_.schedule(r.payout.id, r.payout.due_ms);
  }
}

// A sending order goes to its rail now when its batch counted the send (fresh); otherwise (it
// waits out a kNotSent backoff, or its send is on the way) it is looked at again when due: never
// a hot loop while a network is down, and never a send the order's record did not count.
void CardPayouts::send_when_due(const CardPayoutResult& r) {
  if (r.fresh) {
    dispatch(r.payout, r.order);
  } else {
    scheduler_.schedule(r.payout.id, r.payout.due_ms);
  }
}

// --- requests waiting for the rail --------------------------------------------------------------

void CardPayouts::answer_when_sent(CardPayoutResult r, const Sealed* sealed,
                                   CardPayoutCallback done) {
  // An order waiting out a kNotSent backoff has no answer coming soon: answered as it stands.
  if (!awaits_rail(r)) return done(std::move(r));
  wait_for_rail(r.payout, r.fresh, done);
  if (r.fresh) dispatch(r.payout, r.order, sealed);
}

bool CardPayouts::awaits_rail(const CardPayoutResult& r) const {
  return r.error == OrderError::kNone && r.payout.status == PayoutStatus::kProcessing &&
         r.order.stage == OrderStage::kSending &&
         !transitions::waits_to_send(card_jobs::state_of(r), clock_.now_ms());
}

void CardPayouts::wait_for_rail(const PayoutRecord& p, bool sends, CardPayoutCallback done) {
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->stopping) {
      shared_->waiters[p.id].push_back({clock_.now_ms() + options_.waiter_timeout_ms, p.tenant,
                                        p.partner_id, std::move(done), sends});
      return;
    }
  }
  done(unavailable("the server is stopping"));
}

void CardPayouts::notify(const CardPayoutResult& r) {
  std::vector<Shared::Waiter> waiting;
  {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->waiters.find(r.payout.id);
    if (it == shared_->waiters.end()) return;
    waiting.swap(it->second);
    shared_->waiters.erase(it);
  }
  for (auto& w : waiting) w.done(r);
}

// Requests that waited longer than waiter_timeout_ms get the payout as it stands. A payout none
// of whose waiters sends it went to the rail from another node (or from this one's timers), and
// no notify() here may come: its stored state is read, and once the rail has answered, its
// waiters get it.
void CardPayouts::expire_waiters() {
  const std::int64_t now = clock_.now_ms();
  std::vector<Shared::Waiter> late;
  std::vector<std::tuple<std::int64_t, std::string, std::string>> sent_elsewhere;
  {
    std::lock_guard lock(shared_->mutex);
    for (auto it = shared_->waiters.begin(); it != shared_->waiters.end();) {
      auto& list = it->second;
      const auto expired = std::stable_partition(
          list.begin(), list.end(), [&](const Shared::Waiter& w) { return w.deadline_ms > now; });
      std::move(expired, list.end(), std::back_inserter(late));
      list.erase(expired, list.end());
      if (!list.empty() &&
          std::none_of(list.begin(), list.end(), [](const Shared::Waiter& w) { return w.sends; })) {
        sent_elsewhere.emplace_back(it->first, list.front().tenant, list.front().partner_id);
      }
      it = list.empty() ? shared_->waiters.erase(it) : std::next(it);
    }
  }
  for (Shared::Waiter& w : late) answer_stored(get_stored(w.tenant, w.partner_id), w.done);
  for (const auto& [id, tenant, partner_id] : sent_elsewhere) {
    CardPayoutResult r = get_stored(tenant, partner_id);
    if (r.error == OrderError::kUnavailable || awaits_rail(r)) continue;  // asked again next check
    std::vector<Shared::Waiter> waiting;
    {
      std::lock_guard lock(shared_->mutex);
      auto it = shared_->waiters.find(id);
      if (it == shared_->waiters.end()) continue;
      waiting.swap(it->second);
      shared_->waiters.erase(it);
    }
    for (Shared::Waiter& w : waiting) answer_stored(r, w.done);
  }
}

// A read's answer to a waiting request, once every commit it may have seen is durable.
void CardPayouts::answer_stored(CardPayoutResult r, const CardPayoutCallback& done) {
  engine_.answer_when_durable(done, std::move(r),
                              [] { return unavailable(std::string(kReadNotConfirmed)); });
}

// --- commands -----------------------------------------------------------------------------------

void CardPayouts::submit(CardPayoutRequest request, CardPayoutCallback done) {
  const card_jobs::ReserveRules rules = reserve_rules(request.tenant);
  card_jobs::SubmitInput in = card_jobs::prepare_submit(std::move(request), vault_, rules);
  Sealed sealed{in.card.facts.card_id, in.card.sealed};
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(), std::move(in),
      +[](const card_jobs::SubmitInput& i, store::Footprint& f) {
        f.payouts.push_back({i.tenant, PayoutKind::kCardPayout, i.request.partner_id});
        f.accounts.push_back({i.tenant, ledger::AccountKind::kFunder, i.source_code});
      },
      [this](const card_jobs::SubmitInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_submit(txn, i, options_, notify_, now_ms);
      },
      [this, done, sealed = std::move(sealed)](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done(unavailable("storage unavailable"));
        if (r.error == OrderError::kNone && r.payout.status == PayoutStatus::kProcessing &&
            r.order.stage == OrderStage::kRegistered) {
          scheduler_.schedule(r.payout.id, r.order.expires_ms);
        }
        answer_when_sent(std::move(r), &sealed, done);
      });
}

void CardPayouts::confirm(const Tenant& tenant, std::string partner_id, CardEntry card,
                          CardPayoutCallback done) {
  card_jobs::ConfirmInput in;
  in.tenant = tenant.key();
  in.card =
      card_jobs::seal_card(vault_, in.tenant, card.pan, card.issuer, std::move(card.cardholder));
  in.partner_id = std::move(partner_id);
  run_confirm(tenant, std::move(in), std::move(done));
}

void CardPayouts::confirm_saved(const Tenant& tenant, std::string partner_id,
                                std::string binding_id, std::string cardholder,
                                CardPayoutCallback done) {
  card_jobs::ConfirmInput in;
  in.tenant = tenant.key();
  in.partner_id = std::move(partner_id);
  in.saved = std::move(binding_id);
  in.cardholder = std::move(cardholder);
  run_confirm(tenant, std::move(in), std::move(done));
}

void CardPayouts::run_confirm(const Tenant& tenant, card_jobs::ConfirmInput in,
                              CardPayoutCallback done) {
  // A saved card is in the vault already: dispatch() opens it from there.
  Sealed sealed{in.card.facts.card_id, in.card.sealed};
  in.rules = reserve_rules(tenant);
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(), std::move(in),
      &declare_order<card_jobs::ConfirmInput>,
      [this](const card_jobs::ConfirmInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_confirm(txn, i, options_, notify_, now_ms);
      },
      [this, done, sealed = std::move(sealed)](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done(unavailable("storage unavailable"));
        answer_when_sent(std::move(r), &sealed, done);
      });
}

void CardPayouts::request_code(const Tenant& tenant, std::string partner_id, CodeAsk ask,
                               CardPayoutCallback done) {
  card_jobs::CodeInput in;
  in.tenant = tenant.key();
  in.card = card_jobs::seal_card(vault_, in.tenant, ask.card.pan, ask.card.issuer,
                                 std::move(ask.card.cardholder));
  in.saved = std::move(ask.saved);
  in.save = ask.save;
  in.send = ask.send;
  in.parties = std::move(ask.parties);
  in.code = card_jobs::new_code();
  in.code_mac = card_jobs::order_code_mac(vault_, in.tenant, partner_id, in.code);
  in.partner_id = std::move(partner_id);
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(), std::move(in),
      &declare_order<card_jobs::CodeInput>,
      [this](const card_jobs::CodeInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_request_code(txn, i, options_, notify_, now_ms);
      },
      card_jobs::or_unavailable(std::move(done), unavailable("storage unavailable")));
}

void CardPayouts::refuse(const Tenant& tenant, std::string partner_id, std::string decline_code,
                         CardPayoutCallback done) {
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(),
      card_jobs::RefuseInput{tenant.key(), std::move(partner_id), std::move(decline_code)},
      &declare_order<card_jobs::RefuseInput>,
      [this](const card_jobs::RefuseInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_refuse(txn, i, notify_, now_ms);
      },
      card_jobs::or_unavailable(std::move(done), unavailable("storage unavailable")));
}

void CardPayouts::describe(const Tenant& tenant, std::string partner_id, std::string description,
                           CardPayoutCallback done) {
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(),
      card_jobs::DescribeInput{tenant.key(), std::move(partner_id), std::move(description)},
      &declare_order<card_jobs::DescribeInput>,
      [this](const card_jobs::DescribeInput& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_describe(txn, i, notify_, now_ms);
      },
      card_jobs::or_unavailable(std::move(done), unavailable("storage unavailable")));
}

void CardPayouts::confirm_code(const Tenant& tenant, std::string partner_id, std::string code,
                               CardPayoutCallback done) {
  std::string key = tenant.key();
  const std::string mac = card_jobs::order_code_mac(vault_, key, partner_id, code);
  sodium_memzero(code.data(), code.size());
  card_jobs::CodeEntry in{std::move(key), std::move(partner_id), mac, {}};
  in.rules = reserve_rules(tenant);
  card_jobs::run_order_job(
      engine_.committer(), shared_->wake, engine_.payout_metrics(), std::move(in),
      &declare_order<card_jobs::CodeEntry>,
      [this](const card_jobs::CodeEntry& i, WriteTxn& txn, std::int64_t now_ms) {
        return card_jobs::apply_confirm_code(txn, i, options_, notify_, now_ms);
      },
      [this, done](CardPayoutResult r, const store::Status& status) {
        if (!status.ok) return done(unavailable("storage unavailable"));
        answer_when_sent(std::move(r), nullptr, done);
      });
}

// --- reads --------------------------------------------------------------------------------------

store::Read<std::vector<CardPayouts::SavedCard>> CardPayouts::saved_cards(
    const Tenant& owner, std::string_view client_id) const {
  std::vector<SavedCard> cards;
  // A client id holding the separator could spell the start of another client's keys.
  if (client_id.empty() || client_id.find(kFieldSeparator) != std::string_view::npos) return cards;
  const std::string tenant = owner.key();
  std::string prefix(client_id);
  prefix.push_back(kFieldSeparator);
  const auto index = store_.records_with_prefix(tenant, kClientCardIndex, prefix, kSavedCardsMax);
  if (!index.ok()) return Failure{index.error()};
  for (const auto& [key, binding_id] : *index) {
    auto b = card_jobs::get_binding(store_, tenant, binding_id);
    if (!b.ok()) return Failure{b.error()};
    // The binding itself names its client: a key an earlier version let another client's id
    // spell (a separator inside it) shows nothing.
    if (!*b || !(*b)->recipient_card() || (*b)->client_id != client_id) continue;
    auto card = card_jobs::get_card(store_, tenant, (*b)->card_id);
    if (!card.ok()) return Failure{card.error()};
    cards.push_back(
        {binding_id, (*b)->masked, *card ? (*card)->scheme : "", *card ? (*card)->country : ""});
  }
  return cards;
}

CardPayoutResult CardPayouts::get(const Tenant& tenant, std::string_view partner_id) const {
  return get_stored(tenant.key(), partner_id);
}

CardPayoutResult CardPayouts::get_stored(std::string_view tenant,
                                         std::string_view partner_id) const {
  auto payout = store_.get_payout(tenant, PayoutKind::kCardPayout, partner_id);
  if (!payout.ok()) return unavailable("storage unavailable");
  if (!*payout) return {OrderError::kNotFound, "no such order"};
  auto order = store_.get_record(tenant, kOrderRecord, partner_id);
  if (!order.ok()) return unavailable("storage unavailable");
  CardPayoutResult r;
  if (*order) {
    if (auto parsed = order_from_json(**order)) r.order = std::move(*parsed);
  }
  r.payout = std::move(**payout);
  return r;
}

CardPayoutResult CardPayouts::get_by_order_id(std::string_view order_id, std::string_view provider,
                                              Tenant* owner) const {
  auto read = store_.get_record("", kOrderIdIndex, order_id);
  if (!read.ok()) return unavailable("storage unavailable");
  const std::optional<std::string>& index = *read;
  if (!index) return {OrderError::kNotFound, "no such order"};
  // The index holds "<tenant's stored key><separator><partner id>" (apply_submit).
  const std::string_view entry = *index;
  const auto sep = entry.find(kFieldSeparator);
  if (sep == std::string_view::npos) return {OrderError::kNotFound, "no such order"};
  std::optional<Tenant> tenant = Tenant::parse(entry.substr(0, sep));
  if (!tenant || tenant->provider != provider) return {OrderError::kNotFound, "no such order"};
  *owner = std::move(*tenant);
  return get_stored(entry.substr(0, sep), entry.substr(sep + 1));
}

}  // namespace payoutd::engine
