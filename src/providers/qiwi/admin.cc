#include "providers/qiwi/admin.h"

#include <algorithm>

#include "admin/answers.h"
#include "admin/funding_requests.h"
#include "admin/routes.h"
#include "admin/tenants_api.h"
#include "core/json.h"
#include "providers/qiwi/operation_names.h"
#include "providers/qiwi/settings.h"
#include "web/api.h"

namespace payoutd::providers::qiwi {

using admin::kIdSizeMax;
using admin::kNameSizeMax;
using admin::Role;
using engine::Error;
using engine::OperationKind;
using ledger::Account;

namespace {

std::string render_client(std::string_view client_id, const std::vector<Account>& wallets) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("clientId").string(client_id);
  const Account& first = wallets.front();
  w.key("accountId").string(first.code);
  w.key("currency").string(first.currency.code());
  w.key("status").string(first.status == ledger::AccountStatus::kActive ? "ACTIVE" : "BLOCKED");
  web::write_amount(w, "balance", first.balance(), first.currency);
  web::write_amount(w, "incoming", first.credits_pending, first.currency);
  w.key("accounts").begin_array();
  for (const Account& a : wallets) {
    w.begin_object();
    w.key("accountId").string(a.code);
    web::write_amount(w, "balance", a.balance(), a.currency);
    web::write_amount(w, "incoming", a.credits_pending, a.currency);
    web::write_amount(w, "outgoing", a.debits_pending, a.currency);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

// A masked card number as QIWI shows it ("4153****8772"): 12 to 19 characters of digits and
// mask characters, at most the first 6 and the last 4 digits in clear. Anything that could be a
// clear card number is refused, so none is ever stored.
bool is_masked_pan(std::string_view pan) {
  if (pan.size() < 12 || pan.size() > 19) return false;
  auto is_mask = [](char c) { return c == '*' || c == 'X' || c == 'x'; };
  for (std::size_t i = 0; i < pan.size(); ++i) {
    const char c = pan[i];
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !is_mask(c)) return false;
    const bool clear_allowed = i < 6 || i + 4 >= pan.size();
    if (digit && !clear_allowed) return false;
  }
  return true;
}

// Operations of the cards domain carry the card they were made with.
bool card_domain(OperationKind kind) {
  return kind == OperationKind::kCardPurchase || kind == OperationKind::kCardBalanceInquiry ||
         kind == OperationKind::kCardCredit;
}

// "type" and "clientId"; false when either is refused.
bool read_type(web::Fields& f, engine::WalletOperation& op) {
  std::string type;
  if (!f.string("type", 32, &type) || !f.string("clientId", kIdSizeMax, &op.client_id)) {
    return false;
  }
  auto parsed = recordable_operation(type);
  if (!parsed) return f.fail("type", "is not a recordable operation type");
  op.kind = *parsed;
  return true;
}

// A balance inquiry charges a commission and moves no amount; every other type moves "amount",
// and may show a "commission" of zero in its currency.
void read_amounts(web::Fields& f, const json::Value& body, engine::WalletOperation& op) {
  if (op.kind == OperationKind::kCardBalanceInquiry) {
    if (web::parse_amount_object(f, "commission", true, &op.amount)) {
      op.commission = op.amount.minor;
      op.amount.minor = 0;
    }
    return;
  }
  Amount commission;
  if (!web::parse_amount_object(f, "amount", false, &op.amount) || !body.find("commission")) return;
  if (!web::parse_amount_object(f, "commission", true, &commission)) return;
  // Only a balance inquiry charges its commission; elsewhere it would be shown in the history
  // without being debited.
  if (!(commission.currency == op.amount.currency)) {
    f.fail("commission.currency", "must equal amount.currency");
  } else if (commission.minor != 0) {
    f.fail("commission.value", "is charged only by BALANCE_INQUIRY operations here");
  }
}

// The members only some types have: a transfer's recipient, a payment's provider, a purchase's
// status.
void read_type_members(web::Fields& f, engine::WalletOperation& op) {
  switch (op.kind) {
    case OperationKind::kClientTransfer:
      f.string("toClientId", kIdSizeMax, &op.to_client_id);
      return;
    case OperationKind::kProviderPayment:
      (void)(f.string("providerId", kIdSizeMax, &op.provider_id) &&
             f.string("providerDisplayName", kNameSizeMax, &op.provider_display_name));
      return;
    case OperationKind::kCardPurchase: {
      std::string status;
      if (!f.string("status", 16, &status, false)) return;
      if (status == "PROCESSING") {
        op.processing = true;
      } else if (!status.empty() && status != "SUCCESS") {
        f.fail("status", "must be PROCESSING or SUCCESS");
      }
      return;
    }
    default:
      return;
  }
}

// "card" of an operation of the cards domain: its number only masked.
void read_card(web::Fields& f, engine::WalletOperation& op) {
  const json::Value* card = nullptr;
  if (!f.object("card", &card)) return;
  web::Fields c = f.nested("card", *card);
  (void)(c.string("cardTokenId", kIdSizeMax, &op.card.card_token_id) &&
         c.string("maskedPan", 19, &op.card.masked_pan) &&
         (is_masked_pan(op.card.masked_pan) ||
          c.fail("maskedPan", "must be masked: at most the first 6 and last 4 digits")) &&
         c.string("merchantType", 8, &op.card.merchant_type) &&
         c.string("merchantId", kIdSizeMax, &op.card.merchant_id) &&
         c.string("merchantName", kNameSizeMax, &op.card.merchant_name) &&
         c.string("retrievalReferenceNumber", 24, &op.card.rrn));
}

// An operation's body; the first problem is left in *problem.
void read_operation(const json::Value& body, std::string* problem, engine::WalletOperation& op) {
  web::Fields f(body, "", problem);
  if (!read_type(f, op)) return;
  read_amounts(f, body, op);
  if (problem->empty()) read_type_members(f, op);
  if (problem->empty() && card_domain(op.kind)) read_card(f, op);
}

}  // namespace

AdminSection::AdminSection(engine::PayoutEngine& engine, tenants::Directory& directory,
                           tenants::Changes& changes, Operations operations)
    : engine_(engine), directory_(directory), changes_(changes), operations_(operations) {}

bool AdminSection::handle(http::Request& request, const admin::Actor& actor,
                          std::span<const std::string> path, const http::Responder& respond) {
  using Answer = void (AdminSection::*)(const Call&);
  // Paths after products/{p}/; every segment a "*" stands for is an id.
  static constexpr admin::Route<Answer> kRoutes[] = {
      {Role::kAdmin, "PUT", "funders/*", "wrong method", &AdminSection::put_funder},
      {Role::kViewer, "GET", "funders/*", "wrong method", &AdminSection::get_funder},
      {Role::kFinance, "POST PUT", "funders/*/credits/*", "wrong method", &AdminSection::credit},
      {Role::kAdmin, "PUT", "clients/*", "wrong method", &AdminSection::put_client},
      {Role::kViewer, "GET", "clients/*", "wrong method", &AdminSection::get_client},
      // The sandbox's recorded wallet operations move money.
      {Role::kFinance, "PUT", "operations/*", "wrong method", &AdminSection::operation},
  };
  if (path.size() < 3 || path[0] != "products") return false;
  if (!directory_.find(kProvider, path[1]).tenant) {
    respond(admin::error(404, "product.not.found", "no such product"));
    return true;
  }
  const Call call{request, actor, tenant_of(path[1]), path.subspan(2), respond};
  const auto found = admin::find_route(kRoutes, request.method, call.ids);
  if (!found.route) return false;
  for (std::size_t i = 1; i < call.ids.size(); i += 2) {
    if (!web::is_partner_id(call.ids[i], kIdSizeMax)) return respond(admin::invalid_id()), true;
  }
  if (call.ids[0] == "operations" && operations_ == Operations::kRefused) {
    respond(admin::error(404, "route.not.found", "operations are recorded only in the sandbox"));
    return true;
  }
  if (admin::admit(found, actor, respond)) (this->*found.route->answer)(call);
  return true;
}

void AdminSection::put_funder(const Call& call) {
  std::string problem;
  auto body = web::parse_object(call.request.body, &problem);
  FunderSetting funder{call.ids[1], {}, {}};
  if (body) {
    web::Fields f(*body, "", &problem);
    if (f.currency("currency", &funder.currency)) {
      f.string("displayName", kNameSizeMax, &funder.display_name, false);
    }
  }
  if (!problem.empty()) return call.respond(admin::error(400, "validation.error", problem));
  if (funder.display_name.empty()) funder.display_name = funder.id;
  auto edit = [funder](const tenants::Kind&, const tenants::Settings& current) {
    auto next = std::make_shared<ProductSettings>(product_settings(current));
    tenants::Edited edited{.error = tenants::ChangeError::kConflict};
    for (const FunderSetting& f : next->funders) {
      if (f.id != funder.id) continue;
      if (!(f == funder)) {
        edited.detail = "the funder exists with another currency or name";
        return edited;
      }
      edited.settings = next;
      return edited;
    }
    next->funders.push_back(funder);
    edited.settings = next;
    return edited;
  };
  // The answer is the change's own result: completions must not read the store.
  changes_.apply_settings(
      call.tenant, edit, [respond = call.respond, id = funder.id](const tenants::ChangeResult& r) {
        if (r.error != tenants::ChangeError::kNone) return respond(admin::change_error(r));
        for (const Account& a : r.accounts) {
          if (a.kind == ledger::AccountKind::kFunder && a.code == id) {
            http::Response ok;
            ok.body = admin::render_funder(a);
            return respond(std::move(ok));
          }
        }
        respond(admin::error(500, "internal.error", "the funder was not opened"));
      });
}

void AdminSection::get_funder(const Call& call) {
  admin::show_funder(engine_, call.respond, call.tenant, call.ids[1]);
}

void AdminSection::credit(const Call& call) {
  funding().move(engine::FundingDirection::kCredit, call.request, call.actor, call.respond,
                 call.tenant, call.ids[1], call.ids[3]);
}

namespace {

// The edit that adds `client` to a product's settings: none when it is there already; refused
// when its wallet exists otherwise, or the client has a wallet in its currency.
tenants::SettingsEdit add_client(const ClientSetting& client) {
  return [client](const tenants::Kind&, const tenants::Settings& current) {
    auto next = std::make_shared<ProductSettings>(product_settings(current));
    tenants::Edited edited{.error = tenants::ChangeError::kConflict};
    for (const ClientSetting& c : next->clients) {
      if (c.account_id == client.account_id) {
        if (!(c == client)) edited.detail = "the account exists with other settings";
        if (c == client) edited.settings = next;
        return edited;
      }
      if (c.client_id == client.client_id && c.currency == client.currency) {
        edited.detail = "the client already has a wallet in this currency";
        return edited;
      }
    }
    next->clients.push_back(client);
    edited.settings = next;
    return edited;
  };
}

}  // namespace

void AdminSection::put_client(const Call& call) {
  std::string problem;
  auto body = web::parse_object(call.request.body, &problem);
  ClientSetting client{call.ids[1], {}, {}};
  if (body) {
    web::Fields f(*body, "", &problem);
    std::string status;
    if (f.string("accountId", kIdSizeMax, &client.account_id) &&
        f.currency("currency", &client.currency) && f.string("status", 16, &status, false)) {
      if (!web::is_partner_id(client.account_id, kIdSizeMax)) {
        f.fail("accountId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
      } else if (status == "BLOCKED") {
        client.mode = ClientMode::kBlocked;
      } else if (!status.empty() && status != "ACTIVE") {
        f.fail("status", "must be ACTIVE or BLOCKED");
      }
    }
  }
  if (!problem.empty()) return call.respond(admin::error(400, "validation.error", problem));
  changes_.apply_settings(
      call.tenant, add_client(client),
      [respond = call.respond, id = client.client_id](const tenants::ChangeResult& r) {
        if (r.error != tenants::ChangeError::kNone) return respond(admin::change_error(r));
        std::vector<Account> wallets;
        for (const Account& a : r.accounts) {
          if (a.kind == ledger::AccountKind::kWallet && a.owner == id) wallets.push_back(a);
        }
        if (wallets.empty()) return respond(admin::error(500, "internal.error", "no wallet"));
        http::Response ok;
        ok.body = render_client(id, wallets);
        respond(std::move(ok));
      });
}

void AdminSection::get_client(const Call& call) {
  const std::string& client = call.ids[1];
  auto wallets = engine_.accounts_of(call.tenant, ledger::AccountKind::kWallet, client);
  if (!wallets.ok()) return call.respond(admin::unavailable());
  if (wallets->empty())
    return call.respond(admin::error(404, "client.not.found", "no such client"));
  http::Response r;
  r.body = render_client(client, *wallets);
  engine_.answer_when_durable(call.respond, std::move(r), admin::unavailable);
}

void AdminSection::operation(const Call& call) {
  std::string problem;
  auto body = web::parse_object(call.request.body, &problem);
  engine::WalletOperation op;
  op.tenant = call.tenant;
  op.operation_id = call.ids[1];
  if (body) read_operation(*body, &problem, op);
  if (!problem.empty()) return call.respond(admin::error(400, "validation.error", problem));
  engine_.record_operation(std::move(op), [respond = call.respond](const engine::AdminResult& r) {
    admin::answer(respond, r, admin::render_record(r.record));
  });
}

}  // namespace payoutd::providers::qiwi
