"""Prometheus metrics on their own listener (docs/operations.md): payouts of every provider move
their counters by exactly what they paid, the exposition passes `promtool check metrics`, a real
Prometheus scrapes a running payoutd and answers a counter back, and outside the sandbox there is
no listener unless the config names one."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BLOCKED_CLIENT, BONUS, CARD_DECLINED, CARD_OK, CARD_TIMEOUT, CLIENTS,  # noqa: E402
                     ECOMMPAY_DISABLED, Api, IsolatedServerTestCase, free_port, outside_sandbox,
                     unique)
from test_ecommpay_page import PageTestCase  # noqa: E402
from test_ecommpay_registration import Receiver  # noqa: E402

CLIENT = next(iter(CLIENTS))
QIWI_ROUTE = ("/partner/openapi-payment-api/v1/funder-payouts/products/{productId}/transactions/"
              "{transactionId}")
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{(name, ((label, value), ...)): Decimal} of every sample; HELP and TYPE lines checked for
    form only."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
        value = m.group(3)
        samples[(m.group(1), labels)] = Decimal("Infinity") if value == "+Inf" else Decimal(value)
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def promtool(*args, stdin=None):
    """Runs promtool (Debian's prometheus package, scripts/setup.sh): (exit code, its output)."""
    p = subprocess.run(["promtool", *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class MetricsTest(PageTestCase):

    def scrape(self, server=None):
        status, content_type, text = (server or self.server).scrape()
        self.assertEqual(status, 200, text)
        self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
        return text, parse_exposition(text)

    def wait_for(self, name, wanted, timeout=15.0, **labels):
        deadline = time.monotonic() + timeout
        while True:
            _, samples = self.scrape()
            got = value(samples, name, **labels)
            if got == wanted or time.monotonic() > deadline:
                self.assertEqual(got, wanted, f"{name}{labels}")
                return samples
            time.sleep(0.1)

    def test_payouts_of_every_provider_move_their_counters_exactly(self):
        # QIWI: two successes and a decline (a blocked client).
        for txn, client, amount in (("m-1", CLIENT, "100.50"), ("m-2", CLIENT, "1.00"),
                                    ("m-3", BLOCKED_CLIENT, "2.00")):
            r = self.api.payout(unique(txn), BONUS, client, amount)
            self.assertEqual(r.status, 200, r.raw)
        # Bereke: a card approved, a card declined.
        r = self.api.perform(unique("m-ok"), CARD_OK, amount=150000)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "2"), r.raw)
        r = self.api.perform(unique("m-no"), CARD_DECLINED, amount=5000)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "6"), r.raw)
        # ecommpay: a payout through the Payment Page, and one of a project without payouts.
        receiver = Receiver()
        self.addCleanup(receiver.close)
        result = self.pay_through_page(self.api, self.server, receiver, amount=7000)
        self.assertEqual(result["payment"]["status"], "success", result)
        r = self.api.ecommpay_register(unique("m-off"), project=ECOMMPAY_DISABLED,
                                       callback_url=receiver.url)
        self.assertEqual(r.status, 200, r.raw)
        # Paths nobody serves count under a template, never as sent.
        self.assertEqual(self.api.request("GET", "/partner/tenant-secret-name/42").status, 404)

        samples = self.wait_for("payoutd_payouts_total", 1, provider="ecommpay", outcome="declined")
        for provider, success, declined in (("qiwi", 2, 1), ("bereke", 1, 1), ("ecommpay", 1, 1),
                                            ("other", 0, 0)):
            self.assertEqual(value(samples, "payoutd_payouts_total", provider=provider,
                                   outcome="success"), success, provider)
            self.assertEqual(value(samples, "payoutd_payouts_total", provider=provider,
                                   outcome="declined"), declined, provider)
        for provider, currency, minor in (("qiwi", "RUB", 10150), ("bereke", "KZT", 150000),
                                          ("ecommpay", "EUR", 7000)):
            self.assertEqual(value(samples, "payoutd_payout_amount_minor_total", provider=provider,
                                   currency=currency), minor, provider)
        self.assertEqual(value(samples, "payoutd_http_requests_total", provider="qiwi",
                               route=QIWI_ROUTE, method="PUT", code="200"), 3)
        self.assertEqual(value(samples, "payoutd_http_request_duration_seconds_count",
                               provider="qiwi", route=QIWI_ROUTE, method="PUT"), 3)
        self.assertEqual(value(samples, "payoutd_http_request_duration_seconds_bucket",
                               provider="qiwi", route=QIWI_ROUTE, method="PUT", le="+Inf"), 3)
        self.assertEqual(value(samples, "payoutd_http_requests_total", provider="bereke",
                               route="/payouts/api/v2/performPayout.do", method="POST", code="200"), 2)
        self.assertEqual(value(samples, "payoutd_http_requests_total", provider="qiwi",
                               route="other", method="GET", code="404"), 1)
        text, _ = self.scrape()
        self.assertNotIn("tenant-secret-name", text)
        # The callbacks (registration, result, the decline) and the code's mail, each delivered once.
        samples = self.wait_for("payoutd_outbox_attempts_total", 3, lane="http", outcome="delivered")
        self.assertEqual(value(samples, "payoutd_outbox_attempts_total", lane="mail",
                               outcome="delivered"), 1)
        self.assertEqual(value(samples, "payoutd_outbox_attempts_total", lane="http",
                               outcome="retry"), 0)
        # The committer: every payout went through durable batches.
        self.assertGreater(value(samples, "payoutd_commit_batches_total"), 0)
        self.assertGreater(value(samples, "payoutd_fsync_duration_seconds_count"), 0)
        self.assertEqual(value(samples, "payoutd_commit_batches_failed_total"), 0)
        self.assertIsNotNone(value(samples, "payoutd_committer_queue_jobs"))
        self.assertEqual(value(samples, "payoutd_reconciliations_pending"), 0)
        # The process, read from /proc.
        self.assertGreater(value(samples, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(value(samples, "process_open_fds"), 10)
        self.assertGreater(value(samples, "process_threads"), 4)
        started = value(samples, "process_start_time_seconds")
        self.assertLess(abs(started - Decimal(time.time())), 600)
        rc, out = promtool("check", "metrics", stdin=text.encode())
        self.assertEqual((rc, out), (0, ""))

    def perform_in_background(self, order, pan, amount):
        """performPayout.do on a connection of its own, in a thread: its future answer."""
        pool = ThreadPoolExecutor(1)
        self.addCleanup(pool.shutdown)

        def perform():
            api = Api(self.server)
            try:
                return api.perform(order, pan, amount=amount)
            finally:
                api.close()
        return pool.submit(perform)

    def test_a_card_payout_awaiting_its_network_is_a_pending_reconciliation(self):
        # The sandbox network never answers this card in time (3 s): meanwhile the payout is
        # reserved and sent, awaiting its network's answer.
        order = unique("m-slow")
        answer = self.perform_in_background(order, CARD_TIMEOUT, 3000)
        time.sleep(1)
        self.assertEqual(value(self.scrape()[1], "payoutd_reconciliations_pending"), 1)
        self.assertEqual(answer.result(30).status, 504)
        self.api.bereke_wait(order, "2")  # reconciled by a status query
        samples = self.wait_for("payoutd_reconciliations_pending", 0)
        self.assertEqual(value(samples, "payoutd_payouts_total", provider="bereke",
                               outcome="success"), 1)

    def test_the_listener_serves_get_metrics_only(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.metrics_port, timeout=10)
        self.addCleanup(conn.close)
        for method, path in (("GET", "/"), ("POST", "/metrics"), ("GET", "/healthz"),
                             ("GET", "/metrics/x")):
            conn.request(method, path, body=b"" if method == "POST" else None)
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 404, (method, path))
        # The main listener does not serve them.
        self.assertEqual(self.api.request("GET", "/metrics", auth=None).status, 404)
        # Its own requests are not counted as the partners' traffic: only the main listener's one.
        _, samples = self.scrape()
        self.assertEqual(value(samples, "payoutd_http_requests_total", provider="other",
                               route="other", method="GET", code="404"), 1)

    def test_metrics_answer_during_the_drain_then_stop_with_the_server(self):
        answer = self.perform_in_background(unique("m-drain"), CARD_TIMEOUT, 3000)
        time.sleep(0.5)
        self.server.proc.send_signal(signal.SIGTERM)  # the payout is in flight: the drain waits
        time.sleep(0.5)
        self.assertIsNone(self.server.proc.poll())
        _, samples = self.scrape()
        self.assertEqual(value(samples, "payoutd_reconciliations_pending"), 1)
        self.assertEqual(answer.result(30).status, 504)  # answered within the drain
        self.assertEqual(self.server.stop(), 0)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.metrics_port, timeout=5)
        self.addCleanup(conn.close)
        with self.assertRaises(OSError):
            conn.request("GET", "/metrics")
            conn.getresponse()


class MetricsOffTest(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        # Outside the sandbox, with no [metrics] listen: no listener, and serve says none.
        kw.setdefault("config_replace", outside_sandbox({'listen = "127.0.0.1:9464"\n': ""}))
        kw.setdefault("metrics_listen", None)
        return super().new_server(start=start, **kw)

    def test_no_metrics_listener_unless_the_config_names_one(self):
        self.assertIsNone(self.server.metrics_port)
        time.sleep(0.5)  # it would have followed "listening on" in the same write
        with open(os.path.join(self.server.tmp, f"stdout.{self.server.starts}.log")) as f:
            self.assertNotIn("metrics on", f.read())
        port = free_port()
        self.server.stop()
        self.server.extra_args = ["--metrics-listen", f"127.0.0.1:{port}"]
        self.server.start()
        self.assertEqual(self.server.metrics_port, port)
        status, _, text = self.server.scrape()
        self.assertEqual(status, 200)
        self.assertIn("payoutd_payouts_total", text)


class PrometheusScrapeTest(IsolatedServerTestCase):
    """A real Prometheus (Debian's package) scrapes a running payoutd every second; a payout's
    counter is queried back through its HTTP API."""

    def start_prometheus(self):
        tmp = tempfile.mkdtemp(prefix="payoutd-prometheus-")
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: payoutd\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.server.metrics_port}']\n")
        rc, out = promtool("check", "config", config)
        self.assertEqual(rc, 0, out)
        port = free_port()
        log = open(os.path.join(tmp, "prometheus.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)

        def stop():
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(20)
        self.addCleanup(stop)
        self.prometheus_log = os.path.join(tmp, "prometheus.log")
        return port

    def query(self, port, promql):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
            r = conn.getresponse()
            return json.loads(r.read())
        finally:
            conn.close()

    def test_prometheus_scrapes_payoutd_and_answers_a_counter(self):
        port = self.start_prometheus()
        r = self.api.payout(unique("prom"), BONUS, CLIENT, "12.34")
        self.assertEqual(r.status, 200, r.raw)
        promql = 'payoutd_payout_amount_minor_total{provider="qiwi",currency="RUB"}'
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = self.query(port, promql)
            except OSError:  # not listening yet
                time.sleep(0.5)
                continue
            result = answer.get("data", {}).get("result", [])
            if result and result[0]["value"][1] == "1234":
                break
            time.sleep(0.5)
        else:
            with open(self.prometheus_log, encoding="utf-8", errors="replace") as f:
                self.fail(f"Prometheus never answered 1234: {answer}\n{f.read()[-3000:]}")
        self.assertEqual(answer["status"], "success")
        [series] = answer["data"]["result"]
        self.assertEqual(series["metric"]["job"], "payoutd")
        self.assertEqual(series["metric"]["__name__"], "payoutd_payout_amount_minor_total")
        up = self.query(port, 'up{job="payoutd"}')["data"]["result"]
        self.assertEqual(up[0]["value"][1], "1")


if __name__ == "__main__":
    unittest.main()
