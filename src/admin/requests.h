#pragma once
// Maker-checker: what one staff member asks and a second one, with the finance role, approves
// or rejects; never the one who asked. Generic: what a request does on approval is its kind's
// (RequestKind), and a kind plugs in with Requests::add_kind. Funding accounts' credits and
// debits are the first kinds (admin/funding_requests.h); a limit's raise or a partner's funding
// methods are kinds too.
//
// A call that may need two people runs one committer job (Requests::submit) that decides from
// the transaction: the same idempotency id again answers what the first call made (a different
// request under it is 409 id.conflict); then the kind's checks (unknown account, another
// currency: refused, nothing made); then an amount at or below the threshold of its currency
// ([admin] approval_threshold; a currency without one always needs two people) is carried out
// at once, and anything else becomes a pending request that moves nothing (202). A kind may weigh
// its requests otherwise (RequestKind::waits: a partner's settings, admin/settings_requests.h).
// Approval runs one job too: the request's status is read and changed, the kind applied (the money
// moves) and the audit entry appended in one transaction, so two approvals at once, on one node or
// two, carry it out once: the second finds it decided (409 request.decided), and between nodes the
// audit log's next entry, which both insert, makes one commit fail as a conflict and run again.
// A pending request expires `request_ttl_s` after it was made: deciding it then answers 409
// request.expired (and records it expired); reads show it expired at once.
//
// Records: engine/operator_records.h. Every decision and every request made has its audit
// entry in its own transaction (admin/audit_trail.h).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/actor.h"
#include "admin/audit_trail.h"
#include "core/clock.h"
#include "core/money.h"
#include "http/server.h"
#include "store/store.h"

namespace payoutd::admin {

struct MakerCheckerOptions {
  // [admin] approval_threshold: per currency, the largest amount one finance member moves alone.
  // A currency not here: every amount needs two people.
  std::vector<Amount> approval_thresholds;
  std::int64_t request_ttl_s = 86'400;  // [admin] request_ttl_s: a pending request's life
};

struct Request {
  std::int64_t id = 0;
  std::string kind;
  std::string status;       // "pending", "approved", "rejected", "expired"
  std::string tenant;       // the tenant's stored key
  std::string subject;      // what it changes within the tenant (a funding account's code)
  std::string external_id;  // the caller's idempotency id (a credit's id in the path)
  std::optional<Amount> amount;
  std::string params;  // the kind's own, a JSON object's text; empty for none
  std::string requested_by;
  std::string decided_by;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::int64_t decided_ms = 0;
  std::string result;  // what approval did, a JSON object's text (the credit's record)
  std::string reason;  // why it waits for a second person, in the kind's words; empty: its amount
};

// A kind's answer: `body` (a JSON object's text) with `status`, or a refusal in the admin API's
// words (error_code set).
struct KindAnswer {
  int status = 200;
  std::string error_code;
  std::string detail;
  std::string body;
  bool refused() const { return !error_code.empty(); }
};

class RequestKind {
 public:
  virtual ~RequestKind() = default;
  // Its name in requests and audit entries: "funding.credit".
  virtual std::string_view name() const = 0;
  // The field that names the request's subject in its JSON: "funder".
  virtual std::string_view subject_field() const = 0;
  // The audit entry's target for a request of it: "qiwi:sandbox/funders/f1".
  virtual std::string target(const Request& request) const = 0;
  // Adds what check() and apply() touch to a batch's footprint; the views may point into
  // `request`, which outlives the batch.
  virtual void declare(const Request& request, store::Footprint& footprint) const = 0;
  // Inside the job, before anything is written: an answer that ends the call as it stands (a
  // refusal, or the outcome of the same operation done before under its id), or nullopt when
  // the request may be made or applied.
  virtual std::optional<KindAnswer> check(store::WriteTxn& txn, const Request& request) const = 0;
  // Carries the request out in the transaction. A refusal must have changed nothing.
  virtual KindAnswer apply(store::WriteTxn& txn, const Request& request,
                           std::int64_t now_ms) const = 0;
  // Inside the job that makes it, after check(): why the request waits for a second person, or
  // nullopt when `actor` carries it out at once. `above` says whether an amount is above the
  // threshold of its currency. The default: a request with an amount at or below it is done at
  // once, any other waits.
  virtual std::optional<std::string> waits(store::WriteTxn& txn, const Request& request,
                                           const Actor& actor,
                                           const std::function<bool(const Amount&)>& above) const;
  // Runs `answer` once what apply() wrote is where this node's readers look (a cache refreshed);
  // called after the job's batch is durable. The default: at once (the store is where they look).
  virtual void settle(std::function<void()> answer) const { answer(); }
  // Whether a request whose id names one already decided (approved, rejected or expired) makes a
  // new request rather than answering the old one: for a kind whose ids payoutd derives from the
  // change (the same change asked again after a rejection is a new question), not for one whose
  // ids the caller chose (a credit's id answers the same request for ever). The default: false.
  virtual bool renews_decided() const { return false; }
};

enum class Decision : std::uint8_t { kApprove, kReject };

// GET requests?status=&before=&limit=: newest first.
struct RequestQuery {
  std::string status;          // "pending", "approved", "rejected", "expired"; empty: any
  std::int64_t before_id = 0;  // ids below this; 0: from the newest
  std::size_t limit = 50;      // at most kRequestPageMax
};
inline constexpr std::size_t kRequestPageMax = 200;
inline constexpr std::int64_t kRequestScanMax = 5000;  // requests one GET looks at

class Requests {
 public:
  // Everything given outlives this.
  Requests(const AuditTrail& trail, const store::Store& store, const Clock& clock,
           MakerCheckerOptions options);

  // Before the server starts; `kind` outlives this and its name is new.
  void add_kind(const RequestKind* kind);
  const RequestKind* kind(std::string_view name) const;

  // Whether `amount` needs a second person.
  bool needs_approval(const Amount& amount) const;

  // The job described above for `draft` (kind, tenant, subject, external_id, amount, params set)
  // asked by `actor`: answers 200 with the kind's body when done at once (or done before), 202
  // with the request when one is pending (made now or before), or the refusal.
  void submit(Request draft, const Actor& actor, const http::Responder& respond) const;
  // POST requests/{id}/approve or /reject by `actor` (who holds the finance role).
  void decide(std::int64_t id, Decision decision, const Actor& actor,
              const http::Responder& respond) const;
  // GET requests/{id}; GET requests: {"requests":[...][,"nextBefore":"<id>"]}.
  void show(std::int64_t id, const http::Responder& respond) const;
  void list(const RequestQuery& query, const http::Responder& respond) const;

  // A request's JSON as the API shows it at `now_ms` (a pending request past its expiry shows
  // "expired").
  std::string render(const Request& request, std::int64_t now_ms) const;

 private:
  struct SubmitInput;
  struct DecideInput;
  // The jobs' decisions, inside their transactions.
  KindAnswer make_or_do(const SubmitInput& in, store::WriteTxn& txn, std::int64_t now_ms) const;
  KindAnswer decide_in(const DecideInput& in, store::WriteTxn& txn, std::int64_t now_ms) const;
  // Records `request` decided (`status`) by `actor` with its audit entry.
  void close(Request& request, std::string status, std::string action, const Actor& actor,
             store::WriteTxn& txn, std::int64_t now_ms) const;

  const AuditTrail& trail_;
  const store::Store& store_;
  const Clock& clock_;
  MakerCheckerOptions options_;
  std::map<std::string, const RequestKind*, std::less<>> kinds_;
};

// A request's status as shown at `now_ms`: "expired" for a pending one past its expiry.
std::string_view shown_status(const Request& request, std::int64_t now_ms);

// The stored form of a request, and back.
std::string request_json(const Request& request);
std::optional<Request> parse_request(std::string_view json);

}  // namespace payoutd::admin
