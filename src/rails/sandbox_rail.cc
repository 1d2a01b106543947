#include "rails/sandbox_rail.h"

#include "core/files.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "cards/card.h"
#include "core/ids.h"

namespace payoutd::rails {

bool is_sandbox_behaviour(std::string_view b) {
  return b == "decline" || b == "processing-success" || b == "processing-decline" ||
         b == "timeout" || b == "not-sent-then-success";
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApproved:
      return "approved";
    case Outcome::kDeclined:
      return "declined";
    case Outcome::kProcessing:
      return "processing";
    case Outcome::kUnknown:
      return "unknown";
    case Outcome::kNotFound:
      return "not found";
    case Outcome::kNotSent:
      return "not sent";
  }
  return "unknown";
}

namespace {

// What the network does with a card (shared/spec/sandbox.md, test cards).
enum class Behaviour { kApprove, kDecline, kSlowApprove, kSlowDecline, kLoseAnswer, kNotSentFirst };

Behaviour behaviour_of(const SandboxRailOptions& options, const std::string& pan) {
  const auto it = options.cards.find(pan);
  if (it == options.cards.end()) return Behaviour::kApprove;
  if (it->second == "decline") return Behaviour::kDecline;
  if (it->second == "processing-success") return Behaviour::kSlowApprove;
  if (it->second == "processing-decline") return Behaviour::kSlowDecline;
  if (it->second == "timeout") return Behaviour::kLoseAnswer;
  if (it->second == "not-sent-then-success") return Behaviour::kNotSentFirst;
  return Behaviour::kApprove;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS credits (
  reference TEXT PRIMARY KEY, masked_pan TEXT NOT NULL, amount INTEGER NOT NULL,
  currency TEXT NOT NULL, outcome TEXT NOT NULL, final_outcome TEXT NOT NULL,
  final_ms INTEGER NOT NULL, code TEXT NOT NULL, approval TEXT NOT NULL,
  received INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  parties TEXT NOT NULL DEFAULT '', operation TEXT NOT NULL DEFAULT 'credit') WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS not_sent (
  reference TEXT PRIMARY KEY, sends INTEGER NOT NULL) WITHOUT ROWID;
)sql";

std::string approval_number() {
  unsigned char b[8];
  random_bytes(b, sizeof b);
  std::uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  std::string digits = std::to_string(v % 1'000'000'000'000ULL);
  return std::string(12 - digits.size(), '0') + digits;
}

}  // namespace

struct SandboxRail::Impl {
  struct Event {
    enum class Kind { kCredit, kStatus, kAnswer } kind;
    CreditOrder order;      // kCredit
    std::string reference;  // kStatus
    Answer answer;          // kAnswer
    AnswerCallback done;
  };

  SandboxRailOptions options;
  const Clock& clock;
  sqlite3* db = nullptr;
  mutable std::mutex mutex;     // events, stopping
  mutable std::mutex db_mutex;  // db, prepared (the rail's thread, and find() for the admin API)
  std::condition_variable wake;
  std::multimap<std::int64_t, Event> events;  // by due time
  bool stopping = false;
  std::thread thread;

  Impl(SandboxRailOptions o, const Clock& c) : options(std::move(o)), clock(c) {
    if (sqlite3_open_v2(options.path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      throw std::runtime_error("sandbox rail: cannot open " + options.path + ": " + why);
    }
    // The network's record survives a crash of the engine's process (the log is in the OS's
    // page cache); it does not claim to survive a power cut: it is a simulator.
    exec("PRAGMA journal_mode=WAL");
    make_private_database(options.path);
    exec("PRAGMA synchronous=NORMAL");
    exec(kSchema);
    if (!has_column("credits", "parties")) {  // a record made before credits carried parties
      exec("ALTER TABLE credits ADD COLUMN parties TEXT NOT NULL DEFAULT ''");
    }
    if (!has_column("credits", "operation")) {  // a record made before card checks
      exec("ALTER TABLE credits ADD COLUMN operation TEXT NOT NULL DEFAULT 'credit'");
    }
    thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "sandbox-rail");
      run();
    });
  }

  ~Impl() {
    stop();
    for (auto& [sql, s] : prepared) sqlite3_finalize(s);
    sqlite3_close(db);
  }

  bool has_column(const char* table, std::string_view column) {
    sqlite3_stmt* s = nullptr;
    const std::string sql = std::string("PRAGMA table_info(") + table + ")";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    bool found = false;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
      found |= name && column == name;
    }
    sqlite3_finalize(s);
    return found;
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string why = error ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error(std::string("sandbox rail: ") + why);
    }
  }

  void post(std::int64_t due_ms, Event event) {
    {
      std::lock_guard lock(mutex);
      if (!stopping) {
        events.emplace(due_ms, std::move(event));
        wake.notify_one();
        return;
      }
    }
    event.done(Answer{Outcome::kUnknown, {}, {}, "the card network is stopped", 0});
  }

  void stop() {
    std::multimap<std::int64_t, Event> left;
    {
      std::lock_guard lock(mutex);
      if (stopping && !thread.joinable()) return;
      stopping = true;
      wake.notify_one();
    }
    if (thread.joinable()) thread.join();
    {
      std::lock_guard lock(mutex);
      left.swap(events);
    }
    for (auto& [due, e] : left) {
      e.done(Answer{Outcome::kUnknown, {}, {}, "the card network is stopped", 0});
    }
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      if (events.empty()) {
        wake.wait(lock);
        continue;
      }
      const std::int64_t now = clock.now_ms();
      if (events.begin()->first > now) {
        wake.wait_for(lock, std::chrono::milliseconds(events.begin()->first - now));
        continue;
      }
      // Everything due now, handled in one transaction of the network's record.
      std::vector<Event> due;
      while (!events.empty() && events.begin()->first <= now && due.size() < 4096) {
        due.push_back(std::move(events.begin()->second));
        events.erase(events.begin());
      }
      lock.unlock();
      std::vector<std::pair<AnswerCallback, Answer>> answers;
      answers.reserve(due.size());
      try {
        std::lock_guard db_lock(db_mutex);
        exec("BEGIN");
        for (Event& e : due) handle(e, now, answers);
        exec("COMMIT");
      } catch (const std::exception& e) {
        // The network's own record failed: to the engine it is a network that did not answer.
        spdlog::error("sandbox rail: {}", e.what());
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        const Answer failed{Outcome::kUnknown, {}, {}, "the card network failed", 0};
        for (auto& answer : answers) answer.second = failed;
        for (Event& ev : due) {
          if (ev.done) answers.emplace_back(std::move(ev.done), failed);
        }
      }
      for (auto& [done, answer] : answers) done(std::move(answer));
      lock.lock();
    }
  }

  void handle(Event& e, std::int64_t now, std::vector<std::pair<AnswerCallback, Answer>>& out) {
    switch (e.kind) {
      case Event::Kind::kAnswer:
        out.emplace_back(std::move(e.done), std::move(e.answer));
        return;
      case Event::Kind::kStatus: {
        auto credit = load(e.reference, now);
        Answer a;
        if (!credit) {
          a.outcome = Outcome::kNotFound;
          a.text = "no credit with this reference";
        } else {
          a = answer_of(*credit);
        }
        out.emplace_back(std::move(e.done), std::move(a));
        return;
      }
      case Event::Kind::kCredit: {
        const CreditOrder& o = e.order;
        auto credit = load(o.reference, now);
        const Behaviour b = behaviour_of(options, o.pan);
        if (!credit && b == Behaviour::kNotSentFirst && refuse(o.reference)) {
          out.emplace_back(std::move(e.done),
                           Answer{Outcome::kNotSent,
                                  {},
                                  {},
                                  "cannot connect to the card network: nothing was sent",
                                  0});
          return;
        }
        if (credit) {
          credit->received += 1;
          statement("UPDATE credits SET received = received + 1 WHERE reference = ?1",
                    {o.reference});
        } else {
          SandboxCredit c;
          c.reference = o.reference;
          c.masked_pan = cards::mask_pan(o.pan);
          c.amount = o.amount.minor;
          c.currency = std::string(o.amount.currency.code());
          c.received = 1;
          c.created_ms = now;
          c.parties = o.parties;
          c.operation = o.verification ? "verification" : "credit";
          // A card check is answered at once: debited and returned, or refused.
          const bool slow =
              !o.verification && (b == Behaviour::kSlowApprove || b == Behaviour::kSlowDecline);
          const bool declines = b == Behaviour::kDecline || b == Behaviour::kSlowDecline;
          c.final_ms = slow ? now + options.settle_ms : now;
          c.outcome = declines ? "declined" : "approved";
          c.code = declines ? "05" : "00";
          c.approval = declines ? "" : approval_number();
          insert(c, slow ? "processing" : c.outcome);
          credit = c;
          credit->outcome = slow ? "processing" : c.outcome;
        }
        if (b == Behaviour::kLoseAnswer) {
          // The network made the credit, but its answer never reaches the connector: the
          // connector's timeout answers instead.
          Event lost{
              Event::Kind::kAnswer,
              {},
              {},
              Answer{Outcome::kUnknown, {}, {}, "no answer from the card network in time", 0},
              std::move(e.done)};
          std::lock_guard lock(mutex);
          events.emplace(now + std::max<std::int64_t>(options.timeout_ms - options.latency_ms, 0),
                         std::move(lost));
          return;
        }
        out.emplace_back(std::move(e.done), answer_of(*credit));
        return;
      }
    }
  }

  static Answer answer_of(const SandboxCredit& c) {
    Answer a;
    a.at_ms = c.final_ms;
    if (c.outcome == "processing") {
      a.outcome = Outcome::kProcessing;
      a.text = "the credit is being processed";
    } else if (c.outcome == "approved") {
      a.outcome = Outcome::kApproved;
      a.approval = c.approval;
      a.code = c.code;
      a.text = "approved";
    } else {
      a.outcome = Outcome::kDeclined;
      a.code = c.code;
      a.text = "do not honour";
    }
    return a;
  }

  // Prepared once per SQL text (the texts are literals: their addresses are the keys).
  std::map<const char*, sqlite3_stmt*> prepared;

  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt*& s = prepared[sql];
    if (!s && sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sandbox rail: ") + sqlite3_errmsg(db));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }

  void statement(const char* sql, std::initializer_list<std::string_view> texts,
                 std::initializer_list<std::int64_t> numbers = {}) {
    sqlite3_stmt* s = prepare(sql);
    int i = 1;
    for (std::string_view t : texts) {
      sqlite3_bind_text(s, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    }
    for (std::int64_t n : numbers) sqlite3_bind_int64(s, i++, n);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("sandbox rail: ") + sqlite3_errmsg(db));
  }

  void insert(const SandboxCredit& c, const std::string& outcome) {
    statement(
        "INSERT INTO credits (reference, masked_pan, currency, outcome, final_outcome, code, "
        "approval, parties, operation, amount, final_ms, received, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        {c.reference, c.masked_pan, c.currency, outcome, c.outcome, c.code, c.approval, c.parties,
         c.operation},
        {c.amount, c.final_ms, c.received, c.created_ms});
  }

  // How many sends of `reference` the connector could not make (not-sent-then-success).
  int not_sent_sends(const std::string& reference) {
    sqlite3_stmt* s = prepare("SELECT sends FROM not_sent WHERE reference = ?1");
    sqlite3_bind_text(s, 1, reference.data(), static_cast<int>(reference.size()), SQLITE_TRANSIENT);
    const int sends = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    return sends;
  }

  // Whether this send of `reference` fails before it reaches the network (counted, in the
  // network's record so that a restarted engine meets the same count).
  bool refuse(const std::string& reference) {
    if (not_sent_sends(reference) >= options.not_sent_sends) return false;
    statement(
        "INSERT INTO not_sent (reference, sends) VALUES (?1, 1) "
        "ON CONFLICT (reference) DO UPDATE SET sends = sends + 1",
        {reference});
    return true;
  }

  // The credit as of `now`: a processing credit whose time has come is made final first.
  std::optional<SandboxCredit> load(const std::string& reference, std::int64_t now) {
    sqlite3_stmt* s = prepare(
        "SELECT masked_pan, amount, currency, outcome, final_outcome, final_ms, "
        "code, approval, received, created_ms, parties, operation FROM credits WHERE reference = "
        "?1");
    sqlite3_bind_text(s, 1, reference.data(), static_cast<int>(reference.size()), SQLITE_TRANSIENT);
    std::optional<SandboxCredit> c;
    std::string final_outcome;
    if (sqlite3_step(s) == SQLITE_ROW) {
      auto text = [&](int col) {
        const auto* p = sqlite3_column_text(s, col);
        return std::string(p ? reinterpret_cast<const char*>(p) : "");
      };
      c = SandboxCredit{reference,
                        text(0),
                        text(3),
                        text(6),
                        text(7),
                        sqlite3_column_int64(s, 1),
                        text(2),
                        sqlite3_column_int(s, 8),
                        sqlite3_column_int64(s, 9),
                        sqlite3_column_int64(s, 5),
                        text(10),
                        text(11)};
      final_outcome = text(4);
    }
    sqlite3_reset(s);
    if (c && c->outcome == "processing" && now >= c->final_ms) {
      c->outcome = final_outcome;
      statement("UPDATE credits SET outcome = final_outcome WHERE reference = ?1", {reference});
    }
    return c;
  }
};

SandboxRail::SandboxRail(SandboxRailOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

SandboxRail::~SandboxRail() = default;

std::string_view SandboxRail::name() const { return impl_->options.name; }

void SandboxRail::credit(CreditOrder order, AnswerCallback done) {
  Impl::Event e{Impl::Event::Kind::kCredit, std::move(order), {}, {}, std::move(done)};
  impl_->post(impl_->clock.now_ms() + impl_->options.latency_ms, std::move(e));
}

void SandboxRail::status(std::string reference, Program /*program*/, AnswerCallback done) {
  Impl::Event e{Impl::Event::Kind::kStatus, {}, std::move(reference), {}, std::move(done)};
  impl_->post(impl_->clock.now_ms() + impl_->options.latency_ms, std::move(e));
}

void SandboxRail::stop() { impl_->stop(); }

std::optional<SandboxCredit> SandboxRail::find(const std::string& reference) const {
  std::lock_guard lock(impl_->db_mutex);
  std::optional<SandboxCredit> credit = impl_->load(reference, 0);
  if (credit) credit->not_sent = impl_->not_sent_sends(reference);
  return credit;
}

}  // namespace payoutd::rails
