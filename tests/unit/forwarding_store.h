#pragma once
// A test double of the store contract: forwards every call to a real store, and can make every
// read fail as a storage failure does (the read returns its ReadError; the real store is not
// asked). Writes always go through, so a test can change state, break the reads, and watch what
// the callers answer. Subclasses override what else they need (committer_test's gated sync).
#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "store/store.h"

namespace payoutd::testing {

class ForwardingStore : public store::Store {
 public:
  explicit ForwardingStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}

  // From now on every read fails (true) or is the real store's again (false).
  void fail_reads(bool fail) { fail_reads_ = fail; }
  // How many reads failed so far.
  int failed_reads() const { return failed_reads_.load(); }

  store::Status sync() override { return inner_->sync(); }
  std::unique_ptr<store::WriteTxn> begin() override { return inner_->begin(); }
  store::Read<std::optional<store::PayoutRecord>> get_payout(std::string_view t,
                                                             store::PayoutKind k,
                                                             std::string_view id) const override {
    if (failing()) return failure();
    return inner_->get_payout(t, k, id);
  }
  store::Read<std::optional<ledger::Account>> get_account(std::string_view t, ledger::AccountKind k,
                                                          std::string_view c) const override {
    if (failing()) return failure();
    return inner_->get_account(t, k, c);
  }
  store::Read<std::vector<ledger::Account>> get_accounts_by_owner(
      std::string_view t, ledger::AccountKind k, std::string_view o) const override {
    if (failing()) return failure();
    return inner_->get_accounts_by_owner(t, k, o);
  }
  store::Read<std::vector<ledger::Account>> tenant_accounts(std::string_view t,
                                                            ledger::AccountKind k) const override {
    if (failing()) return failure();
    return inner_->tenant_accounts(t, k);
  }
  store::Read<std::vector<store::PayoutRecord>> payouts_page(
      const store::PayoutQuery& q) const override {
    if (failing()) return failure();
    return inner_->payouts_page(q);
  }
  store::Read<std::vector<store::PayoutDay>> payout_days(std::string_view t, std::int64_t from,
                                                         std::int64_t to) const override {
    if (failing()) return failure();
    return inner_->payout_days(t, from, to);
  }
  store::Read<std::optional<std::pair<std::int64_t, std::int64_t>>> find_history(
      std::string_view id) const override {
    if (failing()) return failure();
    return inner_->find_history(id);
  }
  store::Read<std::vector<store::HistoryRecord>> history_page(std::int64_t a, std::int64_t s,
                                                              std::size_t n) const override {
    if (failing()) return failure();
    return inner_->history_page(a, s, n);
  }
  store::Read<std::vector<store::PayoutRecord>> processing_payouts(std::int64_t due,
                                                                   std::size_t n) const override {
    if (failing()) return failure();
    return inner_->processing_payouts(due, n);
  }
  store::Read<store::Backlog> backlog() const override {
    if (failing()) return failure();
    return inner_->backlog();
  }
  store::Read<store::PayoutSearchPage> search_payouts(const store::PayoutSearch& q) const override {
    if (failing()) return failure();
    return inner_->search_payouts(q);
  }
  store::Read<std::vector<store::PayoutRecord>> unsettled_card_payouts(
      std::int64_t created_before_ms, std::size_t limit) const override {
    if (failing()) return failure();
    return inner_->unsettled_card_payouts(created_before_ms, limit);
  }
  store::Read<std::vector<store::OutboxMessage>> failing_callbacks(
      std::size_t limit) const override {
    if (failing()) return failure();
    return inner_->failing_callbacks(limit);
  }
  store::Read<std::vector<store::OutboxQueue>> outbox_queues(std::size_t limit) const override {
    if (failing()) return failure();
    return inner_->outbox_queues(limit);
  }
  store::Read<std::optional<std::string>> get_record(std::string_view t, std::string_view k,
                                                     std::string_view key) const override {
    if (failing()) return failure();
    return inner_->get_record(t, k, key);
  }
  store::Read<std::vector<std::pair<std::string, std::string>>> records_with_keys(
      std::string_view t, std::string_view k, const std::vector<std::string>& keys) const override {
    if (failing()) return failure();
    return inner_->records_with_keys(t, k, keys);
  }
  store::Read<std::vector<std::pair<std::string, std::string>>> records_with_prefix(
      std::string_view t, std::string_view k, std::string_view p, std::size_t n) const override {
    if (failing()) return failure();
    return inner_->records_with_prefix(t, k, p, n);
  }
  store::Read<std::vector<store::OutboxMessage>> due_outbox(std::int64_t now, std::size_t q,
                                                            std::size_t n) const override {
    if (failing()) return failure();
    return inner_->due_outbox(now, q, n);
  }
  store::Read<std::vector<store::OutboxMessage>> outbox_messages(std::string_view t,
                                                                 std::string_view p,
                                                                 std::size_t n) const override {
    if (failing()) return failure();
    return inner_->outbox_messages(t, p, n);
  }
  store::Read<std::vector<store::OutboxMessage>> payout_messages(std::int64_t id,
                                                                 std::size_t n) const override {
    if (failing()) return failure();
    return inner_->payout_messages(id, n);
  }
  store::Read<std::vector<store::OutboxAttempt>> outbox_attempts(std::int64_t id) const override {
    if (failing()) return failure();
    return inner_->outbox_attempts(id);
  }
  store::Read<std::optional<store::MovementPage>> account_movements(
      const store::MovementQuery& q) const override {
    if (failing()) return failure();
    return inner_->account_movements(q);
  }
  store::Read<store::AuditSnapshot> snapshot() const override {
    if (failing()) return failure();
    return inner_->snapshot();
  }
  int schema_version() const override { return inner_->schema_version(); }
  store::Read<int> stored_schema_version() const override {
    return inner_->stored_schema_version();
  }

 private:
  bool failing() const {
    if (!fail_reads_) return false;
    ++failed_reads_;
    return true;
  }
  static Failure<store::ReadError> failure() { return {store::ReadError{"injected read failure"}}; }

  std::unique_ptr<store::Store> inner_;
  std::atomic<bool> fail_reads_{false};
  mutable std::atomic<int> failed_reads_{0};
};

}  // namespace payoutd::testing
