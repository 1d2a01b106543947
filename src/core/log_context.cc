#include "core/log_context.h"

namespace payoutd::log {
namespace {

// A partner's ids are bounded by each dialect, but an annotation may come before that check.
constexpr std::size_t kAnnotationCharsMax = 128;

thread_local Context* current_context = nullptr;

}  // namespace

Context* current() { return current_context; }

Scope::Scope(Context& context) : previous_(current_context) { current_context = &context; }

Scope::~Scope() { current_context = previous_; }

void annotate(std::string_view provider) {
  if (Context* c = current_context) c->provider = provider;
}

void annotate(std::string_view provider, std::string_view tenant_id, std::string_view payout_id) {
  Context* c = current_context;
  if (!c) return;
  c->provider = provider;
  c->tenant.assign(provider).append(":").append(tenant_id.substr(0, kAnnotationCharsMax));
  if (!payout_id.empty()) c->payout_id.assign(payout_id.substr(0, kAnnotationCharsMax));
}

}  // namespace payoutd::log
