// The Visa Direct connector's messages: the push funds transaction it sends, its identifiers, and
// what it reads from the answers (rails/visa_direct.h; docs/rails.md, "Visa Direct").
#include <openssl/evp.h>

#include <array>
#include <cstdio>

#include "core/assert.h"
#include "core/countries.h"
#include "core/json.h"
#include "core/time_format.h"
#include "rails/messages.h"
#include "rails/visa_direct.h"

namespace payoutd::rails::visa {

namespace {

constexpr std::size_t kSenderNameBytesMax = 30;  // senderName, recipientName
constexpr std::size_t kSenderAddressBytesMax = 35;
constexpr std::size_t kSenderCityBytesMax = 25;
constexpr std::size_t kSenderAccountBytesMax = 34;
constexpr std::size_t kSenderReferenceBytesMax = 16;
constexpr std::size_t kLogFieldBytesMax = 120;
constexpr std::int64_t kAmountIntegerMax = 999'999'999;  // "Maximum value: 999999999.999"
constexpr int kFractionDigitsMax = 3;

// Visa's action codes (ISO 8583 field 39 as VisaNet uses it) that an OCT may meet.
constexpr std::pair<std::string_view, std::string_view> kActionCodes[] = {
    {"00", "Approved"},
    {"01", "Refer to card issuer"},
    {"02", "Refer to card issuer, special condition"},
    {"03", "Invalid merchant"},
    {"04", "Pick up card (no fraud)"},
    {"05", "Do not honor"},
    {"06", "Error"},
    {"07", "Pick up card, special condition (fraud account)"},
    {"12", "Invalid transaction"},
    {"13", "Invalid amount or currency conversion field overflow"},
    {"14", "Invalid account number (no such number)"},
    {"15", "No such issuer"},
    {"19", "Re-enter transaction"},
    {"21", "No action taken"},
    {"25", "Unable to locate record in file"},
    {"28", "File temporarily not available for update or inquiry"},
    {"39", "No credit account"},
    {"41", "Lost card, pick up (fraud account)"},
    {"43", "Stolen card, pick up (fraud account)"},
    {"51", "Not sufficient funds"},
    {"52", "No checking account"},
    {"53", "No savings account"},
    {"54", "Expired card or expiration date is missing"},
    {"57", "Transaction not permitted to cardholder"},
    {"58", "Transaction not allowed at terminal"},
    {"59", "Suspected fraud"},
    {"61", "Exceeds approval amount limit"},
    {"62", "Restricted card"},
    {"63", "Security violation"},
    {"65", "Exceeds withdrawal frequency limit"},
    {"78", "Blocked, first used or special condition"},
    {"91", "Issuer unavailable or switch inoperative"},
    {"92", "Destination cannot be found for routing"},
    {"93", "Transaction cannot be completed; violation of law"},
    {"94", "Duplicate transmission"},
    {"96", "System malfunction"},
};

constexpr std::string_view kApproved = "00";
constexpr std::string_view kDuplicate = "94";

// The first 16 bytes of SHA-256(reference) as two words.
std::array<std::uint64_t, 2> reference_hash(std::string_view reference) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  const int ok =
      EVP_Digest(reference.data(), reference.size(), md.data(), &size, EVP_sha256(), nullptr);
  PAYOUTD_ASSERT(ok == 1 && size == 32, "SHA-256 is available");
  std::array<std::uint64_t, 2> words{};
  for (std::size_t w = 0; w < words.size(); ++w) {
    for (std::size_t i = 0; i < 8; ++i) words[w] = (words[w] << 8) | md[w * 8 + i];
  }
  return words;
}

std::string zero_padded(std::uint64_t value, int digits) {
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out;
}

bool alphanumeric(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      return false;
    }
  }
  return !s.empty();
}

bool north_america(std::string_view alpha3) { return alpha3 == "USA" || alpha3 == "CAN"; }

// What the push says of its sender: the order's party when it is named, else the originator
// configured for the rail (a disbursement's sender).
struct Sender {
  std::string name, country, state, address, city, account;
};

Sender sender_of(const Party& party, const VisaDirectOptions& o) {
  Sender s;
  if (!party.named())
    return {o.sender_name, o.sender_country_code, o.sender_state_code, {}, {}, {}};
  s.name = shortened(party.first_name + " " + party.last_name, kSenderNameBytesMax);
  if (auto alpha3 = country_alpha3(party.country)) {
    s.country = std::string(*alpha3);
    if (north_america(s.country)) s.state = party.state;
  } else {
    s.country = o.sender_country_code;
    s.state = o.sender_state_code;
  }
  s.address = shortened(party.address, kSenderAddressBytesMax);
  s.city = shortened(party.city, kSenderCityBytesMax);
  if (party.wallet_id.size() <= kSenderAccountBytesMax && alphanumeric(party.wallet_id)) {
    s.account = party.wallet_id;
  }
  return s;
}

void optional_member(json::Writer& w, std::string_view key, const std::string& value) {
  if (!value.empty()) w.key(key).string(value);
}

void write_card_acceptor(json::Writer& w, const VisaDirectOptions& o) {
  w.key("cardAcceptor").begin_object();
  w.key("name").string(o.card_acceptor_name);
  w.key("terminalId").string(o.card_acceptor_terminal_id);
  w.key("idCode").string(o.card_acceptor_id_code);
  w.key("address").begin_object();
  w.key("country").string(o.card_acceptor_country);
  optional_member(w, "state", o.card_acceptor_state);
  optional_member(w, "zipCode", o.card_acceptor_zip_code);
  optional_member(w, "county", o.card_acceptor_county);
  w.end_object().end_object();
}

void write_sender(json::Writer& w, const Sender& s, std::string_view reference) {
  w.key("senderName").string(s.name);
  w.key("senderCountryCode").string(s.country);
  optional_member(w, "senderStateCode", s.state);
  optional_member(w, "senderAddress", s.address);
  optional_member(w, "senderCity", s.city);
  optional_member(w, "senderAccountNumber", s.account);
  // Required for disbursements, and for transfers without an account: ties Visa's record to
  // the order (the reference's first 16 letters and digits).
  std::string ours;
  for (char c : reference) {
    if (alphanumeric(std::string_view(&c, 1)) && ours.size() < kSenderReferenceBytesMax) {
      ours.push_back(c);
    }
  }
  w.key("senderReference").string(ours);
}

// The recipient's country and state, sent only when complete (Visa wants the state for USA and
// CAN).
void write_recipient(json::Writer& w, const CreditOrder& order, const Party& party) {
  w.key("recipientPrimaryAccountNumber").string(order.pan);
  w.key("recipientName")
      .string(shortened(party.first_name + " " + party.last_name, kSenderNameBytesMax));
  const auto alpha3 = country_alpha3(party.country);
  if (!alpha3 || (north_america(*alpha3) && party.state.empty())) return;
  w.key("recipientCountryCode").string(*alpha3);
  if (north_america(*alpha3)) w.key("recipientState").string(party.state);
}

const json::Value* parsed_object(const json::ParseResult& parsed) {
  return parsed.value && parsed.value->is_object() ? &*parsed.value : nullptr;
}

// A number Visa sends as a JSON number or a string (transactionIdentifier), as text.
std::string scalar_member(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (!v) return {};
  if (v->is_string()) return v->as_string();
  if (v->is_number()) return std::string(v->number_text());
  return {};
}

// The answer of a completed transaction's action code.
std::unique_ptr<Answer> completed(const std::string& action_code, const std::string& approval_code,
                                  const std::string& transaction_id, const std::string& rrn,
                                  std::int64_t now_ms) {
  auto a = std::make_unique<Answer>();
  a->code = action_code;
  a->text = action_code_text(action_code);
  if (action_code == kApproved) {
    a->outcome = Outcome::kApproved;
    a->approval = rrn;
    a->text += " (approval code " + shortened(approval_code, 6) + ", transaction " +
               shortened(transaction_id, 15) + ")";
    a->at_ms = now_ms;
  } else if (action_code == kDuplicate) {
    // Another transaction holds the key: the first of them decides, found by looking it up.
    a->outcome = Outcome::kUnknown;
    a->code.clear();
    a->text = "Visa answered 94 (duplicate transmission): an earlier transaction has this key";
  } else {
    a->outcome = Outcome::kDeclined;
    a->at_ms = now_ms;
  }
  return a;
}

}  // namespace

Identifiers identifiers_of(std::string_view reference) {
  // Every process derives the same key from the reference, so the Transaction Query after a
  // restart finds a push an earlier process made. The RRN keeps Visa's ydddhhnnnnnn form (a valid
  // yddd Julian date: y 0-9, ddd 001-365; hh 00-23) with each part taken from the hash. NEVER
  // change this derivation: orders in flight across an upgrade would no longer be found.
  auto [stan_word, rrn_word] = reference_hash(reference);
  Identifiers ids;
  ids.stan = zero_padded(stan_word % 1'000'000, 6);
  const std::uint64_t year_digit = rrn_word % 10;
  rrn_word /= 10;
  const std::uint64_t day = 1 + rrn_word % 365;
  rrn_word /= 365;
  const std::uint64_t hour = rrn_word % 24;
  rrn_word /= 24;
  ids.rrn = zero_padded(year_digit, 1) + zero_padded(day, 3) + zero_padded(hour, 2) +
            zero_padded(rrn_word % 1'000'000, 6);
  return ids;
}

std::string amount_text(const Amount& amount, std::string* problem) {
  const int exponent = amount.currency.exponent();
  std::int64_t scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;
  if (amount.minor <= 0 || amount.minor / scale > kAmountIntegerMax) {
    *problem = "the amount is outside what Visa Direct takes (above 0, at most 999999999.999)";
    return {};
  }
  if (exponent > kFractionDigitsMax || (exponent == kFractionDigitsMax && amount.minor % 10 != 0)) {
    *problem = "Visa Direct takes at most 3 fraction digits, the third one zero";
    return {};
  }
  return format_decimal(amount.minor, exponent);
}

std::string business_application_id(const CreditOrder& order, const VisaDirectOptions& options) {
  // Visa: "PP applies to transactions where the sender and recipient are not the same person".
  return order.program == Program::kPersonToPerson ? "PP" : options.business_application_id;
}

std::string order_fault(const CreditOrder& order) {
  if (order.program == Program::kPersonToPerson && !parties_of(order).sender.named()) {
    return "a person-to-person push needs the sender's first and last name";
  }
  return {};
}

std::string push_body(const CreditOrder& order, const VisaDirectOptions& options,
                      std::int64_t now_ms, std::string* problem) {
  const std::string amount = amount_text(order.amount, problem);
  if (amount.empty()) return {};
  const Parties parties = parties_of(order);
  if (!parties.recipient.named()) {
    *problem = "the order has no recipient name, which Visa Direct requires";
    return {};
  }
  const Sender sender = sender_of(parties.sender, options);
  if (sender.name.empty() || sender.country.empty()) {
    *problem = "the order has no sender, and the rail no sender_name and sender_country_code";
    return {};
  }
  const Identifiers ids = identifiers_of(order.reference);
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("systemsTraceAuditNumber").string(ids.stan);
  w.key("retrievalReferenceNumber").string(ids.rrn);
  w.key("localTransactionDateTime")
      .string(format_iso8601(now_ms, options.local_utc_offset_minutes).substr(0, 19));
  w.key("acquiringBin").string(options.acquiring_bin);
  w.key("acquirerCountryCode").string(options.acquirer_country_code);
  w.key("businessApplicationId").string(business_application_id(order, options));
  optional_member(w, "merchantCategoryCode", options.merchant_category_code);
  w.key("sourceOfFundsCode").string(options.source_of_funds_code);
  write_recipient(w, order, parties.recipient);
  w.key("amount").string(amount);
  w.key("transactionCurrencyCode").string(order.amount.currency.code());
  write_sender(w, sender, order.reference);
  write_card_acceptor(w, options);
  w.end_object();
  return out;
}

std::unique_ptr<Answer> push_answer_of(std::string_view body, const std::string& rrn,
                                       std::int64_t now_ms) {
  const json::ParseResult parsed = json::parse(body);
  const json::Value* o = parsed_object(parsed);
  if (!o) return nullptr;
  const std::string action_code = string_member(o, "actionCode");
  if (action_code.empty()) return nullptr;
  return completed(action_code, string_member(o, "approvalCode"),
                   scalar_member(*o, "transactionIdentifier"), rrn, now_ms);
}

std::string status_identifier_of(std::string_view body) {
  const json::ParseResult parsed = json::parse(body);
  const std::string id = string_member(parsed_object(parsed), "statusIdentifier");
  // It goes into a URL path: letters and digits only (Visa's are).
  return alphanumeric(id) ? id : std::string();
}

std::unique_ptr<Answer> query_answer_of(std::string_view body, const std::string& rrn,
                                        std::int64_t now_ms, bool* empty) {
  const json::ParseResult parsed = json::parse(body);
  if (!parsed.value || !parsed.value->is_array()) return nullptr;
  const auto& records = parsed.value->as_array();
  *empty = records.empty();
  // Several records share a key when Visa recorded a repeat (a 94 duplicate) or a push again
  // after one it FAILED: an approval wins, then one in progress, then a decline; 94 records
  // are repeats and decide nothing.
  std::unique_ptr<Answer> best;
  int best_rank = 0;
  for (const json::Value& r : records) {
    if (!r.is_object()) return nullptr;
    const std::string status = string_member(&r, "statusCode");
    const std::string code = string_member(&r, "actionCode");
    std::unique_ptr<Answer> a;
    int rank = 0;
    if (status == "COMPLETED" && code == kApproved) {
      a = completed(code, string_member(&r, "approvalCode"),
                    scalar_member(r, "transactionIdentifier"), rrn, now_ms);
      rank = 4;
    } else if (status == "IN_PROGRESS") {
      a = std::make_unique<Answer>(Answer{Outcome::kProcessing, {}, {}, "in progress at Visa", 0});
      rank = 3;
    } else if (status == "COMPLETED" && !code.empty() && code != kDuplicate) {
      a = completed(code, {}, {}, rrn, now_ms);
      rank = 2;
    } else if (status == "FAILED") {
      a = std::make_unique<Answer>(Answer{Outcome::kDeclined,
                                          {},
                                          "FAILED",
                                          "Visa received the transaction and rejected it",
                                          now_ms});
      rank = 1;
    }
    if (a && rank > best_rank) {
      best = std::move(a);
      best_rank = rank;
    }
  }
  if (!best && !records.empty()) {  // only repeats, or statuses not documented: not decided
    best = std::make_unique<Answer>(
        Answer{Outcome::kUnknown, {}, {}, "Visa's records of the transaction decide nothing", 0});
  }
  return best;
}

std::string action_code_text(std::string_view code) {
  for (const auto& [c, text] : kActionCodes) {
    if (c == code) return std::string(text);
  }
  return "action code " + shortened(code, 4);
}

std::string error_summary(std::string_view body) {
  const json::ParseResult parsed = json::parse(body);
  const json::Value* o = parsed_object(parsed);
  if (!o) return {};
  std::string out;
  if (const json::Value* status = o->find("responseStatus"); status && status->is_object()) {
    out = shortened(string_member(status, "code"), kLogFieldBytesMax) + ": " +
          shortened(string_member(status, "message"), kLogFieldBytesMax);
  } else {
    out = shortened(string_member(o, "errorMessage"), kLogFieldBytesMax);
  }
  return without_card_numbers(out);
}

}  // namespace payoutd::rails::visa
