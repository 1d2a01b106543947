#pragma once
// The threads a transport sends from, off the dispatcher's thread: sends queued by key (a
// tenant), each run on a worker with that worker's own State (e.g. its libcurl handle;
// default-constructed on the worker), its Delivery handed to the send's `done`.
//
// Fair by key: the workers take the keys' queues in turns (round robin in key order), and at
// most `key_threads_max` of them run one key's sends at once, so a key whose receiver hangs holds
// that many threads for at most the transport's timeout and never the whole pool. Bounded: at
// most kSendsQueuedMax sends wait (the dispatcher never has more in flight); one beyond it, and
// every send still waiting at stop(), is answered "not sent" (not an attempt: it is sent again
// later).
#include <pthread.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "outbox/dispatcher.h"

namespace payoutd::outbox {

// Sends waiting in one pool, all keys together; outbox.in_flight_max is bounded by it.
inline constexpr std::size_t kSendsQueuedMax = 4096;

// The State of workers that keep nothing between sends.
struct NoWorkerState {};

struct WorkPoolOptions {
  int threads = 1;
  int key_threads_max = 0;  // threads one key's sends may hold at once; 0: all of them
};

template <typename State>
class WorkPool {
 public:
  using Send = std::function<Delivery(State&)>;

  // Each worker default-constructs its State before its first send.
  WorkPool(WorkPoolOptions options, std::string name)
      : key_threads_max_(options.key_threads_max > 0 ? options.key_threads_max : options.threads) {
    for (int i = 0; i < options.threads; ++i) {
      threads_.emplace_back([this, name] {
        pthread_setname_np(pthread_self(), name.c_str());
        State state;
        run(state);
      });
    }
  }
  ~WorkPool() { stop(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void post(const std::string& key, Send send, std::function<void(Delivery)> done) {
    const char* refused = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        refused = "not sent: the server is stopping";
      } else if (queued_ >= kSendsQueuedMax) {
        refused = "not sent: too many sends waiting";
      } else {
        keys_[key].waiting.push_back({std::move(send), std::move(done)});
        ++queued_;
      }
    }
    if (refused) return done(not_sent(refused));
    wake_.notify_one();
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::map<std::string, Key> left;
    {
      std::lock_guard lock(mutex_);
      left.swap(keys_);
      queued_ = 0;
    }
    for (auto& [key, k] : left) {
      for (Work& w : k.waiting) w.done(not_sent("not sent: the server is stopping"));
    }
  }

 private:
  struct Work {
    Send send;
    std::function<void(Delivery)> done;
  };
  struct Key {
    std::deque<Work> waiting;
    int running = 0;
  };
  using Keys = std::map<std::string, Key>;

  static Delivery not_sent(std::string why) { return {0, false, std::move(why), 0}; }

  // The key whose turn it is: the first after the last one served (wrapping around) with a
  // send waiting and a thread to spare. end() when there is none.
  typename Keys::iterator next_turn() {
    auto ready = [this](const Key& k) {
      return !k.waiting.empty() && k.running < key_threads_max_;
    };
    const auto after = keys_.upper_bound(last_served_);
    for (auto it = after; it != keys_.end(); ++it) {
      if (ready(it->second)) return it;
    }
    for (auto it = keys_.begin(); it != after; ++it) {
      if (ready(it->second)) return it;
    }
    return keys_.end();
  }

  void run(State& state) {
    for (;;) {
      Work w;
      std::string key;
      {
        std::unique_lock lock(mutex_);
        auto turn = keys_.end();
        wake_.wait(lock, [&] { return stopping_ || (turn = next_turn()) != keys_.end(); });
        if (stopping_) return;
        key = last_served_ = turn->first;
        w = std::move(turn->second.waiting.front());
        turn->second.waiting.pop_front();
        --queued_;
        ++turn->second.running;
      }
      Delivery d = w.send(state);
      {
        std::lock_guard lock(mutex_);
        auto k = keys_.find(key);
        if (--k->second.running == 0 && k->second.waiting.empty()) keys_.erase(k);
      }
      wake_.notify_one();  // the key may have a send that waited for this thread
      w.done(std::move(d));
    }
  }

  const int key_threads_max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Keys keys_;                // keys with sends waiting or running; no others
  std::string last_served_;  // the key whose send a worker took last: the turns go on after it
  std::size_t queued_ = 0;   // sends waiting, all keys
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: the workers start once the rest is built
};

}  // namespace payoutd::outbox
