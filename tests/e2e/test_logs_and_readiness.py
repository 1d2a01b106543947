"""Logs and health (docs/logging.md): JSON log lines with the request's fields, X-Request-Id
accepted, checked or generated and returned, carried by the callbacks a request causes; /readyz
ready, then not ready during the SIGTERM drain and while PostgreSQL is down. Every server's log is
also checked for secrets by the harness when it closes (log_scan.py)."""
import http.client
import http.server
import json
import os
import re
import signal
import sys
import threading
import time
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import (BEREKE_PASSWORD, BEREKE_USER, BONUS, CARD_OK, ECOMMPAY_PROJECT, Api,  # noqa: E402
                     IsolatedServerTestCase, PgCluster, ServerTestCase, free_port, payout_path,
                     raw_exchange, request_head, unique)

CLIENT = "sjrpngawef8770553957"
JSON_LOGS = {"PAYOUTD_LOG_FORMAT": "json"}
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
FAST_RETRIES = {"retry_s = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800]":
                "retry_s = [0.2, 0.4, 0.8]", "poll_ms = 1000 ": "poll_ms = 50 ",
                "timeout_ms = 15000 ": "timeout_ms = 1000 "}


def log_lines(server):
    with open(server.stderr_path(), encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def json_lines(server):
    return [json.loads(line, parse_float=Decimal) for line in log_lines(server)]


def wait_for_line(server, wanted, timeout=10.0):
    """The first JSON log line for which wanted(line) holds, polling the log."""
    deadline = time.monotonic() + timeout
    while True:
        found = [o for o in json_lines(server) if wanted(o)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no such line in the log:\n{server.log_tail(20)}")
        time.sleep(0.05)


class Receiver:
    """A merchant's callback endpoint on loopback that keeps each callback's X-Request-Id."""

    def __init__(self):
        self.request_ids = []
        self.bodies = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.request_ids.append(self.headers.get("X-Request-Id"))
                    outer.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.request_ids) >= count:
                    for body in self.bodies:
                        openapi_check.check_callback(body)  # docs/openapi/ecommpay.yaml's webhook
                    return list(self.request_ids)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.request_ids)} callbacks arrived, wanted {count}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class JsonLogTest(ServerTestCase):
    server_options = {"env": JSON_LOGS, "config_replace": FAST_RETRIES}

    def test_the_access_line_carries_the_request_its_tenant_payout_status_and_latency(self):
        txn = unique("logged")
        r = self.api.payout(txn, BONUS, CLIENT, "1.00", headers={"X-Request-Id": "partner-req.1:a_b-C"})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.headers.get("x-request-id"), "partner-req.1:a_b-C")
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "partner-req.1:a_b-C")
        self.assertEqual(line["level"], "info")
        self.assertRegex(line["time"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
        self.assertEqual((line["method"], line["path"], line["status"]), ("PUT", payout_path(txn), 200))
        self.assertEqual((line["provider"], line["tenant"], line["payout_id"]), ("qiwi", "qiwi:best-partner", txn))
        self.assertIsInstance(line["latency_ms"], Decimal)
        self.assertGreaterEqual(line["latency_ms"], 0)
        self.assertIn(payout_path(txn), line["message"])

    def test_an_error_answer_has_its_access_line_too(self):
        r = self.api.request("GET", "/no/such/path?token=x", headers={"X-Request-Id": "missing-1"})
        self.assertEqual(r.status, 404)
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "missing-1")
        self.assertEqual((line["path"], line["status"]), ("/no/such/path", 404))

    def test_the_query_string_is_never_logged(self):
        # A Bereke client may send its credentials as parameters, as the bank's API takes them.
        query = f"?userName={BEREKE_USER}&password={BEREKE_PASSWORD}&marker=query-marker"
        r = self.api.request("POST", "/payouts/api/v2/getAmount.do" + query, auth=None,
                             body={"userName": BEREKE_USER, "password": BEREKE_PASSWORD},
                             headers={"X-Request-Id": "bereke-balance-1"})
        self.assertEqual(r.status, 200, r.raw)
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "bereke-balance-1")
        self.assertEqual(line["path"], "/payouts/api/v2/getAmount.do")
        self.assertEqual((line["provider"], line["tenant"]), ("bereke", "bereke:sandbox-partner"))
        text = "\n".join(log_lines(self.server))
        self.assertNotIn("query-marker", text)
        self.assertNotIn(BEREKE_PASSWORD, text)

    def test_every_line_is_one_json_object(self):
        self.api.payout(unique("lines"), BONUS, CLIENT, "1.00")
        for line in json_lines(self.server):
            self.assertIsInstance(line, dict)
            self.assertEqual({"time", "level", "message"} - set(line), set(), line)

    def test_a_request_id_is_generated_when_none_is_sent(self):
        ids = [self.api.request("GET", "/healthz", auth=None).headers.get("x-request-id") for _ in range(3)]
        for request_id in ids:
            self.assertRegex(request_id or "", GENERATED_ID)
        self.assertEqual(len(set(ids)), 3, ids)
        line = wait_for_line(self.server, lambda o: o.get("request_id") == ids[0])
        self.assertEqual((line["path"], line["status"]), ("/healthz", 200))

    def test_an_unacceptable_request_id_is_replaced_and_not_logged(self):
        cases = {"space": "has a space", "too long": "L" * 129, "semicolon": "a;b",
                 "non-ascii": "idé", "slash": "a/b", "quote": 'a"b'}
        for name, sent in cases.items():
            with self.subTest(name):
                head = request_head("GET", "/healthz", {"X-Request-Id": sent})
                r = raw_exchange(self.server.port, head)
                self.assertEqual(r.status, 200)
                self.assertRegex(r.headers.get("x-request-id", ""), GENERATED_ID)
        r = self.api.request("GET", "/healthz", auth=None, headers={"X-Request-Id": "M" * 128})
        self.assertEqual(r.headers.get("x-request-id"), "M" * 128, "128 characters are accepted")
        text = "\n".join(log_lines(self.server))
        for sent in ("has a space", "L" * 129, "a;b"):
            self.assertNotIn(sent, text)

    def test_answers_the_http_layer_refuses_carry_an_id_too(self):
        head = request_head("POST", payout_path("big"), {"Content-Length": str(10 * 1024 * 1024),
                                                         "X-Request-Id": "too-big-1"})
        r = raw_exchange(self.server.port, head, b"x" * 1024)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.headers.get("x-request-id"), "too-big-1")

    def test_a_callback_carries_the_id_of_the_request_that_caused_it(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment = unique("cb")
        r = self.api.ecommpay_register(payment, callback_url=receiver.url,
                                       headers={"X-Request-Id": "registration-7"})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(receiver.wait(1)[0], "registration-7")
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "registration-7" and "status" in o)
        self.assertEqual((line["tenant"], line["payout_id"]), (f"ecommpay:{ECOMMPAY_PROJECT}", payment))

    def test_the_dispatchers_lines_about_a_callback_name_its_request(self):
        closed = f"http://127.0.0.1:{free_port()}/nobody-listens"
        r = self.api.ecommpay_register(unique("cb"), callback_url=closed,
                                       headers={"X-Request-Id": "registration-8"})
        self.assertEqual(r.status, 200, r.raw)
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "registration-8"
                             and "outbox" in o["message"])
        self.assertEqual(line["level"], "warning")
        self.assertEqual(line["tenant"], f"ecommpay:{ECOMMPAY_PROJECT}")
        self.assertNotIn("nobody-listens", line["message"], "a callback URL may hold credentials")


class TextLogTest(ServerTestCase):
    """The sandbox's default format: for people, with the request's fields after the message."""
    server_options = {"env": {"PAYOUTD_LOG_FORMAT": None}}

    def test_the_access_line_names_the_request_tenant_and_payout(self):
        txn = unique("text")
        r = self.api.payout(txn, BONUS, CLIENT, "1.00", headers={"X-Request-Id": "text-req-1"})
        self.assertEqual(r.status, 200, r.raw)
        deadline = time.monotonic() + 10
        while not [line for line in log_lines(self.server) if "request_id=text-req-1" in line]:
            self.assertLess(time.monotonic(), deadline, self.server.log_tail(10))
            time.sleep(0.05)
        line = [line for line in log_lines(self.server) if "request_id=text-req-1" in line][0]
        self.assertRegex(line, r"^\[\d{4}-\d{2}-\d{2} [\d:.]+\] \[payoutd\] \[info\] PUT " + re.escape(payout_path(txn))
                         + r" 200 \d+\.\d{3} ms request_id=text-req-1 tenant=qiwi:best-partner payout_id=" + txn + "$")


class ReadinessTest(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        # The sandbox network answers a card payout after 2.5 s: a Bereke payout is a slow request.
        kw.setdefault("config_replace", {"latency_ms = 100 ": "latency_ms = 2500 "})
        return super().new_server(start=start, **kw)

    def test_ready_when_the_store_answers_and_the_vault_is_open(self):
        r = self.api.request("GET", "/readyz", auth=None)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json, {"status": "ready"})
        self.assertEqual(self.api.request("GET", "/healthz", auth=None).status, 200)

    def test_not_ready_while_sigterm_drains_a_slow_request(self):
        # A connection opened before the drain: the listener is closed once it begins.
        probe = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        self.addCleanup(probe.close)
        probe.request("GET", "/readyz")
        first = probe.getresponse()
        raw = first.read()
        openapi_check.check("GET", "/readyz", first.status, {k.lower(): v for k, v in first.getheaders()}, raw)
        self.assertEqual((first.status, json.loads(raw)), (200, {"status": "ready"}))
        answers = []
        slow = threading.Thread(target=lambda: answers.append(
            Api(self.server, timeout=30).perform(unique("drain"), CARD_OK, amount=1234)))
        slow.start()
        time.sleep(1.0)  # the payout is sent; the network answers at 2.5 s
        self.server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        probe.request("GET", "/readyz")
        during = probe.getresponse()
        raw = during.read()
        openapi_check.check("GET", "/readyz", during.status, {k.lower(): v for k, v in during.getheaders()}, raw)
        self.assertEqual(during.status, 503)
        self.assertEqual(json.loads(raw), {"status": "not ready", "failing": ["draining"]})
        slow.join(30)
        self.assertEqual(answers[0].status, 200, "the request in flight is answered")
        self.assertEqual(self.server.stop(check=False), 0)


class ReadinessPostgresTest(IsolatedServerTestCase):
    """PostgreSQL stopped under a node: not ready (the store), and ready again once it is back."""

    def setUp(self):
        self.cluster = PgCluster()
        self.addCleanup(self.cluster.close)
        super().setUp()

    def new_server(self, start=True, **kw):
        kw.setdefault("postgres_url", self.cluster.new_database())
        kw.setdefault("env", JSON_LOGS)
        return super().new_server(start=start, **kw)

    def test_not_ready_while_the_database_is_down(self):
        api = Api(self.server, keep_alive=False, timeout=20)
        self.assertEqual(api.request("GET", "/readyz", auth=None).status, 200)
        self.cluster.halt()
        r = api.request("GET", "/readyz", auth=None)
        self.assertEqual((r.status, r.json), (503, {"status": "not ready", "failing": ["store"]}), r.raw)
        self.assertEqual(api.request("GET", "/healthz", auth=None).status, 200, "still alive")
        # The store's error line of a request's read names the request.
        r = api.get_payout("during-outage", headers={"X-Request-Id": "outage-read-1"})
        self.assertEqual(r.status, 503, r.raw)
        line = wait_for_line(self.server, lambda o: o.get("request_id") == "outage-read-1"
                             and o["level"] == "error")
        self.assertIn("store: read", line["message"])
        self.cluster.resume()
        deadline = time.monotonic() + 30
        while api.request("GET", "/readyz", auth=None).status != 200:
            self.assertLess(time.monotonic(), deadline, "not ready 30 s after the database is back")
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
