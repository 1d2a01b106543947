// The outbox dispatcher on both stores with a scripted transport, and the address filter.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/committer.h"
#include "outbox/dispatcher.h"
#include "outbox/http_transport.h"
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
  void post(std::string url, std::string body, std::function<void(Delivery)> done) override {
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      posts_.push_back(url + " " + body);
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
  }
  void TearDown() override {
    dispatcher_->stop();
    committer_->stop();
  }
  std::int64_t enqueue(const std::string& event) {
    std::promise<std::int64_t> id;
    auto f = id.get_future();
    committer_->submit(engine::make_job<std::int64_t>(
        [&](store::WriteTxn& txn, std::int64_t now_ms) {
          store::OutboxMessage m;
          m.tenant = "t";
          m.event_id = event;
          m.target = "http://receiver.example/cb";
          m.body = "{\"event\":\"" + event + "\"}";
          m.next_attempt_ms = m.created_ms = m.updated_ms = now_ms;
          return txn.insert_outbox(m);
        },
        [&](std::int64_t v, const store::Status&) { id.set_value(v); }));
    return f.get();
  }
  store::OutboxMessage wait_for(std::int64_t id, auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      for (const auto& m : store_->outbox_messages("t", "", 100)) {
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
  const auto m = wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kDelivered; });
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_result, "HTTP 200");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(transport_.posts(), 1u);
  const auto attempts = store_->outbox_attempts(id);
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
  const auto m = wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kDelivered; });
  EXPECT_EQ(m.attempts, 4);
  const auto posts = transport_.all();
  ASSERT_EQ(posts.size(), 4u);
  for (const auto& p : posts) EXPECT_EQ(p, posts[0]);  // one identity, one body
  const auto attempts = store_->outbox_attempts(id);
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
    wait_for(id, [&](const auto& x) { return x.attempts == i + 1 || x.state != store::OutboxState::kPending; });
    clock_.advance(5000);
  }
  const auto m = wait_for(id, [](const auto& x) { return x.state == store::OutboxState::kAbandoned; });
  EXPECT_EQ(m.last_result, "HTTP 500");
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

TEST(HttpTransport, RefusesAddressesThatAreNotPublic) {
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                        "0.0.0.0", "100.64.0.1", "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1",
                        "not-an-address"}) {
    EXPECT_TRUE(is_private_address(a)) << a;
  }
  for (const char* a : {"93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"}) {
    EXPECT_FALSE(is_private_address(a)) << a;
  }
}

}  // namespace
}  // namespace payoutd::outbox
