#pragma once
// ecommpay dialect (seed 002): payouts registered through the Gate API
// (POST /v2/payment/payout/registration), answered at once with an acceptance, and told to the
// merchant by signed callbacks from the outbox: the registration's result (the uuid that opens
// Payment Page), and later the payout's. docs/ecommpay.md is the contract.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/money.h"
#include "core/network.h"
#include "core/tenant.h"
#include "engine/cards/card_payouts.h"
#include "http/server.h"
#include "providers/ecommpay/settings.h"
#include "tenants/changes.h"
#include "tenants/directory.h"

namespace payoutd::providers::ecommpay {

struct Options {
  bool sandbox = false;
  std::string public_url;  // the public origin ([server] public_url): the sandbox's callback sink
  std::int64_t uuid_lifetime_ms = 30 * 60 * 1000;
  std::string mail_from = "payouts@payoutd.local";  // the verification codes' sender
};

// A project as the tenant directory has it now (Dialect::project).
struct ProjectView {
  std::shared_ptr<const tenants::Snapshot> snapshot;  // keeps the pointers below alive
  const tenants::TenantEntry* entry = nullptr;        // nullptr: no such project
  const ProjectSettings* settings = nullptr;          // nullptr: none, or its settings unread
  std::int64_t id = 0;

  // A project that may be called: known, its settings read, not closed.
  explicit operator bool() const {
    return settings && entry->record.status != tenants::Status::kClosed;
  }
  bool suspended() const { return entry && entry->record.status == tenants::Status::kSuspended; }
};

// Whether a signature checked is the partner's use of its key (a registration, a link that opens
// Payment Page: counted when the key is retiring), or not counted: the same link posted back by the
// page's own forms, the sandbox's receiver of callbacks.
enum class KeyUse : std::uint8_t { kCounted, kUncounted };

// The provider's name: its tenants' provider, its registry line and config section.
inline constexpr std::string_view kProvider = "ecommpay";
// The tenant of project `project_id`: {kProvider, the id in decimal}.
Tenant tenant_of(std::int64_t project_id);
// The account a project's payouts are funded from: its merchant balance.
inline constexpr std::string_view kMerchantAccount = "merchant";

class Dialect {
 public:
  // Its projects are the tenants of `tenants` whose provider is kProvider (the config's and those
  // onboarded at run time); `changes` records their keys' first uses. Sets the card engine's
  // notifier and limits for them: a project's card limits are read from its settings at each
  // payout, so a change applies to the next one.
  Dialect(engine::CardPayouts& cards, Options options, tenants::Directory& tenants,
          tenants::Changes& changes);

  bool handle(http::Request& request, const http::Responder& respond);
  void set_public_url(std::string url);
  // The project whose id is `text` (parse_project_id: as JSON strings and query strings carry
  // it), any status, refreshing the directory once when it is unknown. Lock-free, no allocation
  // on the steady path.
  ProjectView project(std::string_view text) const;
  ProjectView project(std::int64_t id) const;
  // Whether `signature` is the signature of `signing_string` under one of the project's working
  // keys (the newest first: during a rotation's overlap the old one too). The key's use is noted
  // when `use` is kCounted (tenants::Changes::note_use: an old key's uses are counted).
  bool signed_by(const ProjectView& project, std::string_view signing_string,
                 std::string_view signature, KeyUse use) const;

 private:
  void registration(http::Request& request, const http::Responder& respond);
  // The project a registration names (not closed), when the caller's address is on its
  // allowlist, its client certificate one the project accepts, and the body signed with its key;
  // otherwise answers the refusal itself and returns an empty view.
  ProjectView caller_project(const json::Value& body, const json::Value& general,
                             const http::Request& request, const http::Responder& respond) const;
  void callback_sink(http::Request& request, const http::Responder& respond);
  // The signed callback of a payout's new state, or nullopt when it tells nothing new.
  std::optional<store::OutboxMessage> callback(const Tenant& tenant,
                                               const store::PayoutRecord& payout,
                                               const engine::CardOrder& order,
                                               std::int64_t now_ms) const;
  // The verification code's email, when the batch made a code.
  std::optional<store::OutboxMessage> code_mail(const store::PayoutRecord& payout,
                                                const engine::CardOrder& order,
                                                std::int64_t now_ms) const;

  engine::CardPayouts& cards_;
  Options options_;
  tenants::Directory& tenants_;
  tenants::Changes& changes_;
  struct Sink;
  std::shared_ptr<Sink> sink_;  // sandbox: the callbacks this server received itself
};

}  // namespace payoutd::providers::ecommpay
