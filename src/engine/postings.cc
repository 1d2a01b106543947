#include "engine/postings.h"

#include <stdexcept>

#include "core/ids.h"

namespace payoutd::engine {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;
using ledger::TransferResult;
using store::PayoutKind;
using store::PayoutRecord;
using store::WriteTxn;

Account new_account(const std::string& tenant, AccountKind kind, std::string code,
                    std::string owner, Currency currency, std::int64_t now_ms) {
  Account a;
  a.tenant = tenant;
  a.kind = kind;
  a.code = std::move(code);
  a.owner = std::move(owner);
  a.currency = currency;
  a.created_ms = now_ms;
  return a;
}

std::string system_code(std::string_view purpose, Currency currency) {
  std::string code(purpose);
  code.append(":").append(currency.code());
  return code;
}

Account* system_account(WriteTxn& txn, const std::string& tenant, std::string_view purpose,
                        Currency currency, std::int64_t now_ms) {
  const std::string code = system_code(purpose, currency);
  if (Account* a = txn.find_account(tenant, AccountKind::kSystem, code)) return a;
  Account a =
      new_account(tenant, AccountKind::kSystem, code, std::string(purpose), currency, now_ms);
  a.floor = ledger::BalanceFloor::kNone;
  return txn.insert_account(a);
}

TransferResult move(WriteTxn& txn, const Transfer& t, Account& debit, Account& credit,
                    const Transfer* pending, std::int64_t* transfer_id) {
  const TransferResult result = ledger::apply(t, debit, credit, pending);
  if (result != TransferResult::kOk) return result;
  const std::int64_t id = txn.insert_transfer(t);
  if (transfer_id) *transfer_id = id;
  return result;
}

std::optional<std::pair<Error, PayoutRecord>> replay(WriteTxn& txn, const std::string& tenant,
                                                     PayoutKind kind, const std::string& id,
                                                     const std::string& fingerprint) {
  auto existing = txn.find_payout(tenant, kind, id);
  if (!existing) return std::nullopt;
  if (existing->fingerprint != fingerprint) return std::make_pair(Error::kIdConflict, *existing);
  return std::make_pair(Error::kNone, *existing);
}

Account* wallet_in(const std::vector<Account*>& wallets, Currency currency) {
  for (Account* w : wallets) {
    if (w->currency == currency) return w;
  }
  return nullptr;
}

// The wallet is locked by the batch, so positions are assigned in commit order.
std::pair<std::int64_t, std::string> next_history_position(Account& wallet) {
  if (wallet.id > kHistoryAccountMax || wallet.history_seq >= kHistorySeqMax) {
    throw std::length_error("history position out of range for account " +
                            std::to_string(wallet.id));
  }
  const std::int64_t seq = ++wallet.history_seq;
  return {seq, new_history_uuid(wallet.id, seq)};
}

}  // namespace payoutd::engine
