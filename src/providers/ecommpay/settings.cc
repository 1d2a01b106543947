#include "providers/ecommpay/settings.h"

#include <algorithm>

#include "core/assert.h"
#include "providers/card_limits_settings.h"
#include "providers/ecommpay/api.h"
#include "providers/settings_fields.h"
#include "web/api.h"

namespace payoutd::providers::ecommpay {
namespace {

constexpr std::size_t kUrlSizeMax = 2048;
constexpr std::int64_t kProjectIdMax = 999'999'999'999;
constexpr std::string_view kMembers[] = {
    "currency", "callbackUrl", "allowlist",          "payoutsEnabled",
    "sender",   "cardLimits",  "clientCertSubjects", "clientCertSpkiSha256"};

bool read_allowlist(const json::Value& v, std::string* problem, ProjectSettings& s) {
  std::vector<std::string> texts;
  if (!read_strings(v, "allowlist", kAllowlistMax, problem, texts)) return false;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto network = Network::parse(texts[i]);
    if (!network) {
      *problem = "settings.allowlist[" + std::to_string(i) +
                 "]: must be an IPv4 or IPv6 address or CIDR range (\"203.0.113.0/24\", \"::1\")";
      return false;
    }
    s.allowlist.push_back(*network);
  }
  return true;
}

// A boolean member `name` (absent: `*out` stays).
bool read_bool(web::Fields& f, const json::Value& v, std::string_view name, bool* out) {
  const json::Value* m = v.find(name);
  if (!m || m->is_null()) return true;
  if (!m->is_bool()) return f.fail(name, "must be true or false");
  *out = m->as_bool();
  return true;
}

bool read_sender(web::Fields& f, ProjectSettings& s) {
  std::string sender = "merchant";
  if (!f.string("sender", 16, &sender, false)) return false;
  if (sender != "merchant" && sender != "person") {
    return f.fail("sender", "must be \"merchant\" or \"person\"");
  }
  s.person_sender = sender == "person";
  return true;
}

std::string network_text(const Network& n) {
  return n.address.to_string() + "/" + std::to_string(n.prefix_bits);
}

}  // namespace

std::string_view ProjectKind::provider() const { return kProvider; }

std::shared_ptr<const tenants::Settings> ProjectKind::decode(const json::Value& v,
                                                             std::string* problem) const {
  if (!only_members(v, kMembers, "an ecommpay project setting", problem)) return nullptr;
  auto s = std::make_shared<ProjectSettings>();
  web::Fields f(v, "settings.", problem);
  if (!f.currency("currency", &s->currency)) return nullptr;
  if (!f.string("callbackUrl", kUrlSizeMax, &s->callback_url, false)) return nullptr;
  if (!s->callback_url.empty() && !valid_callback_url(s->callback_url)) {
    return f.fail("callbackUrl", "must be an absolute http or https URL"), nullptr;
  }
  if (!read_allowlist(v, problem, *s) || !read_bool(f, v, "payoutsEnabled", &s->payouts_enabled) ||
      !read_sender(f, *s) || !read_card_limits(v, s->currency, problem, s->limits) ||
      !read_client_certificates(v, problem, s->client_certificates)) {
    return nullptr;
  }
  return s;
}

std::string ProjectKind::encode(const tenants::Settings& settings) const {
  const ProjectSettings& s = project_settings(settings);
  std::string out;
  json::Writer w(out);
  w.begin_object().key("currency").string(s.currency.code());
  if (!s.callback_url.empty()) w.key("callbackUrl").string(s.callback_url);
  w.key("allowlist").begin_array();
  for (const Network& n : s.allowlist) w.string(network_text(n));
  w.end_array();
  w.key("payoutsEnabled").boolean(s.payouts_enabled);
  w.key("sender").string(s.person_sender ? "person" : "merchant");
  write_card_limits(w, s.limits, s.currency);
  write_client_certificates(w, s.client_certificates);
  w.end_object();
  return out;
}

// The merchant balance keeps the currency it was opened in; every other setting may change, and
// applies to the next call (limits to the next payout a card reserves).
std::string ProjectKind::refuse_change(const tenants::Settings& current,
                                       const tenants::Settings& next) const {
  const Currency was = project_settings(current).currency;
  if (project_settings(next).currency != was) {
    return "settings.currency: cannot change (the merchant balance is in " +
           std::string(was.code()) + ")";
  }
  return {};
}

std::string ProjectKind::refuse_id(std::string_view id) const {
  const std::int64_t project = parse_project_id(id);
  if (project == 0 || std::to_string(project) != id) {
    return "id: an ecommpay project's id is its project_id, 1 to 12 digits without a leading zero";
  }
  return {};
}

// The project's secret key signs the Gate API's requests, Payment Page's links and payoutd's
// callbacks: it must be used, so the vault seals it (a digest could only be compared).
std::vector<tenants::CredentialKind> ProjectKind::credential_kinds() const {
  return {{"secret-key", tenants::Storage::kSealed, tenants::kSecretBytes}};
}

// The merchant balance, as provisioning opens it for a config project (provider.cc).
tenants::TenantAccounts ProjectKind::accounts(const Tenant& tenant,
                                              const tenants::Settings& settings) const {
  tenants::TenantAccounts out;
  out.funders.push_back({tenant, std::string(kMerchantAccount), "Merchant balance",
                         project_settings(settings).currency});
  return out;
}

tenants::ApprovalNeed ProjectKind::approval_needed(const tenants::Settings& current,
                                                   const tenants::Settings& next,
                                                   const tenants::AboveThreshold& above) const {
  const ProjectSettings& from = project_settings(current);
  const ProjectSettings& to = project_settings(next);
  tenants::ApprovalNeed need;
  review_card_limits(from.limits, to.limits, to.currency, above, need);
  if (to.payouts_enabled && !from.payouts_enabled) {
    need.add(tenants::Approval::kSecond, "settings.payoutsEnabled: payouts enabled");
  }
  return need;
}

std::optional<engine::CardLimits> ProjectKind::card_limits(
    const tenants::Settings& settings) const {
  return project_settings(settings).limits;
}

const ProjectSettings& project_settings(const tenants::Settings& settings) {
  const auto* s = dynamic_cast<const ProjectSettings*>(&settings);
  PAYOUTD_ASSERT(s != nullptr, "an ecommpay tenant's settings are ProjectSettings");
  return *s;
}

bool valid_callback_url(std::string_view s) {
  return (s.starts_with("https://") || s.starts_with("http://")) && s.size() <= kUrlSizeMax &&
         s.size() > 8 && s.find_first_of(" \t\r\n\"<>") == std::string_view::npos;
}

std::int64_t parse_project_id(std::string_view text) {
  if (text.empty() || text.size() > 12) return 0;
  std::int64_t id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    id = id * 10 + (c - '0');
  }
  return id <= kProjectIdMax ? id : 0;
}

}  // namespace payoutd::providers::ecommpay
