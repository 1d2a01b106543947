#include "engine/operator_log.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>

#include "core/hex.h"
#include "core/json.h"
#include "engine/numbered_records.h"
#include "engine/operator_records.h"

namespace payoutd::engine {
namespace {

constexpr std::string_view kLabel = "payoutd operator audit log v1";
constexpr std::string_view kHeadKey = "head";
// check_operator_log reads the log in blocks of this many entries (keys sharing a prefix).
constexpr std::int64_t kBlockEntries = 100'000;
constexpr std::size_t kKeyDigits = 20;
constexpr std::size_t kBlockPrefixDigits = kKeyDigits - 5;  // 10^5 entries per block

struct Head {
  std::int64_t seq = 0;
  std::string hash;
};

std::optional<std::int64_t> int_of(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m ? m->as_int64() : std::nullopt;
}

std::string head_json(const Head& head) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("seq").integer(head.seq).key("hash").string(head.hash).end_object();
  return out;
}

std::optional<Head> parse_head(std::string_view text) {
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  const auto seq = int_of(*parsed.value, "seq");
  if (!seq || *seq < 0) return std::nullopt;
  return Head{*seq, json::string_member(*parsed.value, "hash")};
}

// Every field, each as "<length>:<bytes>", after a label naming the format: no two different
// entries have the same canonical form, whatever their fields hold.
std::string canonical(const OperatorEntry& e) {
  std::string out(kLabel);
  auto field = [&out](std::string_view v) {
    out.append(std::to_string(v.size())).append(1, ':').append(v);
  };
  field(std::to_string(e.seq));
  field(std::to_string(e.at_ms));
  for (const std::string* f :
       {&e.actor, &e.via, &e.address, &e.action, &e.target, &e.outcome, &e.detail, &e.prev}) {
    field(*f);
  }
  return out;
}

bool matches(const OperatorEntry& e, const OperatorLogQuery& q) {
  return (q.actor.empty() || e.actor == q.actor) && e.action.starts_with(q.action) &&
         e.target.starts_with(q.target) && e.outcome.starts_with(q.outcome) &&
         e.at_ms >= q.from_ms && (q.to_ms == 0 || e.at_ms < q.to_ms);
}

// Checks one entry against what came before it (`expected_seq`, `prev`), adding a line per
// violation; moves both on past it.
void check_entry(const AuditKey& key, const std::string& record_key, const std::string& value,
                 std::int64_t* expected_seq, std::string* prev, std::vector<std::string>* out) {
  const std::optional<OperatorEntry> e = parse_operator_entry(value);
  if (!e || operator_entry_key(e->seq) != record_key) {
    out->push_back(fmt::format("operator audit log: entry {} is not an entry", record_key));
    ++*expected_seq;
    prev->clear();
    return;
  }
  if (e->seq > *expected_seq) {
    out->push_back(e->seq == *expected_seq + 1
                       ? fmt::format("operator audit log: entry {} removed", *expected_seq)
                       : fmt::format("operator audit log: entries {} to {} removed", *expected_seq,
                                     e->seq - 1));
  } else if (e->prev != *prev) {
    out->push_back(fmt::format(
        "operator audit log: entry {} does not follow entry {} (its previous hash differs)", e->seq,
        e->seq - 1));
  }
  if (operator_entry_hash(key, *e) != e->hash) {
    out->push_back(
        fmt::format("operator audit log: entry {} altered (its hash does not match)", e->seq));
  }
  *expected_seq = e->seq + 1;
  *prev = e->hash;
}

}  // namespace

AuditKey AuditKey::from_kek(const std::array<std::uint8_t, 32>& kek) {
  AuditKey key;
  crypto_generichash(key.bytes.data(), key.bytes.size(),
                     reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(),
                     kek.data(), kek.size());
  key.keyed = true;
  return key;
}

std::string operator_entry_key(std::int64_t seq) { return numbered_key(seq); }

std::string operator_entry_hash(const AuditKey& key, const OperatorEntry& entry) {
  const std::string text = canonical(entry);
  unsigned char mac[32];
  crypto_generichash(mac, sizeof mac, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), key.keyed ? key.bytes.data() : nullptr,
                     key.keyed ? key.bytes.size() : 0);
  return hex_encode(mac);
}

std::string operator_entry_json(const OperatorEntry& e) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("seq").integer(e.seq).key("at_ms").integer(e.at_ms);
  w.key("actor").string(e.actor).key("via").string(e.via).key("address").string(e.address);
  w.key("action").string(e.action).key("target").string(e.target);
  w.key("outcome").string(e.outcome).key("detail").string(e.detail);
  w.key("prev").string(e.prev).key("hash").string(e.hash).end_object();
  return out;
}

std::optional<OperatorEntry> parse_operator_entry(std::string_view text) {
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  const json::Value& v = *parsed.value;
  const auto seq = int_of(v, "seq");
  const auto at_ms = int_of(v, "at_ms");
  if (!seq || !at_ms || *seq <= 0) return std::nullopt;
  OperatorEntry e;
  e.seq = *seq;
  e.at_ms = *at_ms;
  e.actor = json::string_member(v, "actor");
  e.via = json::string_member(v, "via");
  e.address = json::string_member(v, "address");
  e.action = json::string_member(v, "action");
  e.target = json::string_member(v, "target");
  e.outcome = json::string_member(v, "outcome");
  e.detail = json::string_member(v, "detail");
  e.prev = json::string_member(v, "prev");
  e.hash = json::string_member(v, "hash");
  return e;
}

bool operator_log_writable(store::WriteTxn& txn) {
  const std::optional<std::string> stored = txn.find_record("", kOperatorAuditHead, kHeadKey);
  return !stored || parse_head(*stored).has_value();
}

std::optional<OperatorEntry> append_operator_entry(store::WriteTxn& txn, const AuditKey& key,
                                                   OperatorAction action, std::int64_t now_ms) {
  const std::optional<std::string> stored = txn.find_record("", kOperatorAuditHead, kHeadKey);
  Head head;
  if (stored) {
    std::optional<Head> parsed = parse_head(*stored);
    if (!parsed) return std::nullopt;
    head = std::move(*parsed);
  }
  OperatorEntry e;
  static_cast<OperatorAction&>(e) = std::move(action);
  e.seq = head.seq + 1;
  e.at_ms = now_ms;
  e.prev = head.hash;
  e.hash = operator_entry_hash(key, e);
  // Two nodes appending at once both insert this key: one commit fails as a conflict and runs
  // again, reading the other's head.
  txn.insert_record("", kOperatorAuditEntry, operator_entry_key(e.seq), operator_entry_json(e));
  const std::string next = head_json({e.seq, e.hash});
  if (stored) {
    txn.update_record("", kOperatorAuditHead, kHeadKey, next);
  } else {
    txn.insert_record("", kOperatorAuditHead, kHeadKey, next);
  }
  return e;
}

void submit_operator_entry(Committer& committer, const AuditKey& key, OperatorAction action,
                           std::function<void(std::int64_t seq)> done) {
  auto job = make_job<std::int64_t>(
      [key, action = std::move(action)](store::WriteTxn& txn, std::int64_t now_ms) {
        const auto entry = append_operator_entry(txn, key, action, now_ms);
        return entry ? entry->seq : std::int64_t{0};
      },
      [done](std::int64_t seq, const store::Status& status) { done(status.ok ? seq : 0); });
  if (!committer.submit(std::move(job))) done(0);
}

OperatorLogCheck check_operator_log(const store::Store& store, const AuditKey& key) {
  OperatorLogCheck check;
  std::int64_t expected_seq = 1;
  std::string prev;
  for (std::int64_t block = 0;; ++block) {
    const std::string prefix =
        operator_entry_key(block * kBlockEntries).substr(0, kBlockPrefixDigits);
    const auto records = store.records_with_prefix("", kOperatorAuditEntry, prefix,
                                                   static_cast<std::size_t>(kBlockEntries));
    if (!records.ok()) {
      check.read_failed = true;
      check.violations.push_back("operator audit log: the store could not be read: " +
                                 records.error().message);
      return check;
    }
    // An empty block past the last entry ends the log (block 0 holds seq 0, never used).
    if (records->empty() && block > 0) break;
    for (const auto& [record_key, value] : *records) {
      check_entry(key, record_key, value, &expected_seq, &prev, &check.violations);
      ++check.entries;
    }
  }
  const auto head = store.get_record("", kOperatorAuditHead, kHeadKey);
  if (!head.ok()) {
    check.read_failed = true;
    check.violations.push_back("operator audit log: the head could not be read");
    return check;
  }
  const std::int64_t last_seq = expected_seq - 1;
  if (!*head) {
    if (last_seq > 0) check.violations.push_back("operator audit log: the head is missing");
    return check;
  }
  const std::optional<Head> h = parse_head(**head);
  if (!h) {
    check.violations.push_back("operator audit log: the head is damaged");
    return check;
  }
  check.head_seq = h->seq;
  check.head_hash = h->hash;
  if (h->seq > last_seq) {
    check.violations.push_back(
        h->seq == last_seq + 1
            ? fmt::format("operator audit log: entry {} removed (the head names it)", h->seq)
            : fmt::format("operator audit log: entries {} to {} removed (the head names {})",
                          last_seq + 1, h->seq, h->seq));
  } else if (h->seq == last_seq && h->hash != prev) {
    check.violations.push_back(
        fmt::format("operator audit log: entry {} is not the one the head names", h->seq));
  }
  // The head is read after the entries, so it names at least every entry read: one below them
  // was rewound, or entries were added without it.
  if (h->seq < last_seq) {
    check.violations.push_back(fmt::format(
        "operator audit log: entries {} to {} are beyond the head", h->seq + 1, last_seq));
  }
  return check;
}

store::Read<OperatorLogPage> operator_log_page(const store::Store& store,
                                               const OperatorLogQuery& query) {
  std::int64_t before = query.before_seq;
  if (before <= 0) {
    const auto head = store.get_record("", kOperatorAuditHead, kHeadKey);
    if (!head.ok()) return Failure{head.error()};
    const std::optional<Head> h = *head ? parse_head(**head) : std::nullopt;
    before = (h ? h->seq : 0) + 1;
  }
  OperatorLogPage page;
  const std::size_t limit = std::clamp<std::size_t>(query.limit, 1, kOperatorLogPageMax);
  const auto next = scan_newest_first(store, kOperatorAuditEntry, before, kOperatorLogScanMax,
                                      [&](std::int64_t, const std::string& value) {
                                        std::optional<OperatorEntry> e =
                                            parse_operator_entry(value);
                                        if (e && matches(*e, query))
                                          page.entries.push_back(std::move(*e));
                                        return page.entries.size() < limit;
                                      });
  if (!next.ok()) return Failure{next.error()};
  page.next_before_seq = *next;
  return page;
}

}  // namespace payoutd::engine
