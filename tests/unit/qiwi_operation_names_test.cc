// The engine's operation kinds and QIWI's one table of their names and numbers
// (engine/payouts.h, providers/qiwi/operation_names.h).
#include "providers/qiwi/operation_names.h"

#include <gtest/gtest.h>

namespace payoutd::providers::qiwi {
namespace {

using engine::OperationKind;

constexpr OperationKind kAllKinds[] = {
    OperationKind::kProviderPayment, OperationKind::kCardPurchase,
    OperationKind::kInvoiceCredit,   OperationKind::kClientTransfer,
    OperationKind::kCardCredit,      OperationKind::kCardBalanceInquiry,
    OperationKind::kFunderPayout};

// The numbers are in stored history rows and operation fingerprints: a renumbering would change
// what existing databases mean.
TEST(OperationKinds, KeepTheNumbersTheDatabasesHold) {
  EXPECT_EQ(static_cast<int>(OperationKind::kProviderPayment), 1);
  EXPECT_EQ(static_cast<int>(OperationKind::kCardPurchase), 2);
  EXPECT_EQ(static_cast<int>(OperationKind::kInvoiceCredit), 3);
  EXPECT_EQ(static_cast<int>(OperationKind::kClientTransfer), 4);
  EXPECT_EQ(static_cast<int>(OperationKind::kCardCredit), 5);
  EXPECT_EQ(static_cast<int>(OperationKind::kCardBalanceInquiry), 10);
  EXPECT_EQ(static_cast<int>(OperationKind::kFunderPayout), 20);
}

TEST(QiwiOperationNames, NameEveryKindWithTheDictionarysNumber) {
  const std::pair<std::string_view, int> expected[] = {
      {"PAYMENT", 1},           {"PURCHASE_E_POS", 2},
      {"INVOICING_SERVICE", 3}, {"TRANSFER_BETWEEN_CLIENTS", 4},
      {"FAST_FUNDS", 5},        {"BALANCE_INQUIRY", 10},
      {"FUNDER_PAYOUT", 20}};
  for (std::size_t i = 0; i < std::size(kAllKinds); ++i) {
    const OperationName* name = operation_name(kAllKinds[i]);
    ASSERT_NE(name, nullptr) << i;
    EXPECT_EQ(name->kind, kAllKinds[i]);
    EXPECT_EQ(name->name, expected[i].first);
    EXPECT_EQ(name->type_id, expected[i].second);
  }
  EXPECT_EQ(operation_name(static_cast<OperationKind>(7)), nullptr);
}

TEST(QiwiOperationNames, ReadBackEveryRecordableNameAndNoOther) {
  for (OperationKind kind : kAllKinds) {
    const OperationName* name = operation_name(kind);
    ASSERT_NE(name, nullptr);
    const auto read = recordable_operation(name->name);
    if (kind == OperationKind::kFunderPayout) {
      EXPECT_FALSE(read) << "funder payouts are made through the Payments API only";
    } else {
      ASSERT_TRUE(read) << name->name;
      EXPECT_EQ(*read, kind);
    }
  }
  for (std::string_view other : {"", "payment", "PAYMENT ", "UNKNOWN", "FUNDER_PAYOUT"}) {
    EXPECT_FALSE(recordable_operation(other)) << other;
  }
}

}  // namespace
}  // namespace payoutd::providers::qiwi
