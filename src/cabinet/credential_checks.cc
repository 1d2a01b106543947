#include "cabinet/credential_checks.h"

#include <pthread.h>
#include <sodium.h>

#include <spdlog/spdlog.h>

#include <vector>

#include "core/hex.h"
#include "core/ids.h"
#include "core/log_limit.h"
#include "core/secrets.h"

namespace payoutd::cabinet {

CredentialChecks::CredentialChecks(const Clock& clock, CheckOptions options,
                                   const char* thread_name)
    : clock_(clock),
      options_(options),
      throttle_(options_.throttle),
      budgets_(options_.checks_per_address_per_minute, 60'000, options_.checks_per_address_burst,
               options_.throttle.entries_max) {
  worker_ = std::thread([this, thread_name] {
    pthread_setname_np(pthread_self(), thread_name);
    work();
  });
}

CredentialChecks::~CredentialChecks() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::int64_t CredentialChecks::check(const std::string& login, const std::string& address,
                                     bool vouched, std::function<void(bool busy)> run) {
  const std::int64_t now_ms = clock_.now_ms();
  // Throttled before anything is queued: a (login, address) in its delay, or an address out of
  // budget for failures or for checks, is answered at once. A browser the login vouched for
  // spends no address's budget: it waits only for its own pair's delay.
  const std::string where = address_key(address);
  std::int64_t wait = throttle_.wait_ms(
      login, address, now_ms, vouched ? ThrottleScope::kPairOnly : ThrottleScope::kPairAndAddress);
  if (wait == 0 && !vouched) wait = budgets_.take(where, now_ms);
  if (wait > 0) return wait;
  enqueue({now_ms, vouched ? login : std::string(), std::move(run)}, where, vouched);
  return 0;
}

std::int64_t CredentialChecks::check_password(const Devices& devices, std::string login,
                                              std::string password, std::string address,
                                              std::string_view device, Verify verify,
                                              std::function<void()> busy) {
  const bool vouched = devices.vouches(device, login, clock_.now_ms());
  auto run = [login, password = std::move(password), address, vouched, verify = std::move(verify),
              busy = std::move(busy)](bool is_busy) mutable {
    if (is_busy) {
      sodium_memzero(password.data(), password.size());
      return busy();
    }
    verify(std::move(login), std::move(password), std::move(address), vouched);
  };
  return check(login, address, vouched, std::move(run));
}

void CredentialChecks::queue(const std::string& address, std::function<void(bool busy)> run) {
  enqueue({clock_.now_ms(), {}, std::move(run)}, address_key(address), false);
}

std::int64_t CredentialChecks::throttled_ms(const std::string& credential,
                                            const std::string& address) {
  return throttle_.wait_ms(credential, address, clock_.now_ms());
}

void CredentialChecks::failed(const std::string& login, const std::string& address) {
  throttle_.failed(login, address, clock_.now_ms());
}

void CredentialChecks::succeeded(const std::string& login, const std::string& address) {
  throttle_.succeeded(login, address);
}

void CredentialChecks::enqueue(Check check, const std::string& where, bool vouched) {
  std::unique_lock lock(mutex_);
  if (vouched) {
    // Its own lane, served first, bounded as every address's is (per login).
    std::size_t& of_login = vouched_of_[check.login];
    if (stopping_ || vouched_.size() >= options_.pending_max ||
        of_login >= options_.pending_per_address_max) {
      if (of_login == 0) vouched_of_.erase(check.login);
      lock.unlock();
      return check.run(true);
    }
    ++of_login;
    vouched_.push_back(std::move(check));
  } else {
    auto& mine = pending_[where];
    if (stopping_ || pending_count_ >= options_.pending_max ||
        mine.size() >= options_.pending_per_address_max) {
      if (mine.empty()) pending_.erase(where);
      lock.unlock();
      return check.run(true);
    }
    if (mine.empty()) turns_.push_back(where);
    mine.push_back(std::move(check));
    ++pending_count_;
  }
  lock.unlock();
  wake_.notify_one();
}

bool CredentialChecks::next(Check& check) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return stopping_ || !turns_.empty() || !vouched_.empty(); });
  if (!vouched_.empty()) {
    check = std::move(vouched_.front());
    vouched_.pop_front();
    if (--vouched_of_[check.login] == 0) vouched_of_.erase(check.login);
    return true;
  }
  if (turns_.empty()) return false;
  const std::string address = std::move(turns_.front());
  turns_.pop_front();
  auto it = pending_.find(address);
  check = std::move(it->second.front());
  it->second.pop_front();
  --pending_count_;
  if (it->second.empty()) {
    pending_.erase(it);
  } else {
    turns_.push_back(address);  // its next check waits for every other address's turn
  }
  return true;
}

void CredentialChecks::work() {
  for (;;) {
    // One check at a time, gone once it ran: what its answer holds (a connection) must not
    // outlive the answer by waiting here for the next check.
    Check check;
    if (!next(check)) break;
    check.run(clock_.now_ms() - check.queued_ms > options_.pending_wait_ms_max);
  }
  // Stopping: what still waits is answered "busy".
  std::map<std::string, std::deque<Check>> left;
  std::deque<Check> vouched;
  {
    std::lock_guard lock(mutex_);
    left.swap(pending_);
    vouched.swap(vouched_);
    turns_.clear();
    vouched_of_.clear();
    pending_count_ = 0;
  }
  for (Check& c : vouched) c.run(true);
  for (auto& [address, checks] : left) {
    for (Check& c : checks) c.run(true);
  }
}

bool Devices::vouches(std::string_view device, std::string_view login, std::int64_t now_ms) const {
  if (device.empty() || device.size() > 128) return false;
  const auto record = store_.get_record("", kind_, token_hash(device));
  if (!record.ok()) return false;
  auto v = record_object(*record);
  return v && json::string_member(*v, "login") == login &&
         now_ms - json::int_member(*v, "created_ms") < device_ms_;
}

void Devices::write(store::WriteTxn& txn, std::string_view device, std::string_view login,
                    std::int64_t now_ms) const {
  std::string value;
  json::Writer w(value);
  w.begin_object().key("login").string(login).key("created_ms").integer(now_ms).end_object();
  txn.insert_record("", kind_, token_hash(device), value);
}

bool password_matches(std::string_view hash, std::string& password, bool refuse_published,
                      std::string_view where, std::string_view login) {
  static LogLimit published_refused;
  const std::string text(hash);
  bool matches = crypto_pwhash_str_verify(text.c_str(), password.data(), password.size()) == 0;
  if (matches && refuse_published && is_published_secret(password)) {
    matches = false;  // published with the sandbox: it opens nothing outside it
    if (const std::int64_t held = published_refused.admit(); held >= 0) {
      spdlog::warn(
          "{}: {} signed in with a password published with the sandbox: refused; set another "
          "({} more not logged)",
          where, login, held);
    }
  }
  sodium_memzero(password.data(), password.size());
  return matches;
}

std::string token_hash(std::string_view token) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return hex_encode(h);
}

std::optional<json::Value> record_object(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  json::ParseResult parsed = json::parse(*text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value);
}

}  // namespace payoutd::cabinet
