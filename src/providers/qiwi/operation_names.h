#pragma once
// QIWI's names and numbers of wallet operations (the history dictionary, docs/qiwi.md): one
// table, read one way by the sandbox admin API (a name to the engine's kind) and the other by the
// history rendering (the engine's kind to QIWI's name and number).
#include <optional>
#include <string_view>

#include "engine/payouts.h"

namespace payoutd::providers::qiwi {

struct OperationName {
  engine::OperationKind kind;
  int type_id;            // QIWI's domainTxnTypeId
  std::string_view name;  // QIWI's txnType name
  // The admin API may record it; a funder's payout is made only through the Payments API.
  bool recordable;
};

// The operation a recordable QIWI name stands for; nullopt for any other name.
std::optional<engine::OperationKind> recordable_operation(std::string_view name);

// QIWI's name and number of an operation kind; nullptr for a value that is no kind.
const OperationName* operation_name(engine::OperationKind kind);

}  // namespace payoutd::providers::qiwi
