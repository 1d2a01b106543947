"""The upstream Bereke rail (docs/rails.md, "Upstream Bereke"): payoutd B as a partner of a bank
that speaks Bereke Payouts Module v2, and that bank played by payoutd A, the plain sandbox.

B's `[[rails]]` has a kind "bereke" rail, `bank-a`, pointing at A's Bereke API with A's sandbox
partner's credentials (the password from a file); B's routing sends its own Bereke partner's
payouts, and an ecommpay project's, to it. Through B's Bereke API (and B's Payment Page): a payout
is paid on A once, with A's refNum; A's decline is B's decline; A's processing card ends final on
B; A's timeout card gives B's partner its own 504/91, then success by reconciliation; a card A
refuses is declined; wrong credentials are refused by A and nothing is paid until they are right;
A down leaves B's payout in flight, never declined, and paid once when A is back; a kill -9 of B
during its call to A pays once, on A, and once on B."""
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BEREKE_PASSWORD, BEREKE_USER, CARD_CANADA, CARD_DECLINED,  # noqa: E402
                     CARD_OK, CARD_SLOW_DECLINED, CARD_SLOW_OK, CARD_TIMEOUT, TRANSIT_BALANCE, Api,
                     IsolatedServerTestCase, free_port, unique)
# Modules, not names: their test classes stay out of this file.
import test_ecommpay_page  # noqa: E402
import test_ecommpay_registration  # noqa: E402

RAIL = "bank-a"
A_SLOW_LATENCY_MS = 1500  # A's card network, slow enough to kill B while it waits for A


def b_config(a_port, password_file):
    return f"""
[[rails]]
name = "{RAIL}"
kind = "bereke"
base_url = "http://127.0.0.1:{a_port}/payouts/api/v2"
user_name = "{BEREKE_USER}"
password_file = "{password_file}"
timeout_ms = 6000          # A answers its own timeout card (its rail's 3 s) before this
breaker_failures = 3
breaker_open_ms = 300
not_found_after_ms = 3000

[routing]
default = "sandbox"

[[routing.tenants]]
tenant = "bereke:sandbox-partner"
default = "{RAIL}"

[[routing.tenants]]
tenant = "ecommpay:91348"
default = "{RAIL}"
"""


# B: status questions and re-sends at most 1 s apart (A's downtime is short); Canadian cards
# accepted from its own partner, so that A is the one to refuse them; project 91348 pays tenge
# (the upstream pays KZT only).
B_REPLACE = {
    "reconcile_max_ms = 60000": "reconcile_max_ms = 1000",
    "poll_ms = 1000 ": "poll_ms = 50 ",
    'card_countries = ["KZ"]': 'card_countries = ["KZ", "CA"]',
    'sender = "merchant"                  # or "person": persons send its payouts (MoneySend P2P rules)\n'
    'currency = "EUR"':
        'sender = "merchant"\ncurrency = "KZT"',
}



class UpstreamBerekeRailTest(IsolatedServerTestCase):

    def setUp(self):
        pass  # each test starts its pair: A, then B pointing at A

    def start_pair(self, a_replace=None, password=BEREKE_PASSWORD):
        self.a = self.new_server(listen=f"127.0.0.1:{free_port()}", config_replace=a_replace)
        self.a_api = Api(self.a)
        self.addCleanup(self.a_api.close)
        self.password_file = os.path.join(self.a.tmp, "upstream-password")
        with open(self.password_file, "w", encoding="utf-8") as f:
            f.write(password + "\n")
        self.b = self.new_server(config_replace=B_REPLACE,
                                 extra_config=b_config(self.a.port, self.password_file))
        self.server = self.b  # the log printed when a test fails
        self.b_api = Api(self.b)
        self.addCleanup(self.b_api.close)

    def upstream_order(self, b_order_id):
        """A's order for B's payout: its orderNumber is B's orderId without the dashes."""
        return self.a_api.bereke_status(b_order_id.replace("-", ""))

    def assertPaidOnce(self, order, amount, b_api=None):
        """B's payout `order` is paid, with A's refNum; A paid it once; both balances moved once."""
        b_api = b_api or self.b_api
        b = b_api.bereke_wait(order, "2")
        a = self.a_api.bereke_wait(b["orderId"].replace("-", ""), "2")
        [b_op], [a_op] = b["operationList"], a["operationList"]
        self.assertEqual((a["amount"], a_op["amount"], b_op["amount"]), (amount,) * 3, (a, b))
        self.assertRegex(a_op["refNum"], r"^\d{12}$")
        self.assertEqual(b_op["refNum"], a_op["refNum"], (a, b))
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE - amount)
        self.assertEqual(b_api.bereke_balance(), TRANSIT_BALANCE - amount)
        return a, b

    def assertAudited(self):
        for server in (self.a, self.b):
            code, out = server.run_audit()
            self.assertEqual(code, 0, out)

    def test_a_payout_is_paid_on_the_upstream_bank_once_with_its_refnum(self):
        self.start_pair()
        order = unique("up-ok")
        r = self.b_api.perform(order, CARD_OK, amount=1234, client={"name": "IVAN PETROV"})
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "2"), r.raw)
        a, _ = self.assertPaidOnce(order, 1234)
        self.assertEqual(a["operationList"][0]["cardholderName"], "IVAN PETROV")  # client.name
        self.assertEqual(a["target"]["maskedPan"], "411111XXXXXX1111")
        # The same payout again is answered from B's order; A is not asked to pay again.
        again = self.b_api.perform(order, CARD_OK, amount=1234, client={"name": "IVAN PETROV"})
        self.assertEqual(again.json, r.json)
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE - 1234)
        # Neither the upstream password nor the card is in B's log.
        with open(self.b.stderr_path(), encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertNotIn(BEREKE_PASSWORD, log)
        self.assertNotIn(CARD_OK, log)
        self.assertAudited()

    def test_the_upstreams_decline_is_a_decline(self):
        self.start_pair()
        order = unique("up-decl")
        r = self.b_api.perform(order, CARD_DECLINED, amount=2000)
        self.assertEqual((r.status, r.json["orderStatus"], r.json["errorMessage"]),
                         (200, "6", "Отказ эмитента"), r.raw)
        a = self.upstream_order(r.json["orderId"])
        self.assertEqual(a.json["orderStatus"], "6", a.raw)
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE)
        self.assertEqual(self.b_api.bereke_balance(), TRANSIT_BALANCE)

    def test_a_card_the_upstream_refuses_is_declined(self):
        self.start_pair()  # B takes Canadian cards; A's partner does not (card affiliation)
        order = unique("up-ca")
        r = self.b_api.perform(order, CARD_CANADA, amount=1500)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "6"), r.raw)
        self.assertEqual(self.upstream_order(r.json["orderId"]).status, 400)  # nothing on A
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE)
        self.assertEqual(self.b_api.bereke_balance(), TRANSIT_BALANCE)

    def test_processing_on_the_upstream_ends_final(self):
        self.start_pair()
        ok, bad = unique("up-slow-ok"), unique("up-slow-decl")
        r = self.b_api.perform(ok, CARD_SLOW_OK, amount=3000)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)
        d = self.b_api.perform(bad, CARD_SLOW_DECLINED, amount=700)
        self.assertEqual((d.status, d.json["orderStatus"]), (200, "1"), d.raw)
        self.b_api.bereke_wait(bad, "6")
        self.assertEqual(self.upstream_order(d.json["orderId"]).json["orderStatus"], "6")
        self.assertPaidOnce(ok, 3000)

    def test_the_upstreams_timeout_is_the_partners_timeout_then_success(self):
        self.start_pair()
        order = unique("up-timeout")
        r = self.b_api.perform(order, CARD_TIMEOUT, amount=4100)
        self.assertEqual((r.status, r.json["errorCode"], r.json["errorMessage"]),
                         (504, "91", f"Timeout when requesting {RAIL}-card-rail"), r.raw)
        self.assertEqual(self.b_api.bereke_status(order).json["orderStatus"], "1")
        self.assertPaidOnce(order, 4100)
        self.assertAudited()

    def test_wrong_credentials_pay_nothing_until_they_are_right(self):
        self.start_pair(password="not-the-password")
        order = unique("up-creds")
        r = self.b_api.perform(order, CARD_OK, amount=2500)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)  # in flight
        self.wait_log(self.b, r"ALERT: the upstream bank refused our performPayout .*HTTP 401 90")
        self.b.stop()  # before A's throttle slows the right password down too
        self.assertEqual(self.upstream_order(r.json["orderId"]).status, 400)  # not found on A
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE)
        with open(self.password_file, "w", encoding="utf-8") as f:
            f.write(BEREKE_PASSWORD + "\n")
        self.b.start()
        self.assertPaidOnce(order, 2500)

    def test_with_the_upstream_down_the_payout_waits_and_is_paid_once_when_it_is_back(self):
        self.start_pair()
        self.a.kill9()
        order = unique("up-down")
        r = self.b_api.perform(order, CARD_OK, amount=5100)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)  # never 504, never 6
        time.sleep(2.5)  # several refused sends (and the breaker open) later: still in flight
        s = self.b_api.bereke_status(order)
        self.assertEqual(s.json["orderStatus"], "1", s.raw)
        self.assertEqual(self.b_api.bereke_balance(), TRANSIT_BALANCE - 5100)  # still reserved
        self.a.start()
        self.assertPaidOnce(order, 5100)
        self.assertAudited()

    def test_a_kill_of_b_during_its_call_pays_once_on_the_upstream(self):
        self.start_pair(a_replace={"latency_ms = 100 ": f"latency_ms = {A_SLOW_LATENCY_MS} "})
        order = unique("up-kill")
        answers = []

        def perform():
            api = Api(self.b)
            try:
                answers.append(api.perform(order, CARD_OK, amount=2600))
            except Exception as e:  # the connection dies with B
                answers.append(e)
            finally:
                api.close()
        t = threading.Thread(target=perform)
        t.start()
        time.sleep(A_SLOW_LATENCY_MS / 3000)  # reserved on B, and A's network still working
        self.b_api.close()
        self.b.kill9()
        t.join()
        self.b.start()
        b_api = Api(self.b)
        self.addCleanup(b_api.close)
        self.assertPaidOnce(order, 2600, b_api=b_api)
        self.assertAudited()

    def test_an_ecommpay_projects_payout_through_the_page_is_paid_upstream(self):
        self.start_pair()
        receiver = test_ecommpay_registration.Receiver()
        self.addCleanup(receiver.close)
        page = test_ecommpay_page.PageTestCase
        payment_id = unique("up-pp")
        r = self.b_api.ecommpay_register(payment_id, amount=4500, currency="KZT",
                                         callback_url=receiver.url)
        self.assertEqual(r.status, 200, r.raw)
        uuid = page.callbacks_of(receiver, payment_id, 1)[0]["uuid"]
        r = test_ecommpay_page.form(self.b_api, "/payment/card",
                                    {"uuid": uuid, "lang": "en", "pan": CARD_OK, "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        code, _ = page.sink_code(self, self.b, uuid)
        r = test_ecommpay_page.form(self.b_api, "/payment/code",
                                    {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303, r.raw)
        result = page.callbacks_of(receiver, payment_id, 2)[1]
        self.assertEqual((result["payment"]["status"], result["sum_request"]),
                         ("success", {"amount": "4500", "currency": "KZT"}), result)
        a = self.a_api.bereke_wait(uuid.replace("-", ""), "2")
        self.assertEqual((a["amount"], a["operationList"][0]["cardholderName"]), (4500, "A B"), a)
        self.assertEqual(self.a_api.bereke_balance(), TRANSIT_BALANCE - 4500)
        self.assertAudited()

    def wait_log(self, server, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(server.stderr_path(), encoding="utf-8", errors="replace") as f:
                if re.search(pattern, f.read()):
                    return
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the log:\n{server.log_tail()}")


if __name__ == "__main__":
    unittest.main()
