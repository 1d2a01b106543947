#pragma once
// The operators' audit log: an append-only, hash-chained list of everything staff did (admin
// API calls, console sign-ins, maker-checker decisions), kept as store records
// (engine/operator_records.h).
//
// Each entry carries a sequence number (1, 2, ... without gaps), the hash of the entry before it
// and its own hash: a MAC (keyed BLAKE2b-256) over a canonical, length-prefixed form of every
// field and the previous hash. A head record holds the newest entry's sequence number and hash
// and is updated in the same transaction as each append. check_operator_log then finds an
// altered entry (its hash), a removed one (a gap in the sequence, and the next entry's previous
// hash), newest entries removed (the head names more than the log holds) and a head removed. The
// MAC key is derived from the vault's key-encryption key (AuditKey::from_kek): someone who can
// write the database but does not hold that key cannot forge an entry that verifies. Without a
// key (a node with no vault) the chain is a plain hash chain: it still shows removals and
// alterations, but not a forger who recomputes every hash. What no chain can show by itself is
// a forger with the key, or one who cuts the newest entries off and rewinds the head to an
// earlier state: `payoutd audit` prints the head, to be kept elsewhere and compared.
//
// Appending happens inside a committer job (append_operator_entry), so an action that is a job
// commits with its entry atomically; two nodes appending at once both insert the same next
// sequence number, one commit fails as a conflict and its batch runs again after the other's.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/committer.h"
#include "store/store.h"

namespace payoutd::engine {

// The MAC key of the chain; keyed == false: a plain hash chain.
struct AuditKey {
  std::array<unsigned char, 32> bytes{};
  bool keyed = false;

  // The key derived from the vault's key-encryption key (BLAKE2b keyed with it over a fixed
  // label): never stored, the same on every node and for `payoutd audit`.
  static AuditKey from_kek(const std::array<std::uint8_t, 32>& kek);
};

// What an entry says, as its writer gives it.
struct OperatorAction {
  std::string actor;    // the staff member's id ("admin.token" for the config's token)
  std::string via;      // how they authenticated ("token", "api-key:<id>", "console")
  std::string address;  // the client's address
  std::string action;   // what they did: "funding.credit", "request.approve", "http.POST"
  std::string target;   // what they did it to: "qiwi:sandbox/funders/f1", "request:17"
  std::string outcome;  // "done", "pending", "started", "200", "409 request.decided", ...
  // A small JSON object (its compact text), never a secret, a password or a card number; empty
  // for none.
  std::string detail;
};

struct OperatorEntry : OperatorAction {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string prev;  // the previous entry's hash in hex; empty for the first
  std::string hash;  // this entry's, in hex
};

// Appends an entry dated `now_ms` inside the job's transaction and returns it; nullopt when the
// head record cannot be read (damaged: nothing was written, and the caller must not act, for its
// action would go unrecorded). Runs on the committer thread.
std::optional<OperatorEntry> append_operator_entry(store::WriteTxn& txn, const AuditKey& key,
                                                   OperatorAction action, std::int64_t now_ms);

// Whether append_operator_entry can append in this transaction (the head is absent or reads). A
// job that changes something and then appends its entry asks first, so that its change never
// commits without the entry.
bool operator_log_writable(store::WriteTxn& txn);

// Appends an entry in a job of its own: `done(seq)` once it is durable (on the syncer thread;
// must be quick), with 0 when it could not be written (storage failure, a full queue, a damaged
// head). For actions that are not jobs of the caller (a console sign-in, an admin call's intent
// and outcome).
void submit_operator_entry(Committer& committer, const AuditKey& key, OperatorAction action,
                           std::function<void(std::int64_t seq)> done);

// The stored form of an entry, and back (nullopt when it is not one).
std::string operator_entry_json(const OperatorEntry& entry);
std::optional<OperatorEntry> parse_operator_entry(std::string_view json);
// The record key of sequence number `seq`: 20 digits.
std::string operator_entry_key(std::int64_t seq);
// The entry's MAC under `key`, in hex: what its `hash` must be.
std::string operator_entry_hash(const AuditKey& key, const OperatorEntry& entry);

// What check_operator_log found: one line per violation (each naming the sequence number at
// fault), how many entries it read, and the head.
struct OperatorLogCheck {
  std::vector<std::string> violations;
  std::int64_t entries = 0;
  std::int64_t head_seq = 0;
  std::string head_hash;
  bool read_failed = false;  // the store could not be read: the check vouches for nothing
};
// Reads the whole log (in blocks, so memory stays bounded) and checks every hash, the sequence
// and the head. Reads committed state only: may run while nodes serve (an entry appended while
// it reads may show as beyond the head it read first; it reads the head last for that).
OperatorLogCheck check_operator_log(const store::Store& store, const AuditKey& key);

// A page of the log, newest first: the entries matching every filter that is set, with sequence
// numbers below `before_seq` (0: from the newest).
struct OperatorLogQuery {
  std::string actor;         // exactly this actor
  std::string action;        // actions starting with this
  std::string target;        // targets starting with this
  std::string outcome;       // outcomes starting with this ("2" every success, "403")
  std::int64_t from_ms = 0;  // at_ms >= this
  std::int64_t to_ms = 0;    // at_ms < this; 0: no bound
  std::int64_t before_seq = 0;
  std::size_t limit = 50;
};
struct OperatorLogPage {
  std::vector<OperatorEntry> entries;
  // The `before_seq` of the next page; 0 when the log has nothing older. A page may hold fewer
  // than `limit` entries and still have a next one: one read looks at a bounded number of
  // entries (kOperatorLogScanMax), whatever the filters.
  std::int64_t next_before_seq = 0;
};
inline constexpr std::size_t kOperatorLogPageMax = 200;
inline constexpr std::int64_t kOperatorLogScanMax = 5000;
store::Read<OperatorLogPage> operator_log_page(const store::Store& store,
                                               const OperatorLogQuery& query);

}  // namespace payoutd::engine
