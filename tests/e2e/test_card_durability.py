"""Card payouts across crashes, and card numbers at rest (docs/bereke.md, docs/architecture.md
"Card payouts"): a kill -9 while the card network holds a credit is resumed after the restart
and settled exactly once; no clear card number is in the data directory (database files
included), the PostgreSQL database or the logs."""
import glob
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (CARD_BAD_LUHN, CARD_OK, CARD_OK_MC, CARD_SLOW_OK, CARD_TIMEOUT,  # noqa: E402
                     CORPORATE_BINDING, TEST_CARDS, TRANSIT_BALANCE, Api, IsolatedServerTestCase,
                     config_text, shared_cluster, unique)

# The PANs of the sandbox config (provisioned bindings) besides the test cards.
ALL_PANS = set(TEST_CARDS)


def wait_for(api, order, wanted, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.bereke_status(order)
        if r.status == 200 and r.json.get("orderStatus") == wanted:
            return r.json
        time.sleep(0.2)
    raise AssertionError(f"order {order} did not reach status {wanted}: {r.raw}")


class CrashDuringRailCallTest(IsolatedServerTestCase):

    def perform_in_background(self, server, order, pan, amount):
        def send():
            api = Api(server, timeout=30)
            try:
                api.perform(order, pan, amount=amount)
            except OSError:
                pass  # the server was killed under it
            finally:
                api.close()
        t = threading.Thread(target=send, daemon=True)
        t.start()
        return t

    def assertSettledOnce(self, server, order, amount, received):
        api = Api(server)
        self.addCleanup(api.close)
        j = wait_for(api, order, "2")
        self.assertEqual(api.bereke_balance(), TRANSIT_BALANCE - amount)
        credit = api.rail_credit(j["orderId"])
        self.assertEqual((credit["outcome"], credit["amount"], credit["received"]),
                         ("approved", amount, received))
        code, out = server.run_audit()
        self.assertEqual(code, 0, out)

    def test_kill_before_the_network_answers(self):
        server = self.new_server(config_replace={"latency_ms = 100 ": "latency_ms = 2500 "})
        self.server.stop()
        order = unique("crash")
        self.perform_in_background(server, order, CARD_OK, 4321)
        time.sleep(1.0)  # reserved and sent; the network answers at 2.5 s
        server.kill9()
        server.start()
        # The network never received the first send (its answer died with the process's
        # connection): the resumed payout is sent again and credited once.
        self.assertSettledOnce(server, order, 4321, received=1)

    def test_kill_after_the_network_made_the_credit(self):
        server = self.new_server()
        self.server.stop()
        order = unique("crash")
        self.perform_in_background(server, order, CARD_TIMEOUT, 6789)
        time.sleep(1.0)  # the network has the credit; its answer would come at 3 s
        server.kill9()
        server.start()
        # Resent with the same reference: the network answers from its record (received twice,
        # credited once); the answer is lost again, and reconciliation settles it.
        self.assertSettledOnce(server, order, 6789, received=2)

    def test_restart_resumes_a_processing_payout(self):
        order = unique("slow")
        r = self.api.perform(order, CARD_SLOW_OK, amount=50)
        self.assertEqual(r.json["orderStatus"], "1", r.raw)
        self.server.stop()
        self.server.start()
        self.assertSettledOnce(self.server, order, 50, received=1)


class PanAtRestTest(IsolatedServerTestCase):

    def exercise(self, api):
        """Card numbers through every path: performPayout, the hosted page, bindings, refusals."""
        for pan in (CARD_OK, CARD_OK_MC, CARD_SLOW_OK, CARD_BAD_LUHN, *TEST_CARDS):
            api.perform(unique("pan"), pan, amount=10, client={"clientId": "scan-client"})
        api.perform(unique("pan"), CARD_OK, amount=10, source=CORPORATE_BINDING)
        reg = api.bereke("registerPayout.do", {"orderNumber": unique("page"), "amount": 10, "currency": "398"})
        form = urllib.parse.urlencode({"mdOrder": reg.json["orderId"], "lang": "en",
                                       "pan": "5555 5555 5555 4444", "cardholder": "Scan Test"})
        api.request("POST", "/payouts/payment/confirm", raw_body=form.encode(), auth=None,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        time.sleep(2.5)  # the processing card settles

    def assertNoPan(self, blob, where):
        for pan in ALL_PANS:
            self.assertNotIn(pan.encode(), blob, f"clear PAN {pan[:6]}… in {where}")

    def test_the_scan_finds_a_clear_pan(self):
        # The sandbox config names two cards in the clear: the scan must see them.
        with self.assertRaises(AssertionError):
            self.assertNoPan(config_text().encode(), "the config")

    def test_no_clear_pan_in_the_data_directory_or_the_logs(self):
        self.exercise(self.api)
        self.server.stop()
        files = [f for f in glob.glob(os.path.join(self.server.data_dir, "**"), recursive=True)
                 if os.path.isfile(f)]
        self.assertTrue(any(f.endswith("payoutd.db") for f in files), files)
        self.assertTrue(any(f.endswith("rail.db") for f in files), files)
        for path in files + glob.glob(os.path.join(self.server.tmp, "*.log")):
            with open(path, "rb") as f:
                self.assertNoPan(f.read(), path)

    def test_no_clear_pan_in_the_postgresql_database(self):
        server = self.new_server(backend="postgres")
        self.server.stop()
        api = Api(server)
        self.addCleanup(api.close)
        self.exercise(api)
        server.stop()
        dump = ""
        for table in ("accounts", "transfers", "payouts", "history", "records", "meta", "leases"):
            dump += shared_cluster().psql(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t",
                                          server.postgres_url)
        self.assertIn("sealed", dump)  # the cards are there, encrypted
        self.assertNoPan(dump.encode(), "the PostgreSQL database")
        for path in glob.glob(os.path.join(server.tmp, "*.log")):
            with open(path, "rb") as f:
                self.assertNoPan(f.read(), path)


if __name__ == "__main__":
    unittest.main()
