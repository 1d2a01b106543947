#pragma once
// The threads a transport sends from, off the dispatcher's thread: a queue of sends, each run on a
// worker with that worker's own State (e.g. its libcurl handle; default-constructed on the
// worker), its Delivery handed to the send's `done`. Sends still queued at stop() are answered "not sent" (not an attempt).
#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "outbox/dispatcher.h"

namespace payoutd::outbox {

// The State of workers that keep nothing between sends.
struct NoWorkerState {};

template <typename State>
class WorkPool {
 public:
  using Send = std::function<Delivery(State&)>;

  // Each worker default-constructs its State before its first send.
  WorkPool(int threads, std::string name) {
    for (int i = 0; i < threads; ++i) {
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

  void post(Send send, std::function<void(Delivery)> done) {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        queue_.push_back({std::move(send), std::move(done)});
        wake_.notify_one();
        return;
      }
    }
    done(not_sent());
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
    std::deque<Work> left;
    {
      std::lock_guard lock(mutex_);
      left.swap(queue_);
    }
    for (Work& w : left) w.done(not_sent());
  }

 private:
  struct Work {
    Send send;
    std::function<void(Delivery)> done;
  };
  static Delivery not_sent() { return {0, false, "not sent: the server is stopping", 0}; }

  void run(State& state) {
    for (;;) {
      Work w;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        w = std::move(queue_.front());
        queue_.pop_front();
      }
      w.done(w.send(state));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Work> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: the workers start once the rest is built
};

}  // namespace payoutd::outbox
