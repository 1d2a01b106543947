#include "store/history_details.h"

#include "core/json.h"
#include "store/rows.h"

namespace payoutd::store {
namespace {

using Kind = HistoryDetails::Kind;

constexpr std::string_view kProviderBlock = "providerTxnInfo";
constexpr std::string_view kTransferBlock = "transferBetweenClientsTxnInfo";
constexpr std::string_view kCardBlock = "cardTxnInfo";

// The string members of a block, each with its key.
template <typename Details, typename F>
void string_members(Details& d, F&& member) {
  switch (d.kind) {
    case Kind::kProvider:
      member("providerId", d.provider_id);
      member("providerDisplayName", d.provider_name);
      break;
    case Kind::kTransfer:
      member("anotherClientId", d.other_client_id);
      member("anotherAccountId", d.other_account_id);
      break;
    case Kind::kCard:
      member("cardTokenId", d.card.card_token_id);
      member("maskedPan", d.card.masked_pan);
      member("merchantType", d.card.merchant_type);
      member("merchantId", d.card.merchant_id);
      member("merchantName", d.card.merchant_name);
      member("retrievalReferenceNumber", d.card.rrn);
      break;
    case Kind::kNone:
      break;
  }
}

std::string_view block_of(Kind kind) {
  switch (kind) {
    case Kind::kProvider:
      return kProviderBlock;
    case Kind::kTransfer:
      return kTransferBlock;
    case Kind::kCard:
      return kCardBlock;
    case Kind::kNone:
      break;
  }
  return {};
}

[[noreturn]] void malformed(std::string_view text) {
  throw StorageError("history details not in the column's format: " +
                     std::string(text.substr(0, 120)));
}

std::optional<Amount> decode_balance(const json::Value& balance, std::string_view text) {
  const json::Value* value = balance.find("value");
  const json::Value* code = balance.find("currency");
  if (!value || !value->is_number() || !code || !code->is_string()) malformed(text);
  const std::optional<Currency> currency = Currency::from_code(code->as_string());
  if (!currency) malformed(text);
  const DecimalParse parsed = parse_decimal(value->number_text(), currency->exponent());
  if (parsed.error != DecimalError::kNone) malformed(text);
  return Amount{parsed.minor, *currency};
}

}  // namespace

std::string encode_history_details(const HistoryDetails& details) {
  std::string out;
  if (details.kind == Kind::kNone) return out;
  json::Writer w(out);
  w.begin_object().key(block_of(details.kind)).begin_object();
  string_members(details,
                 [&](std::string_view key, const std::string& value) { w.key(key).string(value); });
  if (details.kind == Kind::kCard && details.balance) {
    std::string value;
    append_decimal(value, details.balance->minor, details.balance->currency.exponent());
    w.key("accountBalance").begin_object();
    w.key("value").number_raw(value).key("currency").string(details.balance->currency.code());
    w.end_object();
  }
  w.end_object().end_object();
  return out;
}

HistoryDetails decode_history_details(std::string_view text) {
  HistoryDetails d;
  if (text.empty() || text == "{}") return d;
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object() || parsed.value->as_object().size() != 1) {
    malformed(text);
  }
  const std::string& block = parsed.value->as_object().front().first;
  const json::Value& members = parsed.value->as_object().front().second;
  for (Kind kind : {Kind::kProvider, Kind::kTransfer, Kind::kCard}) {
    if (block == block_of(kind)) d.kind = kind;
  }
  if (d.kind == Kind::kNone || !members.is_object()) malformed(text);
  string_members(d, [&](std::string_view key, std::string& value) {
    const json::Value* member = members.find(key);
    if (!member || !member->is_string()) malformed(text);
    value = member->as_string();
  });
  if (const json::Value* balance = members.find("accountBalance");
      balance && d.kind == Kind::kCard) {
    d.balance = decode_balance(*balance, text);
  }
  return d;
}

}  // namespace payoutd::store
