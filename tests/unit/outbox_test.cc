// The outbox dispatcher on both stores with scripted transports, its fair share between queues,
// the transports' work pool (tenants in turns, a bounded share each, a bounded queue), and the
// address filter.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "engine/committer.h"
#include "outbox/dispatcher.h"
#include "outbox/http_transport.h"
#include "outbox/work_pool.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::outbox {
namespace {

using testing::Backend;
using testing::TestDatabase;

using testing::ManualClock;

// Answers every post with the next scripted status (200 once the script runs out).
class ScriptedTransport final : public Transport {
 public:
  void post(outbox::Parcel parcel, std::function<void(Delivery)> done) override {
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      posts_.push_back(parcel.target + " " + parcel.body);
      if (!script_.empty()) {
        status = script_.front();
        script_.erase(script_.begin());
      }
    }
    cv_.notify_all();
    done({status, true, status ? "" : "timeout", 3, status == 200});
  }
  void stop() override {}
  void script(std::vector<int> statuses) {
    std::lock_guard lock(mutex_);
    script_ = std::move(statuses);
  }
  std::size_t posts() {
    std::lock_guard lock(mutex_);
    return posts_.size();
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return posts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int> script_;
  std::vector<std::string> posts_;
};

// Opens a "sealed" body of these tests: they mark it sealed and keep it as it is.
const Opener kOpenAsIs = [](const store::OutboxMessage& m) -> std::optional<std::string> {
  return m.body;
};

class OutboxTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = db_.open();
    committer_ = std::make_unique<engine::Committer>(*store_, clock_, engine::CommitterOptions{});
    committer_->start();
    DispatcherOptions o;
    o.poll_ms = 20;
    o.retry_ms = {1000, 5000};
    o.give_up_after_ms = 20'000;
    dispatcher_ = std::make_unique<Dispatcher>(*committer_, *store_, clock_, transport_, o);
    dispatcher_->open_sealed_with(kOpenAsIs);
  }
  void TearDown() override {
    dispatcher_->stop();
    committer_->stop();
  }
  std::int64_t enqueue(const std::string& event) {
    return enqueue({{"t", event, "http://receiver.example/cb"}}).front();
  }
  struct Spec {
    std::string tenant, event, target;
  };
  // Writes the messages in one batch, due now; their ids.
  std::vector<std::int64_t> enqueue(const std::vector<Spec>& specs) {
    std::promise<std::vector<std::int64_t>> ids;
    auto f = ids.get_future();
    committer_->submit(engine::make_job<std::vector<std::int64_t>>(
        [&](store::WriteTxn& txn, std::int64_t now_ms) {
          std::vector<std::int64_t> result;
          for (const Spec& spec : specs) {
            store::OutboxMessage m;
            m.tenant = spec.tenant;
            m.event_id = spec.event;
            m.target = spec.target;
            m.body = "{\"event\":\"" + spec.event + "\"}";
            // A message to a person is stored sealed (here: marked so; the opener below is the
            // identity, standing for the vault's).
            m.sealed = store::to_a_person(m.target);
            m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
            result.push_back(txn.insert_outbox(m));
          }
          return result;
        },
        [&](std::vector<std::int64_t> v, const store::Status&) { ids.set_value(std::move(v)); }));
    return f.get();
  }
  store::OutboxMessage wait_for(std::int64_t id, auto pred, const std::string& tenant = "t") {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      for (const auto& m : store_->outbox_messages(tenant, "", 1000).value()) {
        if (m.id == id && pred(m)) return m;
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  ManualClock clock_;
  TestDatabase db_{GetParam()};
  ScriptedTransport transport_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Committer> committer_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_P(OutboxTest, DeliversOnceOn200) {
  const std::int64_t id = enqueue("e1");
  dispatcher_->start();
  const auto m =
      wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kDelivered; });
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_result, "HTTP 200");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(transport_.posts(), 1u);
  const auto attempts = store_->outbox_attempts(id).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].http_status, 200);
}

TEST_P(OutboxTest, RetriesOnTheScheduleWithTheSameBodyThenDelivers) {
  transport_.script({500, 0, 503});
  const std::int64_t id = enqueue("e1");
  dispatcher_->start();
  wait_for(id, [](const auto& x) { return x.attempts == 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(transport_.posts(), 1u);  // not before its next attempt is due
  clock_.advance(1000);
  wait_for(id, [](const auto& x) { return x.attempts == 2; });
  clock_.advance(4999);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(transport_.posts(), 2u);
  clock_.advance(1);
  wait_for(id, [](const auto& x) { return x.attempts == 3; });
  clock_.advance(5000);
  const auto m =
      wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kDelivered; });
  EXPECT_EQ(m.attempts, 4);
  const auto posts = transport_.all();
  ASSERT_EQ(posts.size(), 4u);
  for (const auto& p : posts) EXPECT_EQ(p, posts[0]);  // one identity, one body
  const auto attempts = store_->outbox_attempts(id).value();
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[0].http_status, 500);
  EXPECT_EQ(attempts[1].http_status, 0);
  EXPECT_EQ(attempts[1].error, "timeout");
}

TEST_P(OutboxTest, GivesUpAfterItsTime) {
  transport_.script(std::vector<int>(100, 500));
  const std::int64_t id = enqueue("e1");
  dispatcher_->start();
  for (int i = 0; i < 5; ++i) {
    wait_for(id, [&](const auto& x) {
      return x.attempts == i + 1 || x.state != store::OutboxState::kPending;
    });
    clock_.advance(5000);
  }
  const auto m =
      wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kAbandoned; });
  EXPECT_EQ(m.last_result, "HTTP 500");
}

// A receiver of tenant "a"'s callbacks that never answers: their sends are held (until stop(),
// which answers them "not sent"); every other send is answered 200 at once.
// Holds the callbacks of the tenants whose receivers hang (never answered until stop()); answers
// everything else at once.
class TarpitTransport final : public Transport {
 public:
  explicit TarpitTransport(std::set<std::string> hanging = {"a"}) : hanging_(std::move(hanging)) {}
  void post(outbox::Parcel parcel, std::function<void(Delivery)> done) override {
    {
      std::lock_guard lock(mutex_);
      if (hanging_.contains(parcel.tenant) &&
          store::outbox_lane(parcel.target) == store::OutboxLane::kHttp) {
        held_.push_back(std::move(done));
        return;
      }
    }
    done({200, true, "", 1, true});
  }
  void stop() override {
    std::vector<std::function<void(Delivery)>> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto& done : held) done({0, false, "not sent", 0});
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

 private:
  const std::set<std::string> hanging_;
  std::mutex mutex_;
  std::vector<std::function<void(Delivery)>> held_;
};

// In-flight budgets small enough to fill: 8 a lane, 4 a queue.
DispatcherOptions small_budgets() {
  DispatcherOptions o;
  o.poll_ms = 20;
  o.in_flight_max = 8;
  o.tenant_in_flight_max = 4;
  return o;
}

bool delivered(const store::OutboxMessage& m) { return m.state == store::OutboxState::kDelivered; }

// Tenant a's 300 callbacks, all due before anything else, to a receiver that never answers: a
// holds its queue's share of the messages in flight and no more, and its own SMS and mail, and
// tenant b's callback, are delivered meanwhile.
TEST_P(OutboxTest, AHangingReceiverHoldsItsQueuesShareAndDelaysNoOtherQueue) {
  std::vector<Spec> specs;
  for (int i = 0; i < 300; ++i)
    specs.push_back({"a", "cb-" + std::to_string(i), "https://a.example/cb"});
  enqueue(specs);
  clock_.advance(1);
  const auto others = enqueue({{"a", "code", "mailto:someone@example.com"},
                               {"a", "otp", "sms:+77011234567"},
                               {"b", "cb", "https://b.example/cb"}});
  TarpitTransport tarpit;
  const DispatcherOptions o = small_budgets();
  Dispatcher dispatcher(*committer_, *store_, clock_, tarpit, o);
  dispatcher.open_sealed_with(kOpenAsIs);
  dispatcher.start();
  wait_for(others[0], delivered, "a");
  wait_for(others[1], delivered, "a");
  wait_for(others[2], delivered, "b");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // several polls
  EXPECT_EQ(tarpit.held(), o.tenant_in_flight_max);
  dispatcher.stop();
}

// Enough hanging receivers to hold every callback in flight still hold back no code: each lane
// has its own budget (four tenants at four in flight each once filled all 64 of one shared one).
TEST_P(OutboxTest, HangingCallbacksFillingTheirLaneHoldBackNoCode) {
  std::vector<Spec> specs;
  for (const char* tenant : {"a", "b", "c"}) {
    for (int i = 0; i < 10; ++i)
      specs.push_back({tenant, "cb-" + std::to_string(i), "https://hang.example/cb"});
  }
  enqueue(specs);
  clock_.advance(1);
  const auto codes =
      enqueue({{"d", "code", "mailto:someone@example.com"}, {"d", "otp", "sms:+77011234567"}});
  TarpitTransport tarpit({"a", "b", "c"});
  const DispatcherOptions o = small_budgets();
  Dispatcher dispatcher(*committer_, *store_, clock_, tarpit, o);
  dispatcher.open_sealed_with(kOpenAsIs);
  dispatcher.start();
  wait_for(codes[0], delivered, "d");
  wait_for(codes[1], delivered, "d");
  EXPECT_EQ(tarpit.held(), o.in_flight_max);  // the callbacks' lane is full, and only it
  dispatcher.stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

// A gate sends wait at until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

Delivery answered() { return {200, true, "", 0, true}; }

void wait_until(auto predicate) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(WorkPool, TakesTenantsInTurns) {
  WorkPool<NoWorkerState> pool({.threads = 1}, "pool-test");
  Gate gate;
  std::promise<void> busy;
  std::atomic<int> answered_count{0};
  pool.post(
      "z",
      [&](NoWorkerState&) {
        busy.set_value();
        gate.wait();
        return answered();
      },
      [&](Delivery) { ++answered_count; });
  busy.get_future().wait();
  std::mutex mutex;
  std::vector<std::string> ran;
  for (const std::string name : {"a1", "a2", "a3", "b1", "c1", "b2"}) {
    pool.post(
        name.substr(0, 1),
        [&, name](NoWorkerState&) {
          std::lock_guard lock(mutex);
          ran.push_back(name);
          return answered();
        },
        [&](Delivery) { ++answered_count; });
  }
  gate.open();
  wait_until([&] { return answered_count == 7; });
  EXPECT_EQ(ran, (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3"}));
}

TEST(WorkPool, HoldsAtMostATenantsShareOfTheThreads) {
  WorkPool<NoWorkerState> pool({.threads = 4, .key_threads_max = 2}, "pool-test");
  Gate gate;
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  for (int i = 0; i < 6; ++i) {
    pool.post(
        "a",
        [&](NoWorkerState&) {
          const int now = ++running;
          for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
          }
          gate.wait();
          --running;
          return answered();
        },
        [](Delivery) {});
  }
  std::promise<void> other;
  pool.post(
      "b",
      [&](NoWorkerState&) {
        other.set_value();
        return answered();
      },
      [](Delivery) {});
  EXPECT_EQ(other.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "b waited behind a's hanging sends";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(most, 2);
  gate.open();
}

TEST(WorkPool, RefusesSendsBeyondItsQueueAndAnswersTheRestAtStop) {
  WorkPool<NoWorkerState> pool({.threads = 1}, "pool-test");
  Gate gate;
  std::promise<void> busy;
  pool.post(
      "a",
      [&](NoWorkerState&) {
        busy.set_value();
        gate.wait();
        return answered();
      },
      [](Delivery) {});
  busy.get_future().wait();
  std::atomic<std::size_t> not_sent{0};
  for (std::size_t i = 0; i < kSendsQueuedMax; ++i) {
    pool.post(
        "k" + std::to_string(i % 7), [](NoWorkerState&) { return answered(); },
        [&](Delivery d) { not_sent += d.attempted ? 0 : 1; });
  }
  Delivery beyond{200, true, "", 0, true};
  pool.post(
      "b", [](NoWorkerState&) { return answered(); }, [&](Delivery d) { beyond = std::move(d); });
  EXPECT_FALSE(beyond.attempted);  // answered at once: not an attempt, the message is sent later
  EXPECT_EQ(beyond.error, "not sent: too many sends waiting");
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gate.open();
  });
  pool.stop();  // waits for the send under way; what still waits is not sent
  opener.join();
  EXPECT_EQ(not_sent, kSendsQueuedMax);
}

// Every block that is not public, by its edges: its first and last addresses (and, for blocks
// that embed an IPv4 address, the embedded ones that decide) are refused; its neighbours outside
// it are public where they are not in another block.
struct Block {
  const char* name;
  std::vector<const char*> refused;
  std::vector<const char*> allowed;
};

const Block kBlocks[] = {
    {"0.0.0.0/8 this network", {"0.0.0.0", "0.255.255.255"}, {"1.0.0.0"}},
    {"10.0.0.0/8 private", {"10.0.0.0", "10.255.255.255"}, {"9.255.255.255", "11.0.0.0"}},
    {"100.64.0.0/10 shared (CGN)",
     {"100.64.0.0", "100.127.255.255"},
     {"100.63.255.255", "100.128.0.0"}},
    {"127.0.0.0/8 loopback", {"127.0.0.0", "127.255.255.255"}, {"126.255.255.255", "128.0.0.0"}},
    {"169.254.0.0/16 link-local",
     {"169.254.0.0", "169.254.255.255"},
     {"169.253.255.255", "169.255.0.0"}},
    {"172.16.0.0/12 private", {"172.16.0.0", "172.31.255.255"}, {"172.15.255.255", "172.32.0.0"}},
    {"192.0.0.0/24 IETF protocol assignments",
     {"192.0.0.0", "192.0.0.255"},
     {"191.255.255.255", "192.0.1.0"}},
    {"192.0.2.0/24 TEST-NET-1", {"192.0.2.0", "192.0.2.255"}, {"192.0.1.255", "192.0.3.0"}},
    {"192.88.99.0/24 6to4 relay anycast",
     {"192.88.99.0", "192.88.99.255"},
     {"192.88.98.255", "192.88.100.0"}},
    {"192.168.0.0/16 private",
     {"192.168.0.0", "192.168.255.255"},
     {"192.167.255.255", "192.169.0.0"}},
    {"198.18.0.0/15 benchmarking",
     {"198.18.0.0", "198.19.255.255"},
     {"198.17.255.255", "198.20.0.0"}},
    {"198.51.100.0/24 TEST-NET-2",
     {"198.51.100.0", "198.51.100.255"},
     {"198.51.99.255", "198.51.101.0"}},
    {"203.0.113.0/24 TEST-NET-3",
     {"203.0.113.0", "203.0.113.255"},
     {"203.0.112.255", "203.0.114.0"}},
    {"224.0.0.0/4 multicast", {"224.0.0.0", "239.255.255.255"}, {"223.255.255.255"}},
    {"240.0.0.0/4 reserved, broadcast", {"240.0.0.0", "255.255.255.255"}, {}},
    {"::/128 unspecified, ::1/128 loopback", {"::", "::1"}, {}},
    {"::/96 IPv4-compatible", {"::0.0.0.2", "::8.8.8.8", "::10.0.0.1", "::255.255.255.255"}, {}},
    {"::ffff:0:0/96 IPv4-mapped: as its IPv4 address",
     {"::ffff:0.0.0.0", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
      "::ffff:255.255.255.255"},
     {"::ffff:8.8.8.8", "::ffff:93.184.216.34"}},
    {"64:ff9b::/96 NAT64: as its IPv4 address",
     {"64:ff9b::", "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::192.168.0.1",
      "64:ff9b::169.254.169.254", "64:ff9b::ffff:ffff"},
     {"64:ff9b::8.8.8.8", "64:ff9b::93.184.216.34"}},
    {"64:ff9b:1::/48 NAT64 for local use",
     {"64:ff9b:1::", "64:ff9b:1::808:808", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"},
     {}},
    {"100::/64 discard-only", {"100::", "100::ffff:ffff:ffff:ffff"}, {}},
    {"2001::/23 IETF protocol assignments",
     {"2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"},
     {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:200::"}},
    {"2001::/32 Teredo",
     {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff"},
     {}},
    {"2001:2::/48 benchmarking", {"2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff"}, {}},
    {"2001:10::/28 ORCHID, 2001:20::/28 ORCHIDv2",
     {"2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff",
      "2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff"},
     {}},
    {"2001:db8::/32 documentation",
     {"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
     {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::"}},
    {"2002::/16 6to4: as its IPv4 address",
     {"2002::", "2002:a00:1::1", "2002:7f00:1::", "2002:c0a8:101::", "2002:a9fe:a9fe::1",
      "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
     {"2002:808:808::1", "2002:5db8:d822::", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2003::"}},
    {"3fff::/20 documentation",
     {"3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"},
     {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::"}},
    {"outside 2000::/3 global unicast (5f00::/16 SRv6, unassigned space)",
     {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "5f00::1"},
     {"2000::", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
    {"fc00::/7 unique local", {"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {}},
    {"fe80::/10 link-local", {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {}},
    {"fec0::/10 site-local", {"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {}},
    {"ff00::/8 multicast", {"ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {}},
    {"not an address", {"not-an-address", "", "10.0.0.1.5", "[::1]"}, {}},
    {"public",
     {},
     {"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:81c::200e"}},
};

TEST(HttpTransport, RefusesEveryBlockThatIsNotPublic) {
  for (const Block& block : kBlocks) {
    for (const char* a : block.refused)
      EXPECT_TRUE(is_private_address(a)) << block.name << ": " << a;
    for (const char* a : block.allowed)
      EXPECT_FALSE(is_private_address(a)) << block.name << ": " << a;
  }
}

}  // namespace
}  // namespace payoutd::outbox
