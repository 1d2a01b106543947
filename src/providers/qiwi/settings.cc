#include "providers/qiwi/settings.h"

#include <algorithm>

#include "core/assert.h"
#include "providers/qiwi/api.h"
#include "providers/settings_fields.h"
#include "web/api.h"

namespace payoutd::providers::qiwi {
namespace {

constexpr std::size_t kIdSizeMax = 64;
constexpr std::size_t kNameSizeMax = 256;
constexpr std::int64_t kCreditDelayMsMax = 86'400'000;
constexpr std::string_view kIdRule = "must be 1 to 64 characters of A-Z a-z 0-9 . _ -";
constexpr std::string_view kMembers[] = {"funders", "clients", "clientCertSubjects",
                                         "clientCertSpkiSha256"};

std::string_view mode_name(ClientMode mode) {
  switch (mode) {
    case ClientMode::kProcessing:
      return "processing";
    case ClientMode::kBlocked:
      return "blocked";
    case ClientMode::kNormal:
      return "normal";
  }
  return "normal";
}

bool read_funder(const json::Value& item, const std::string& where, std::string* problem,
                 FunderSetting& out) {
  if (!item.is_object()) return *problem = where + ": must be an object", false;
  web::Fields f(item, where + ".", problem);
  if (!f.string("id", kIdSizeMax, &out.id)) return false;
  if (!web::is_partner_id(out.id, kIdSizeMax)) return f.fail("id", kIdRule);
  if (!f.string("displayName", kNameSizeMax, &out.display_name, false)) return false;
  if (out.display_name.empty()) out.display_name = out.id;
  return f.currency("currency", &out.currency);
}

bool read_mode(web::Fields& f, const json::Value& item, ClientSetting& out) {
  std::string mode = "normal";
  if (!f.string("mode", 16, &mode, false)) return false;
  if (mode == "blocked") {
    out.mode = ClientMode::kBlocked;
  } else if (mode == "processing") {
    out.mode = ClientMode::kProcessing;
    out.credit_delay_ms = 2000;
  } else if (mode != "normal") {
    return f.fail("mode", "must be normal, processing or blocked");
  }
  const json::Value* delay = item.find("creditDelayMs");
  if (!delay || delay->is_null()) return true;
  const auto ms = delay->as_int64();
  if (out.mode != ClientMode::kProcessing)
    return f.fail("creditDelayMs", "only with mode processing");
  if (!ms || *ms < 1 || *ms > kCreditDelayMsMax) {
    return f.fail("creditDelayMs", "must be an integer from 1 to 86400000");
  }
  out.credit_delay_ms = *ms;
  return true;
}

bool read_client(const json::Value& item, const std::string& where, std::string* problem,
                 ClientSetting& out) {
  if (!item.is_object()) return *problem = where + ": must be an object", false;
  web::Fields f(item, where + ".", problem);
  if (!f.string("clientId", kIdSizeMax, &out.client_id)) return false;
  if (!web::is_partner_id(out.client_id, kIdSizeMax)) return f.fail("clientId", kIdRule);
  if (!f.string("accountId", kIdSizeMax, &out.account_id)) return false;
  if (!web::is_partner_id(out.account_id, kIdSizeMax)) return f.fail("accountId", kIdRule);
  return f.currency("currency", &out.currency) && read_mode(f, item, out);
}

// Funders and clients: each id once; a client's wallet id once.
std::string duplicate_in(const ProductSettings& s) {
  for (std::size_t i = 0; i < s.funders.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (s.funders[i].id == s.funders[j].id) {
        return "settings.funders[" + std::to_string(i) + "].id: duplicate funder " +
               s.funders[i].id;
      }
    }
  }
  for (std::size_t i = 0; i < s.clients.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (s.clients[i].account_id == s.clients[j].account_id) {
        return "settings.clients[" + std::to_string(i) + "].accountId: duplicate account " +
               s.clients[i].account_id;
      }
      if (s.clients[i].client_id == s.clients[j].client_id &&
          s.clients[i].currency == s.clients[j].currency) {
        return "settings.clients[" + std::to_string(i) + "]: client " + s.clients[i].client_id +
               " has a wallet in this currency already";
      }
    }
  }
  return {};
}

bool read_lists(const json::Value& v, std::string* problem, ProductSettings& s) {
  const auto* funders = array_member(v, "funders", kFundersMax, problem);
  if (!funders) return false;
  for (std::size_t i = 0; i < funders->size(); ++i) {
    if (!read_funder((*funders)[i], "settings.funders[" + std::to_string(i) + "]", problem,
                     s.funders.emplace_back())) {
      return false;
    }
  }
  const auto* clients = array_member(v, "clients", kClientsMax, problem);
  if (!clients) return false;
  for (std::size_t i = 0; i < clients->size(); ++i) {
    if (!read_client((*clients)[i], "settings.clients[" + std::to_string(i) + "]", problem,
                     s.clients.emplace_back())) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ProductKind::provider() const { return kProvider; }

std::shared_ptr<const tenants::Settings> ProductKind::decode(const json::Value& v,
                                                             std::string* problem) const {
  if (!only_members(v, kMembers, "a QIWI product setting", problem)) return nullptr;
  auto s = std::make_shared<ProductSettings>();
  if (!read_lists(v, problem, *s) ||
      !read_client_certificates(v, problem, s->client_certificates)) {
    return nullptr;
  }
  if (std::string duplicate = duplicate_in(*s); !duplicate.empty()) {
    *problem = std::move(duplicate);
    return nullptr;
  }
  return s;
}

std::string ProductKind::encode(const tenants::Settings& settings) const {
  const ProductSettings& s = product_settings(settings);
  std::string out;
  json::Writer w(out);
  w.begin_object().key("funders").begin_array();
  for (const FunderSetting& f : s.funders) {
    w.begin_object().key("id").string(f.id).key("displayName").string(f.display_name);
    w.key("currency").string(f.currency.code()).end_object();
  }
  w.end_array().key("clients").begin_array();
  for (const ClientSetting& c : s.clients) {
    w.begin_object().key("clientId").string(c.client_id).key("accountId").string(c.account_id);
    w.key("currency").string(c.currency.code()).key("mode").string(mode_name(c.mode));
    if (c.mode == ClientMode::kProcessing) w.key("creditDelayMs").integer(c.credit_delay_ms);
    w.end_object();
  }
  w.end_array();
  write_client_certificates(w, s.client_certificates);
  w.end_object();
  return out;
}

std::string ProductKind::refuse_change(const tenants::Settings& current,
                                       const tenants::Settings& next) const {
  const ProductSettings& was = product_settings(current);
  const ProductSettings& now = product_settings(next);
  for (const FunderSetting& f : was.funders) {
    if (std::find(now.funders.begin(), now.funders.end(), f) == now.funders.end()) {
      return "settings.funders: funder " + f.id +
             " cannot be removed or changed (its account exists)";
    }
  }
  for (const ClientSetting& c : was.clients) {
    if (std::find(now.clients.begin(), now.clients.end(), c) == now.clients.end()) {
      return "settings.clients: client " + c.client_id + "'s wallet " + c.account_id +
             " cannot be removed or changed (its account exists)";
    }
  }
  return {};
}

std::vector<tenants::CredentialKind> ProductKind::credential_kinds() const {
  return {{"token", tenants::Storage::kHashed}};
}

tenants::TenantAccounts ProductKind::accounts(const Tenant& tenant,
                                              const tenants::Settings& settings) const {
  const ProductSettings& s = product_settings(settings);
  tenants::TenantAccounts out;
  for (const FunderSetting& f : s.funders) {
    out.funders.push_back({tenant, f.id, f.display_name, f.currency});
  }
  for (const ClientSetting& c : s.clients) {
    engine::ClientSpec spec{tenant, c.client_id, c.account_id, c.currency};
    if (c.mode == ClientMode::kBlocked) spec.status = ledger::AccountStatus::kBlocked;
    spec.credit_delay_ms = c.mode == ClientMode::kProcessing ? c.credit_delay_ms : 0;
    out.clients.push_back(std::move(spec));
  }
  return out;
}

const ProductSettings& product_settings(const tenants::Settings& settings) {
  const auto* s = dynamic_cast<const ProductSettings*>(&settings);
  PAYOUTD_ASSERT(s != nullptr, "a QIWI tenant's settings are ProductSettings");
  return *s;
}

}  // namespace payoutd::providers::qiwi
