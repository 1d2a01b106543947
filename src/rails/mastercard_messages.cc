// The Mastercard Send connector's messages: the payments it sends (transfers, disbursements) and
// what it reads from the answers (rails/mastercard_send.h; docs/rails.md, "Mastercard Send").
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/json.h"
#include "rails/log_text.h"
#include "rails/mastercard_send.h"
#include "rails/messages.h"

namespace payoutd::rails::mastercard {

namespace {

constexpr std::size_t kNameBytesMax = 40;  // first_name, last_name (Send's PaymentTransfer)
constexpr std::size_t kLogFieldBytesMax = 80;
constexpr std::size_t kLogErrorsMax = 8;

void write_person(json::Writer& w, std::string_view key, const Party& person) {
  w.key(key).begin_object();
  w.key("first_name").string(shortened(person.first_name, kNameBytesMax));
  w.key("last_name").string(shortened(person.last_name, kNameBytesMax));
  w.end_object();
}

const json::Value* first_transaction(const json::Value& payment) {
  const json::Value* history = payment.find("transaction_history");
  const json::Value* data = history ? history->find("data") : nullptr;
  const json::Value* list = data ? data->find("transaction") : nullptr;
  if (!list || !list->is_array() || list->as_array().empty()) return nullptr;
  return &list->as_array().front();
}

// The resource of {"<resource>":{...}} or of {"<collection>":{"data":{"<resource>":[{...}]}}}.
const json::Value* resource_in(const json::Value& document, const Api& api) {
  if (const json::Value* t = document.find(api.resource); t && t->is_object()) return t;
  const json::Value* list = document.find(api.collection);
  const json::Value* data = list ? list->find("data") : nullptr;
  const json::Value* items = data ? data->find(api.resource) : nullptr;
  if (!items || !items->is_array() || items->as_array().empty()) return nullptr;
  const json::Value& first = items->as_array().front();
  return first.is_object() ? &first : nullptr;
}

constexpr Api kTransfers{"transfers", "payment_transfer", "transfer_reference", "transfer"};
constexpr Api kDisbursements{"disbursements", "payment_disbursement", "disbursement_reference",
                             "disbursement"};

// What differs between the programs' bodies: the payment type, the funding source, and the
// sender's account (a person's wallet when the parties give one; a business's is configured).
struct ProgramFields {
  const std::string& payment_type;
  const std::string& funding_source;
  std::string sender_account_uri;
};

ProgramFields fields_of(Program program, const Party& sender, const MastercardSendOptions& o) {
  if (program == Program::kDisbursement) {
    return {o.disbursement_payment_type, o.disbursement_funding_source, o.sender_account_uri};
  }
  return {o.payment_type, o.funding_source,
          sender.wallet_id.empty() ? o.sender_account_uri : "acct-ref:" + sender.wallet_id};
}

}  // namespace

bool reference_fits(std::string_view reference) {
  if (reference.size() < 6 || reference.size() > 40) return false;
  for (char c : reference) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const Api& api_of(Program program) {
  return program == Program::kDisbursement ? kDisbursements : kTransfers;
}

std::string payment_body(const CreditOrder& order, const MastercardSendOptions& options,
                         std::string* problem) {
  const Api& api = api_of(order.program);
  if (!reference_fits(order.reference)) {
    *problem = "the reference does not fit Mastercard's " + std::string(api.reference);
    return {};
  }
  const Parties parties = parties_of(order);
  if (!parties.recipient.named()) {
    *problem = "the order has no recipient first and last name, which Mastercard requires";
    return {};
  }
  const ProgramFields f = fields_of(order.program, parties.sender, options);
  std::string out;
  json::Writer w(out);
  w.begin_object().key(api.request).begin_object();
  w.key(api.reference).string(order.reference);
  if (!f.payment_type.empty()) w.key("payment_type").string(f.payment_type);
  if (!f.funding_source.empty()) w.key("funding_source").string(f.funding_source);
  w.key("amount").string(std::to_string(order.amount.minor));  // minor units, as a string
  w.key("currency").string(order.amount.currency.code());
  w.key("sender_account_uri").string(f.sender_account_uri);
  if (parties.sender.named()) write_person(w, "sender", parties.sender);
  w.key("recipient_account_uri").string("pan:" + order.pan);
  write_person(w, "recipient", parties.recipient);
  if (!options.payment_origination_country.empty()) {
    w.key("payment_origination_country").string(options.payment_origination_country);
  }
  w.end_object().end_object();
  return out;
}

std::unique_ptr<Answer> answer_of(std::string_view body, Program program, std::int64_t now_ms) {
  json::ParseResult parsed = json::parse(body);
  if (!parsed.value) return nullptr;
  const json::Value* payment = resource_in(*parsed.value, api_of(program));
  if (!payment) return nullptr;
  const std::string status = string_member(payment, "status");
  const json::Value* transaction = first_transaction(*payment);
  auto a = std::make_unique<Answer>();
  a->code = string_member(transaction, "network_status_code");
  a->text = string_member(transaction, "network_status_description");
  if (status == "APPROVED") {
    a->outcome = Outcome::kApproved;
    a->approval = string_member(transaction, "retrieval_reference");
    a->at_ms = now_ms;
  } else if (status == "DECLINED") {
    a->outcome = Outcome::kDeclined;
    a->at_ms = now_ms;
  } else if (status == "REVERSED" || status == "CANCELLED") {
    spdlog::warn("mastercard-send: a payment answered {}: treated as declined", status);
    a->outcome = Outcome::kDeclined;
    a->code = status;
    a->text = "the payment was " + shortened(status, kLogFieldBytesMax) + " by Mastercard";
    a->at_ms = now_ms;
  } else if (status == "PENDING") {
    a->outcome = Outcome::kProcessing;
    a->text = "the payment is pending at Mastercard";
  } else if (status == "UNKNOWN" || status == "ERROR") {
    a->outcome = Outcome::kUnknown;
    a->text = "Mastercard has no final answer yet (" + status + ")";
  } else {
    return nullptr;
  }
  return a;
}

std::string errors_summary(std::string_view body) {
  json::ParseResult parsed = json::parse(body);
  if (!parsed.value) return {};
  const json::Value* errors = parsed.value->find("Errors");
  const json::Value* list = errors ? errors->find("Error") : nullptr;
  if (!list) return {};
  std::vector<const json::Value*> items;
  if (list->is_object()) items.push_back(list);  // some Mastercard APIs send one object
  if (list->is_array()) {
    for (const json::Value& item : list->as_array()) items.push_back(&item);
  }
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < kLogErrorsMax; ++i) {
    if (!items[i]->is_object()) continue;
    if (!out.empty()) out += "; ";
    out += shortened(string_member(items[i], "Source"), kLogFieldBytesMax) + " " +
           shortened(string_member(items[i], "ReasonCode"), kLogFieldBytesMax) + ": " +
           shortened(string_member(items[i], "Description"), kLogFieldBytesMax);
  }
  return without_card_numbers(out);
}

}  // namespace payoutd::rails::mastercard
