// Engine-only benchmark: durable payouts per second through the committer and the SQLite store,
// without HTTP. Shows what the engine costs per payout, apart from the network.
//   build/engine_bench [payouts] [in-flight]
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "engine/committer.h"
#include "engine/payouts.h"
#include "engine/provision.h"
#include "store/sqlite_store.h"

using namespace payoutd;

int main(int argc, char** argv) {
  const long total = argc > 1 ? std::atol(argv[1]) : 200000;
  const long in_flight_max = argc > 2 ? std::atol(argv[2]) : 64;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("payoutd-engine-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Currency rub = *Currency::from_code("RUB");
  const Tenant tenant{"qiwi", "bench"};
  {
    auto store = store::open_sqlite_store({.path = (dir / "payoutd.db").string()});
    SystemClock clock;
    engine::Committer committer(*store, clock, {});
    committer.start();
    engine::PayoutEngine engine(committer, *store, clock);
    engine::ProvisionPlan plan;
    plan.funders.push_back({{tenant, "hot-funder", "Hot", rub}, 1'000'000'000'00});
    plan.clients.push_back({tenant, "client", "wallet", rub});
    if (auto failure = engine::provision_if_empty(engine, nullptr, plan); !failure.empty()) {
      std::fprintf(stderr, "provisioning failed: %s\n", failure.c_str());
      return 1;
    }
    std::mutex mutex;
    std::condition_variable cv;
    long in_flight = 0;
    long done = 0;
    long failed = 0;
    const auto started = std::chrono::steady_clock::now();
    for (long i = 0; i < total; ++i) {
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return in_flight < in_flight_max; });
        ++in_flight;
      }
      engine.wallet_payout(
          {tenant, "t" + std::to_string(i), "hot-funder", "client", Amount{100, rub}},
          [&](engine::PayoutResult r) {
            std::lock_guard lock(mutex);
            --in_flight;
            ++done;
            if (r.error != engine::Error::kNone ||
                r.payout.status != store::PayoutStatus::kSuccess) {
              ++failed;
            }
            cv.notify_all();
          });
    }
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return done == total; });
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto stats = committer.stats();
    engine.stop();
    committer.stop();
    std::printf("engine: %.0f durable payouts/s (%ld payouts, %ld in flight, %ld failed)\n",
                static_cast<double>(total) / seconds, total, in_flight_max, failed);
    std::printf(
        "engine: %.1f us apply + %.1f us commit per payout, %.1f payouts per batch, "
        "%.1f batches per fsync, %.0f us per fsync\n",
        static_cast<double>(stats.apply_us_total) / static_cast<double>(stats.jobs),
        static_cast<double>(stats.commit_us_total) / static_cast<double>(stats.jobs),
        static_cast<double>(stats.jobs) / static_cast<double>(stats.batches),
        static_cast<double>(stats.batches) / static_cast<double>(stats.syncs),
        static_cast<double>(stats.sync_us_total) / static_cast<double>(stats.syncs));
  }
  std::filesystem::remove_all(dir);
  return 0;
}
