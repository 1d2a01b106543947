#include "providers/qiwi/operation_names.h"

namespace payoutd::providers::qiwi {

namespace {

using engine::OperationKind;

constexpr OperationName kOperationNames[] = {
    {OperationKind::kProviderPayment, 1, "PAYMENT", true},
    {OperationKind::kCardPurchase, 2, "PURCHASE_E_POS", true},
    {OperationKind::kInvoiceCredit, 3, "INVOICING_SERVICE", true},
    {OperationKind::kClientTransfer, 4, "TRANSFER_BETWEEN_CLIENTS", true},
    {OperationKind::kCardCredit, 5, "FAST_FUNDS", true},
    {OperationKind::kCardBalanceInquiry, 10, "BALANCE_INQUIRY", true},
    {OperationKind::kFunderPayout, 20, "FUNDER_PAYOUT", false},
};

}  // namespace

std::optional<OperationKind> recordable_operation(std::string_view name) {
  for (const OperationName& entry : kOperationNames) {
    if (entry.recordable && entry.name == name) return entry.kind;
  }
  return std::nullopt;
}

const OperationName* operation_name(OperationKind kind) {
  for (const OperationName& entry : kOperationNames) {
    if (entry.kind == kind) return &entry;
  }
  return nullptr;
}

}  // namespace payoutd::providers::qiwi
