#include "tenants/directory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "core/json.h"

namespace payoutd::tenants {
namespace {

// Generations are unique in the process, so a thread's cached snapshot is never mistaken for
// another directory's (tests build several).
std::atomic<std::uint64_t> generations{0};

std::int64_t parse_count(const std::optional<std::string>& text) {
  if (!text) return 0;
  std::int64_t value = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string uses_key(const Tenant& tenant, std::string_view credential_id) {
  return tenant.key() + "/" + std::string(credential_id);
}

// The revision record's value; nullopt when the store could not be read.
std::optional<std::int64_t> read_revision(const store::Store& store) {
  const auto read = store.get_record("", kRevisionRecord, kRevisionKey);
  if (!read.ok()) return std::nullopt;
  return parse_count(*read);
}

}  // namespace

Directory::Directory(engine::Committer& committer, const store::Store& store, const Clock& clock,
                     const std::vector<const Kind*>& kinds, DirectoryOptions options,
                     const cards::Vault* vault)
    : committer_(committer), store_(store), clock_(clock), options_(options), vault_(vault) {
  for (const Kind* kind : kinds) kinds_.emplace(std::string(kind->provider()), kind);
  publish(std::make_shared<const Snapshot>());
}

Directory::~Directory() { stop(); }

const Kind* Directory::kind(std::string_view provider) const {
  const auto found = kinds_.find(provider);
  return found == kinds_.end() ? nullptr : found->second;
}

std::shared_ptr<const Snapshot> Directory::snapshot() const {
  struct Cache {
    std::uint64_t generation = 0;
    std::shared_ptr<const Snapshot> snapshot;
  };
  thread_local Cache cache;
  if (cache.generation != generation_.load(std::memory_order_acquire)) {
    std::lock_guard lock(snapshot_mutex_);
    cache.snapshot = current_;
    cache.generation = generation_.load(std::memory_order_relaxed);
  }
  return cache.snapshot;
}

void Directory::publish(std::shared_ptr<const Snapshot> next) {
  std::lock_guard lock(snapshot_mutex_);
  current_ = std::move(next);
  generation_.store(++generations, std::memory_order_release);
}

bool Directory::load() {
  const auto revision = read_revision(store_);
  return revision && reload(*revision);
}

bool Directory::refresh() {
  const auto revision = read_revision(store_);
  if (!revision) return false;
  if (*revision == snapshot()->revision()) return true;
  return reload(*revision);
}

std::shared_ptr<const TenantEntry> Directory::build_entry(TenantRecord record,
                                                          const Snapshot* previous) {
  if (const TenantEntry* old = previous->find(record.tenant.provider, record.tenant.id);
      old && old->record.revision == record.revision &&
      old->record.updated_ms == record.updated_ms) {
    for (const auto& entry : previous->entries()) {
      if (entry.get() == old) return entry;
    }
  }
  auto entry = std::make_shared<TenantEntry>();
  if (const Kind* k = kind(record.tenant.provider)) {
    std::string problem;
    const json::ParseResult parsed = json::parse(record.settings);
    if (parsed.value) entry->settings = k->decode(*parsed.value, &problem);
    if (!entry->settings) {
      spdlog::error("tenant {}: its stored settings do not decode: {}", record.tenant.key(),
                    problem);
    }
  }
  for (const Credential& c : record.credentials) {
    auto& counter = counters_[uses_key(record.tenant, c.id)];
    if (!counter) counter = std::make_shared<UseCounter>();
    entry->uses.push_back(counter);
    entry->secrets.push_back(open_sealed(record.tenant, c));
  }
  entry->record = std::move(record);
  return entry;
}

bool Directory::reload(std::int64_t revision) {
  std::lock_guard lock(reload_mutex_);
  const std::shared_ptr<const Snapshot> previous = snapshot();
  if (previous->revision() == revision && revision != 0) return true;  // another thread did it
  const auto records = store_.records_with_prefix("", kTenantRecord, "", kTenantsMax);
  if (!records.ok()) return false;
  std::vector<std::shared_ptr<const TenantEntry>> entries;
  entries.reserve(records->size());
  for (const auto& [key, value] : *records) {
    auto record = record_from_json(value);
    if (!record) {
      spdlog::error("tenant record {} is unreadable: left out of the directory", key);
      continue;
    }
    entries.push_back(build_entry(std::move(*record), previous.get()));
  }
  publish(std::make_shared<const Snapshot>(revision, std::move(entries)));
  return true;
}

std::string Directory::open_sealed(const Tenant& tenant, const Credential& credential) const {
  if (credential.storage != Storage::kSealed) return {};
  if (!vault_ || !vault_->is_open()) {
    spdlog::error("tenant {}: credential {} is sealed and the vault is closed", tenant.key(),
                  credential.id);
    return {};
  }
  auto opened = vault_->open_credential(tenant.key(), credential.id, credential.stored);
  if (!opened) {
    spdlog::error("tenant {}: credential {} does not open with this vault", tenant.key(),
                  credential.id);
    return {};
  }
  return std::move(*opened);
}

bool Directory::note_use(const TenantEntry& entry, std::size_t index) {
  const Credential& credential = entry.record.credentials[index];
  UseCounter& uses = *entry.uses[index];
  if (credential.retiring()) {
    uses.unflushed.fetch_add(1, std::memory_order_relaxed);
    uses.counted.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (credential.storage != Storage::kSealed || credential.first_used_ms != 0 ||
      uses.first_use_noted.load(std::memory_order_relaxed)) {
    return false;
  }
  const std::int64_t now_ms = clock_.now_ms();
  const auto& all = entry.record.credentials;
  const bool overlap = std::any_of(all.begin(), all.end(), [now_ms](const Credential& c) {
    return c.retiring() && c.works_at(now_ms);
  });
  return overlap && !uses.first_use_noted.exchange(true, std::memory_order_relaxed);
}

Authentication Directory::authenticate(std::string_view provider, std::string_view secret) {
  const Digest digest = credential_digest(secret);
  std::shared_ptr<const Snapshot> snap = snapshot();
  auto match = snap->match(digest);
  if (!match) {
    snap = refresh_on_miss();
    match = snap->match(digest);
  }
  if (!match) return {std::move(snap), nullptr};
  const TenantEntry* entry = match->entry;
  const Credential& credential = match->credential();
  if (entry->record.tenant.provider != provider || entry->record.status == Status::kClosed ||
      !credential.works_at(clock_.now_ms())) {
    return {std::move(snap), nullptr};
  }
  note_use(*entry, match->index);  // a hashed credential: counted when retiring, nothing else
  return {std::move(snap), entry};
}

std::shared_ptr<const Snapshot> Directory::refresh_on_miss() {
  // A refresh that starts after this point sees every change committed before the miss.
  const std::uint64_t arrived = miss_refreshes_.load(std::memory_order_acquire);
  std::lock_guard lock(miss_mutex_);
  if (miss_refreshes_.load(std::memory_order_relaxed) == arrived) {
    miss_refreshes_.fetch_add(1, std::memory_order_release);
    refresh();
  }
  return snapshot();
}

Found Directory::find(std::string_view provider, std::string_view id) {
  std::shared_ptr<const Snapshot> snap = snapshot();
  if (const TenantEntry* entry = snap->find(provider, id)) return {std::move(snap), entry};
  snap = refresh_on_miss();
  const TenantEntry* entry = snap->find(provider, id);
  return {std::move(snap), entry};
}

std::optional<engine::CardLimits> Directory::card_limits(const Tenant& tenant) const {
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const TenantEntry* entry = snap->find(tenant.provider, tenant.id);
  const Kind* k = entry && entry->settings ? kind(tenant.provider) : nullptr;
  return k ? k->card_limits(*entry->settings) : std::nullopt;
}

std::optional<std::vector<Tenant>> Directory::card_tenants() {
  if (!refresh()) return std::nullopt;
  std::vector<Tenant> out;
  for (const auto& entry : snapshot()->entries()) {
    const Kind* k = kind(entry->record.tenant.provider);
    if (k && k->pays_cards()) out.push_back(entry->record.tenant);
  }
  return out;
}

std::int64_t Directory::old_credential_uses(const Tenant& tenant,
                                            std::string_view credential_id) const {
  const std::string key = uses_key(tenant, credential_id);
  const auto stored = store_.get_record("", kUsesRecord, key);
  if (!stored.ok()) return -1;
  std::int64_t uses = parse_count(*stored);
  std::lock_guard lock(reload_mutex_);
  if (const auto found = counters_.find(key); found != counters_.end()) {
    uses += found->second->unflushed.load(std::memory_order_relaxed);
  }
  return uses;
}

void Directory::expose(metrics::Exposition& out) const {
  out.family("payoutd_tenant_old_credential_uses_total", metrics::Type::kCounter,
             "Uses of a partner's replaced credential during its overlap, on this node");
  std::map<Tenant, std::int64_t> by_tenant;
  {
    std::lock_guard lock(reload_mutex_);
    for (const auto& [key, counter] : counters_) {
      const std::int64_t n = counter->counted.load(std::memory_order_relaxed);
      if (n == 0) continue;
      auto tenant = Tenant::parse(key.substr(0, key.rfind('/')));
      if (tenant) by_tenant[*tenant] += n;
    }
  }
  for (const auto& [tenant, n] : by_tenant) {
    out.sample({{"provider", tenant.provider}, {"tenant", tenant.id}}, n);
  }
}

bool Directory::flush_uses() {
  std::vector<std::pair<std::string, std::int64_t>> deltas;
  std::vector<std::shared_ptr<UseCounter>> sources;
  {
    std::lock_guard lock(reload_mutex_);
    for (const auto& [key, counter] : counters_) {
      if (const std::int64_t n = counter->unflushed.exchange(0, std::memory_order_relaxed); n > 0) {
        deltas.emplace_back(key, n);
        sources.push_back(counter);
      }
    }
  }
  if (deltas.empty()) return true;
  std::promise<bool> done;
  auto written = done.get_future();
  const bool submitted = committer_.submit(engine::make_job<bool>(
      [deltas](store::WriteTxn& txn, std::int64_t) {
        for (const auto& [key, n] : deltas) {
          const auto current = txn.find_record("", kUsesRecord, key);
          const std::string value = std::to_string(parse_count(current) + n);
          if (current) {
            txn.update_record("", kUsesRecord, key, value);
          } else {
            txn.insert_record("", kUsesRecord, key, value);
          }
        }
        return true;
      },
      [&done](bool, const store::Status& status) { done.set_value(status.ok); }));
  const bool ok = submitted && written.get();
  if (!ok) {  // counted again at the next flush
    for (std::size_t i = 0; i < deltas.size(); ++i) {
      sources[i]->unflushed.fetch_add(deltas[i].second, std::memory_order_relaxed);
    }
  }
  return ok;
}

void Directory::after_refresh(std::function<void()> done) {
  {
    std::lock_guard lock(thread_mutex_);
    if (thread_.joinable() && !stopping_) {
      waiting_.push_back(std::move(done));
      wake_.notify_one();
      return;
    }
  }
  done();  // not running: nothing to wait for
}

void Directory::start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Directory::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    wake_.notify_one();
  }
  thread_.join();
  flush_uses();
}

void Directory::run() {
  using Steady = std::chrono::steady_clock;
  auto next_flush = Steady::now() + std::chrono::milliseconds(options_.flush_ms);
  std::unique_lock lock(thread_mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.refresh_ms),
                   [this] { return stopping_ || !waiting_.empty(); });
    std::vector<std::function<void()>> waiting = std::move(waiting_);
    waiting_.clear();
    lock.unlock();
    refresh();
    for (auto& done : waiting) done();
    if (Steady::now() >= next_flush) {
      flush_uses();
      next_flush = Steady::now() + std::chrono::milliseconds(options_.flush_ms);
    }
    lock.lock();
  }
  // Changes answered while stopping: their answers still go out.
  std::vector<std::function<void()>> waiting = std::move(waiting_);
  waiting_.clear();
  lock.unlock();
  for (auto& done : waiting) done();
}

}  // namespace payoutd::tenants
