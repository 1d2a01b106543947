// The metrics' families: HTTP routes as bounded templates, payouts counted once when final, and
// the store's backlog read at most once per max_age however many scrapes ask.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "engine/payout_metrics.h"
#include "forwarding_store.h"
#include "metrics/backlog.h"
#include "metrics/http_requests.h"
#include "test_clock.h"
#include "test_databases.h"

namespace payoutd::metrics {
namespace {

using testing::Backend;
using testing::ManualClock;
using testing::TestDatabase;

std::string exposition(auto write) {
  std::string text;
  Exposition out(text);
  write(out);
  return text;
}

TEST(HttpRequestsMetrics, RoutesAreTemplatesNeverThePathAsSent) {
  using R = HttpRequests::Route;
  auto route = [](std::string_view path) {
    const R r = HttpRequests::route_of(path);
    return std::string(r.provider) + " " + std::string(r.route);
  };
  EXPECT_EQ(route("/partner/openapi-payment-api/v1/funder-payouts/products/p1/transactions/t-42"),
            "qiwi /partner/openapi-payment-api/v1/funder-payouts/products/{productId}/"
            "transactions/{transactionId}");
  EXPECT_EQ(route("/partner/openapi-payment-api/v1/funder-payouts/products/p1/transactions/"),
            "qiwi other");
  EXPECT_EQ(route("/partner/secret-tenant-name/123"), "qiwi other");
  EXPECT_EQ(route("/payouts/api/v2/performPayout.do"), "bereke /payouts/api/v2/performPayout.do");
  EXPECT_EQ(route("/payouts/payment/payment_en.html"), "bereke /payouts/payment/{page}");
  EXPECT_EQ(route("/v2/payment/payout/registration"), "ecommpay /v2/payment/payout/registration");
  EXPECT_EQ(route("/cabinet/payouts.csv"), "cabinet /cabinet/payouts.csv");
  EXPECT_EQ(route("/admin/v1/tenants/bereke:x/funders/transit/credits/c1"),
            "admin /admin/v1/tenants/{tenant}/funders/{code}/credits/{creditId}");
  EXPECT_EQ(route("/admin/v1/nothing"), "admin other");
  EXPECT_EQ(route("/healthz"), "other /healthz");
  EXPECT_EQ(route("/wp-login.php"), "other other");
  EXPECT_EQ(route("//"), "other other");
}

TEST(HttpRequestsMetrics, CountsByRouteMethodAndCodeWithDurations) {
  HttpRequests m;
  http::Request put;
  put.method = "PUT";
  put.target = "/partner/openapi-payment-api/v1/funder-payouts/products/p/transactions/t?x=1";
  http::Request weird;
  weird.method = "BREW";
  weird.target = "/wp-login.php";
  m.answered(m.classify(put), 200, 3'000'000);    // 3 ms
  m.answered(m.classify(put), 200, 700'000);      // 0.7 ms
  m.answered(m.classify(weird), 799, 1'000'000);  // a code outside the table
  const std::string text = exposition([&](Exposition& out) { m.write(out); });
  const std::string route =
      "/partner/openapi-payment-api/v1/funder-payouts/products/{productId}/transactions/"
      "{transactionId}";
  EXPECT_NE(text.find("payoutd_http_requests_total{provider=\"qiwi\",route=\"" + route +
                      "\",method=\"PUT\",code=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("payoutd_http_requests_total{provider=\"other\",route=\"other\",method="
                      "\"other\",code=\"other\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("payoutd_http_request_duration_seconds_bucket{provider=\"qiwi\",route=\"" +
                      route + "\",method=\"PUT\",le=\"0.001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("payoutd_http_request_duration_seconds_sum{provider=\"qiwi\",route=\"" +
                      route + "\",method=\"PUT\"} 0.0037\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("t?x=1"), std::string::npos);  // never the path as sent
}

TEST(PayoutMetricsTest, CountsFinalPayoutsAndMoneyInMinorUnits) {
  engine::PayoutMetrics m({"qiwi", "bereke"});
  store::PayoutRecord p;
  p.tenant = "qiwi:best-partner";
  p.amount = 10050;
  p.status = store::PayoutStatus::kSuccess;
  m.finished(p);
  m.finished(p);
  p.status = store::PayoutStatus::kProcessing;  // not final: not counted
  m.finished(p);
  p.tenant = "bereke:x";
  p.status = store::PayoutStatus::kDeclined;
  m.finished(p);
  p.tenant = "zeta:x";
  p.status = store::PayoutStatus::kSuccess;
  p.amount = 5;
  p.currency = *Currency::from_code("KZT");
  m.finished(p);
  const std::string text = exposition([&](Exposition& out) { m.write(out); });
  for (const char* line : {
           "payoutd_payouts_total{provider=\"qiwi\",outcome=\"success\"} 2\n",
           "payoutd_payouts_total{provider=\"qiwi\",outcome=\"declined\"} 0\n",
           "payoutd_payouts_total{provider=\"bereke\",outcome=\"declined\"} 1\n",
           "payoutd_payouts_total{provider=\"other\",outcome=\"success\"} 1\n",
           "payoutd_payout_amount_minor_total{provider=\"qiwi\",currency=\"RUB\"} 20100\n",
           "payoutd_payout_amount_minor_total{provider=\"other\",currency=\"KZT\"} 5\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
  EXPECT_EQ(text.find("provider=\"bereke\",currency"), std::string::npos) << text;
}

// Counts the backlog reads that reach the store.
class CountingStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  store::Read<store::Backlog> backlog() const override {
    ++reads;
    return ForwardingStore::backlog();
  }
  mutable std::atomic<int> reads{0};
};

class BacklogTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Writes, in one transaction: `messages` pending outbox messages, the first due at `due_ms`;
  // a card payout reserved and not final, and a wallet payout processing (not a card's).
  void write_backlog(store::Store& s, int messages, std::int64_t due_ms) {
    auto txn = s.begin();
    for (int i = 0; i < messages; ++i) {
      store::OutboxMessage m;
      m.tenant = "t";
      m.event_id = "e" + std::to_string(i);
      m.target = "http://receiver.example/cb";
      m.body = "{}";
      m.next_attempt_ms = due_ms + i * 1000;
      m.created_ms = m.updated_ms = due_ms;
      txn->insert_outbox(m);
    }
    store::PayoutRecord p;
    p.tenant = "bereke:x";
    p.kind = store::PayoutKind::kCardPayout;
    p.partner_id = "order-1";
    p.status = store::PayoutStatus::kProcessing;
    p.pending_transfer_id = 77;
    p.created_ms = p.updated_ms = due_ms - 60'000;
    p.due_ms = due_ms;
    p.id = txn->insert_payout_if_new(p);
    p.partner_id = "wallet-1";
    p.kind = store::PayoutKind::kWalletPayout;
    p.created_ms = due_ms - 3'600'000;
    txn->insert_payout_if_new(p);
    ASSERT_TRUE(txn->commit().ok);
    ASSERT_TRUE(s.sync().ok);
  }

  ManualClock clock_;
  TestDatabase db_{GetParam()};
};

TEST_P(BacklogTest, ReadsWhatWaitsAndCachesItAgainstScrapeStorms) {
  CountingStore store(db_.open());
  write_backlog(store, 3, clock_.now_ms() - 90'000);
  BacklogGauges gauges(store, clock_, {.max_age_ms = 5000, .deadline_ms = 10'000});
  std::string text = exposition([&](Exposition& out) { gauges.write(out); });
  EXPECT_NE(text.find("payoutd_outbox_backlog_messages 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("payoutd_outbox_oldest_due_age_seconds 90\n"), std::string::npos) << text;
  EXPECT_NE(text.find("payoutd_reconciliations_pending 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("payoutd_reconciliation_oldest_age_seconds 150\n"), std::string::npos)
      << text;
  // A storm of scrapes from many threads within max_age: the store is read once.
  std::vector<std::future<void>> scrapes;
  for (int i = 0; i < 20; ++i) {
    scrapes.push_back(std::async(std::launch::async,
                                 [&] { exposition([&](Exposition& out) { gauges.write(out); }); }));
  }
  for (auto& f : scrapes) f.get();
  EXPECT_EQ(store.reads.load(), 1);
  clock_.advance(2500);
  text = exposition([&](Exposition& out) { gauges.write(out); });
  EXPECT_NE(text.find("payoutd_backlog_age_seconds 2.5\n"), std::string::npos) << text;
  EXPECT_EQ(store.reads.load(), 1);
  clock_.advance(2500);
  exposition([&](Exposition& out) { gauges.write(out); });
  EXPECT_EQ(store.reads.load(), 2);
  // A failed read keeps the last values and is counted.
  store.fail_reads(true);
  clock_.advance(5000);
  text = exposition([&](Exposition& out) { gauges.write(out); });
  EXPECT_NE(text.find("payoutd_backlog_read_failures_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("payoutd_outbox_backlog_messages 3\n"), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(Backends, BacklogTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::backend_name);

}  // namespace
}  // namespace payoutd::metrics
