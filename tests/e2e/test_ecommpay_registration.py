"""ecommpay Gate API payout registration and its signed callbacks (seed 002, docs/ecommpay.md):
callbacks signed, sent to the registration's URL or the sandbox's receiver, delivered at least
once from the outbox to receivers that fail, hang and recover, across a crash, with one identity
per event. The seed's registration example and the refusals are scenario files
(scenarios/ecommpay/)."""
import http.server
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi_check  # noqa: E402
from harness import (ADMIN_TOKEN, ECOMMPAY_DISABLED, ECOMMPAY_PROJECT, ECOMMPAY_SECRETS,  # noqa: E402
                     OUTSIDE_ADMIN_TOKEN, OUTSIDE_ECOMMPAY_SECRETS, Api, IsolatedServerTestCase,
                     ServerTestCase, ecommpay_sign, outside_sandbox, unique)

FAST_RETRIES = {"retry_s = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800]":
                "retry_s = [0.2, 0.4, 0.8]", "poll_ms = 1000 ": "poll_ms = 50 ",
                "timeout_ms = 15000 ": "timeout_ms = 1000 "}


class Receiver:
    """A merchant's callback endpoint on loopback. `script` is the statuses to answer, in order
    (then 200); "hang" holds the request for `hang_s` seconds before answering 200. `paths`: the
    target of each request, as sent (a proxy is sent absolute URLs)."""

    def __init__(self, script=(), hang_s=3.0, webhook=True):
        """webhook: what arrives is payoutd's callbacks, checked by wait() against ecommpay.yaml
        (False for another sender's messages, e.g. an SMS gateway's)."""
        self.webhook = webhook
        self.script = list(script)
        self.hang_s = hang_s
        self.received = []
        self.paths = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.received.append(body)
                    outer.paths.append(self.path)
                    action = outer.script.pop(0) if outer.script else 200
                if action == "hang":
                    time.sleep(outer.hang_s)
                    action = 200
                try:
                    self.send_response(action)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting (a timed-out attempt)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        with self.lock:
            return list(self.received)

    def wait(self, count, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.bodies()) >= count:
                for body in self.bodies() if self.webhook else ():
                    openapi_check.check_callback(body)  # docs/openapi/ecommpay.yaml's webhook
                return [json.loads(b) for b in self.bodies()]
            time.sleep(0.05)
        raise AssertionError(f"{len(self.bodies())} callbacks arrived, wanted {count}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def assert_signed(test, callback, project):
    test.assertEqual(ecommpay_sign(ECOMMPAY_SECRETS[project], callback), callback["general"]["signature"])


class RegistrationTest(ServerTestCase):

    def test_the_callback_goes_to_the_registrations_url_signed_and_its_uuid_lives_30_minutes(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id = unique("reg")
        r = self.api.ecommpay_register(payment_id, callback_url=receiver.url)
        self.assertEqual(r.status, 200, r.raw)
        [cb] = receiver.wait(1)
        assert_signed(self, cb, ECOMMPAY_PROJECT)
        self.assertEqual(cb["general"]["payment_id"], payment_id)
        self.assertEqual(cb["request_id"], r.json["request_id"])
        expires = time.strptime(cb["uuid_expired_at"], "%Y-%m-%dT%H:%M:%S+0000")
        left = time.mktime(expires) - time.mktime(time.gmtime())
        self.assertTrue(29 * 60 < left <= 30 * 60 + 2, left)

    def test_the_sandbox_receiver_gets_callbacks_without_a_url(self):
        payment_id = unique("sink")
        self.assertEqual(self.api.ecommpay_register(payment_id).status, 200)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            mine = [c for c in self.api.sandbox_callbacks() if c["general"]["payment_id"] == payment_id]
            if mine:
                break
            time.sleep(0.05)
        self.assertEqual(len(mine), 1)
        assert_signed(self, mine[0], ECOMMPAY_PROJECT)

    def test_the_sandbox_receiver_keeps_each_projects_signed_callbacks_for_it_alone(self):
        payment_id = unique("sink")
        self.assertEqual(self.api.ecommpay_register(payment_id).status, 200)
        deadline = time.monotonic() + 10
        while not [c for c in self.api.sandbox_callbacks() if c["general"]["payment_id"] == payment_id]:
            self.assertLess(time.monotonic(), deadline, "the callback did not arrive")
            time.sleep(0.05)
        # Another project's listing does not show it; an unsigned or wrongly signed listing is refused.
        self.assertNotIn(payment_id, json.dumps(self.api.sandbox_callbacks(ECOMMPAY_DISABLED)))
        for query in ("", "?project_id=91348", "?project_id=91348&signature=x",
                      "?project_id=91348&signature=" + urllib.parse.quote(
                          ecommpay_sign(ECOMMPAY_SECRETS[ECOMMPAY_DISABLED], {"project_id": "91348"}))):
            with self.subTest(query=query):
                r = self.api.request("GET", "/sandbox/ecommpay/callbacks" + query, auth=None)
                self.assertEqual(r.status, 403, r.raw[:200])
                self.assertNotIn(payment_id.encode(), r.raw)
        # Only callbacks signed by the project they name are kept, each at most 16 KiB.
        junk = {"general": {"project_id": "91348", "payment_id": "junk", "signature": "forged"}}
        big = {"general": {"project_id": "91348", "payment_id": "big"}, "pad": "x" * 20000}
        big["general"]["signature"] = ecommpay_sign(ECOMMPAY_SECRETS[ECOMMPAY_PROJECT], big)
        for body, status in ((junk, 403), ({"general": {"project_id": "91348"}}, 403), (big, 413)):
            r = self.api.request("POST", "/sandbox/ecommpay/callbacks", body=body, auth=None)
            self.assertEqual(r.status, status, r.raw[:200])
        kept = json.dumps(self.api.sandbox_callbacks())
        self.assertNotIn('"junk"', kept)
        self.assertNotIn('"big"', kept)
        # The newest 200 per project, however many arrive.
        for i in range(205):
            body = {"general": {"project_id": "91349", "payment_id": f"flood-{i}"}}
            body["general"]["signature"] = ecommpay_sign(ECOMMPAY_SECRETS[ECOMMPAY_DISABLED], body)
            self.assertEqual(self.api.request("POST", "/sandbox/ecommpay/callbacks", body=body, auth=None).status, 200)
        kept = self.api.sandbox_callbacks(ECOMMPAY_DISABLED, all_from_payoutd=False)  # the flood is ours
        flood = [c["general"]["payment_id"] for c in kept if c["general"]["payment_id"].startswith("flood-")]
        self.assertEqual(len(kept), 200)
        self.assertEqual(flood, [f"flood-{i}" for i in range(205 - len(flood), 205)])  # the newest

    def test_a_project_without_payouts_is_declined_by_callback_317(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id = unique("off")
        r = self.api.ecommpay_register(payment_id, project=ECOMMPAY_DISABLED, callback_url=receiver.url)
        self.assertEqual(r.status, 200, r.raw)
        [cb] = receiver.wait(1)
        assert_signed(self, cb, ECOMMPAY_DISABLED)
        self.assertEqual(cb["payment"]["status"], "decline")
        self.assertEqual((cb["operation"]["code"], cb["operation"]["status"]), ("317", "decline"))
        self.assertNotIn("uuid", cb)

class CallbackDeliveryTest(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        kw.setdefault("config_replace", FAST_RETRIES)
        return super().new_server(start=start, **kw)

    def outbox(self, payment_id, project=ECOMMPAY_PROJECT):
        r = self.api.request("GET", f"/admin/v1/outbox?tenant=ecommpay:{project}&event={payment_id}:",
                             auth=ADMIN_TOKEN)
        self.assertEqual(r.status, 200, r.raw)
        return r.json["messages"]

    def test_a_failing_then_hanging_receiver_gets_the_callback_with_one_identity(self):
        receiver = Receiver([500, 503, "hang", 404], hang_s=3)  # the hang outlasts the 1 s timeout
        self.addCleanup(receiver.close)
        payment_id = unique("retry")
        self.assertEqual(self.api.ecommpay_register(payment_id, callback_url=receiver.url).status, 200)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            [m] = self.outbox(payment_id)
            if m["state"] == "DELIVERED":
                break
            time.sleep(0.2)
        self.assertEqual(m["state"], "DELIVERED", m)
        self.assertEqual([a["httpStatus"] for a in m["attemptLog"]][:2], [500, 503])
        self.assertEqual(m["attemptLog"][-1]["httpStatus"], 200)
        bodies = receiver.bodies()
        self.assertGreaterEqual(len(bodies), 4)
        self.assertEqual(len(set(bodies)), 1, "every attempt carries the same body")
        self.assertEqual(json.loads(bodies[0])["general"]["payment_id"], payment_id)

    def test_a_crash_loses_no_callback(self):
        receiver = Receiver([500] * 3)
        self.addCleanup(receiver.close)
        ids = [unique("crash") for _ in range(5)]
        for payment_id in ids:
            self.assertEqual(self.api.ecommpay_register(payment_id, callback_url=receiver.url).status, 200)
        self.server.kill9()
        self.server.start()
        got = receiver.wait(5 + 3)
        delivered = {c["general"]["payment_id"] for c in got}
        self.assertEqual(delivered, set(ids))
        # At least once, never two versions of one event.
        by_id = {}
        for b in receiver.bodies():
            by_id.setdefault(json.loads(b)["general"]["payment_id"], set()).add(b)
        self.assertTrue(all(len(v) == 1 for v in by_id.values()), by_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(self.outbox(p)[0]["state"] == "DELIVERED" for p in ids):
                break
            time.sleep(0.2)
        self.assertTrue(all(self.outbox(p)[0]["state"] == "DELIVERED" for p in ids))

    def test_an_unconfirmed_payout_expires_with_its_uuid_604(self):
        server = self.new_server(config_replace=dict(FAST_RETRIES, **{"uuid_lifetime_s = 1800 ": "uuid_lifetime_s = 2 "}))
        api = Api(server)
        self.addCleanup(api.close)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id = unique("exp")
        self.assertEqual(api.ecommpay_register(payment_id, callback_url=receiver.url).status, 200)
        registration, result = receiver.wait(2, timeout=15)
        self.assertEqual(registration["payment"]["status"], "awaiting_payout_completion")
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "decline")
        self.assertEqual((result["operation"]["code"], result["operation"]["message"]),
                         ("604", "Payout Session Terminated. UUID Expired"))
        self.assertEqual(result["request_id"], registration["request_id"])
        code, out = server.run_audit()
        self.assertEqual(code, 0, out)

    def test_callbacks_to_private_addresses_are_refused_outside_the_sandbox(self):
        server = self.new_server(start=False, config_replace=outside_sandbox(FAST_RETRIES))
        self.server.stop()
        server.start()
        api = Api(server)
        self.addCleanup(api.close)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id = unique("priv")
        self.assertEqual(api.ecommpay_register(payment_id, callback_url=receiver.url,
                                               secret=OUTSIDE_ECOMMPAY_SECRETS[ECOMMPAY_PROJECT]).status, 200)
        time.sleep(1.5)
        self.assertEqual(receiver.bodies(), [])
        r = api.request("GET", f"/admin/v1/outbox?tenant=ecommpay:{ECOMMPAY_PROJECT}&event={payment_id}:",
                        auth=OUTSIDE_ADMIN_TOKEN)
        [m] = r.json["messages"]
        self.assertEqual(m["state"], "PENDING")
        self.assertGreaterEqual(m["attempts"], 1)
        self.assertIn("not public", m["attemptLog"][0]["error"])


if __name__ == "__main__":
    unittest.main()
