// The history's details column (store/history_details.h): typed facts to its text and back, and
// the text that databases already hold.
#include "store/history_details.h"

#include <gtest/gtest.h>

#include "store/rows.h"

namespace payoutd::store {
namespace {

using Kind = HistoryDetails::Kind;

HistoryDetails card_with_balance() {
  HistoryDetails d;
  d.kind = Kind::kCard;
  d.card = {"tok-1", "411111******1111", "5411", "m-7", "Shop \"A\" \\ B", "123456789012"};
  d.balance = Amount{-12345, *Currency::from_code("RUB")};
  return d;
}

TEST(HistoryDetails, EveryKindComesBackAsItWasWritten) {
  HistoryDetails provider;
  provider.kind = Kind::kProvider;
  provider.provider_id = "prv-1";
  provider.provider_name = "Мобильная связь";
  HistoryDetails transfer;
  transfer.kind = Kind::kTransfer;
  transfer.other_client_id = "client-2";
  transfer.other_account_id = "acc-2";
  HistoryDetails card = card_with_balance();
  HistoryDetails card_only = card;
  card_only.balance.reset();
  for (const HistoryDetails& d : {HistoryDetails{}, provider, transfer, card, card_only}) {
    EXPECT_EQ(decode_history_details(encode_history_details(d)), d);
  }
}

TEST(HistoryDetails, NothingToTellIsAnEmptyColumn) {
  EXPECT_EQ(encode_history_details({}), "");
  EXPECT_EQ(decode_history_details("").kind, Kind::kNone);
}

TEST(HistoryDetails, TheTextDatabasesAlreadyHoldIsReadAsTypedFacts) {
  const HistoryDetails d = decode_history_details(
      R"({"cardTxnInfo":{"cardTokenId":"t","maskedPan":"4111","merchantType":"5411",)"
      R"("merchantId":"m","merchantName":"n","retrievalReferenceNumber":"r",)"
      R"("accountBalance":{"value":100.5,"currency":"RUB"}}})");
  EXPECT_EQ(d.kind, Kind::kCard);
  EXPECT_EQ(d.card.merchant_name, "n");
  ASSERT_TRUE(d.balance.has_value());
  EXPECT_EQ(d.balance->minor, 10050);
  EXPECT_EQ(encode_history_details(card_with_balance()),
            R"({"cardTxnInfo":{"cardTokenId":"tok-1","maskedPan":"411111******1111",)"
            R"("merchantType":"5411","merchantId":"m-7","merchantName":"Shop \"A\" \\ B",)"
            R"("retrievalReferenceNumber":"123456789012",)"
            R"("accountBalance":{"value":-123.45,"currency":"RUB"}}})");
}

TEST(HistoryDetails, AColumnOfAnotherShapeIsAStorageError) {
  for (const char* text :
       {"{", "[]", R"({"x":{}})", R"({"providerTxnInfo":{"providerId":1}})",
        R"({"providerTxnInfo":{},"cardTxnInfo":{}})",
        R"({"cardTxnInfo":{"cardTokenId":"t","maskedPan":"4111","merchantType":"5411",)"
        R"("merchantId":"m","merchantName":"n","retrievalReferenceNumber":"r",)"
        R"("accountBalance":{"value":1,"currency":"XXX"}}})"}) {
    EXPECT_THROW(decode_history_details(text), StorageError) << text;
  }
}

}  // namespace
}  // namespace payoutd::store
