"""Several card rails and the routing between them (docs/rails.md, "Several rails, and routing"),
end to end through the Bereke API: the partner's rules choose a rail by card scheme and amount
band; a rail that certainly never took the credit hands it to the rule's fallback; one that may
have taken it (a timeout) keeps it until it is final; a kill -9 during a rail's call still pays
once, on one rail; a payout no rail takes is declined before anything is reserved.

Two sandbox networks stand for two rails: the config's `sandbox` ([rail], rail.db) and `rail-b`
([[rails]], rail-b's own record). The admin API's rail/credits/{reference}?rail=NAME asks one of
them whether it holds a credit."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, CARD_OK, CARD_OK_MC, CARD_TIMEOUT, TRANSIT_BALANCE,  # noqa: E402
                     Api, IsolatedServerTestCase, unique)
import test_cabinet  # noqa: E402  (its Browser; a module import keeps its tests out of this file)

# A Luhn-valid Kazakh card none of the published test cards use: the `sandbox` network cannot be
# reached for it (every send answered "not sent"); `rail-b` credits it.
CARD_SANDBOX_DOWN = "4000000000000010"
RAIL_B_LATENCY_MS = 1500  # long enough to kill the server while rail-b works on a credit

ROUTING_CONFIG = f"""
[[rails]]
name = "rail-b"
kind = "sandbox"
latency_ms = {RAIL_B_LATENCY_MS}
timeout_ms = 4000

[routing]
default = "sandbox"

[[routing.tenants]]
tenant = "bereke:sandbox-partner"
# No default: a payout no rule takes is declined.

[[routing.tenants.rules]]       # Mastercard goes to rail-b
schemes = ["MASTERCARD"]
rail = "rail-b"

[[routing.tenants.rules]]       # 50.00-59.99 KZT: the sandbox, or rail-b if it cannot be reached
currencies = ["KZT"]
amount_min = "50.00"
amount_max = "59.99"
rail = "sandbox"
fallback = "rail-b"

[[routing.tenants.rules]]       # below 50.00 KZT: the sandbox only
currencies = ["KZT"]
amount_max = "49.99"
rail = "sandbox"
"""
DOWN_CONFIG = {
    '"4000000000000259" = "timeout"':
        f'"4000000000000259" = "timeout"\n"{CARD_SANDBOX_DOWN}" = "not-sent-then-success"',
    "not_sent_sends = 2 ": "not_sent_sends = 1000 ",
}



class RailRoutingTest(IsolatedServerTestCase):

    def setUp(self):
        self.server = self.new_server(config_replace=DOWN_CONFIG, extra_config=ROUTING_CONFIG)
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def credit_on(self, rail, order_id, api=None):
        r = (api or self.api).request("GET", f"/admin/v1/rail/credits/{order_id}?rail={rail}",
                                      auth=ADMIN_TOKEN)
        self.assertIn(r.status, (200, 404), r.raw)
        return r.json if r.status == 200 else None

    def assertPaidOn(self, rail, other, order, amount, api=None):
        """Paid once on `rail`, never sent to `other`; returns the status answer."""
        api = api or self.api
        j = api.bereke_wait(order, "2")
        [op] = j["operationList"]
        self.assertEqual((op["resultCode"], op["amount"]), (0, amount), j)
        credit = self.credit_on(rail, j["orderId"], api)
        self.assertIsNotNone(credit, f"{rail} has no credit for {order}")
        self.assertEqual((credit["rail"], credit["outcome"], credit["amount"], credit["received"]),
                         (rail, "approved", amount, 1), credit)
        self.assertEqual(op["refNum"], credit["approval"])
        self.assertIsNone(self.credit_on(other, j["orderId"], api), f"{other} was sent {order}")
        return j

    def test_the_partners_rules_choose_the_rail_by_scheme_and_amount(self):
        spent = 0
        for order, pan, amount, rail, other in (
                (unique("rt-visa"), CARD_OK, 1234, "sandbox", "rail-b"),
                (unique("rt-mc"), CARD_OK_MC, 1234, "rail-b", "sandbox"),
                (unique("rt-band"), CARD_OK, 5500, "sandbox", "rail-b"),
                (unique("rt-mc-band"), CARD_OK_MC, 5500, "rail-b", "sandbox")):  # first rule wins
            r = self.api.perform(order, pan, amount=amount)
            self.assertEqual(r.status, 200, r.raw)
            self.assertPaidOn(rail, other, order, amount)
            spent += amount
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - spent)

    def test_a_payout_no_rule_takes_is_declined_and_nothing_is_reserved(self):
        order = unique("rt-none")
        r = self.api.perform(order, CARD_OK, amount=6000)  # Visa, above every band, no default
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.json["errorCode"], r.json["orderStatus"], r.json["errorMessage"]),
                         ("0", "6", "Выплаты на эту карту недоступны"), r.raw)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE)
        self.assertIsNone(self.credit_on("sandbox", r.json["orderId"]))
        self.assertIsNone(self.credit_on("rail-b", r.json["orderId"]))
        en = self.api.perform(order, CARD_OK, amount=6000, language="en")  # a replay: the same
        self.assertEqual(en.json["errorMessage"], "Payouts to this card are not available", en.raw)

    def test_a_rail_that_cannot_be_reached_hands_the_payout_to_its_fallback(self):
        order = unique("rt-down")
        r = self.api.perform(order, CARD_SANDBOX_DOWN, amount=5100)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(r.json["orderStatus"], ("1", "2"), r.raw)  # in flight, or paid already
        j = self.assertPaidOn("rail-b", "sandbox", order, 5100)
        self.assertEqual(j["orderId"], r.json["orderId"])
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 5100)
        # The partner's cabinet shows which rail paid, and the one the payout left.
        b = test_cabinet.Browser(self.server)
        b.login(*test_cabinet.BEREKE)
        _, _, page = b.get(f"/cabinet/payout?kind=card&id={order}")
        self.assertIn('id="rail">rail-b<', page)
        self.assertRegex(page, r'id="rails-left">sandbox: not-sent[^<]*<')
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)

    def test_without_a_fallback_the_payout_waits_for_its_rail(self):
        order = unique("rt-down-nofb")
        r = self.api.perform(order, CARD_SANDBOX_DOWN, amount=4000)  # below 50.00: sandbox only
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)
        time.sleep(2.0)  # two refused sends later it still waits, reserved, for the sandbox
        s = self.api.bereke_status(order)
        self.assertEqual(s.json["orderStatus"], "1", s.raw)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 4000)
        self.assertIsNone(self.credit_on("rail-b", r.json["orderId"]))

    def test_a_rail_that_timed_out_after_crediting_keeps_the_payout_until_it_is_final(self):
        order = unique("rt-timeout")
        r = self.api.perform(order, CARD_TIMEOUT, amount=5300)  # a fallback, but never used
        self.assertEqual(r.status, 504, r.raw)
        self.assertEqual((r.json["errorCode"], r.json["errorMessage"]),
                         ("91", "Timeout when requesting sandbox-card-rail"), r.raw)
        self.assertPaidOn("sandbox", "rail-b", order, 5300)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 5300)

    def test_a_kill_during_a_rails_call_pays_once_on_one_rail(self):
        order = unique("rt-kill")
        answers = []

        def perform():
            api = Api(self.server)
            try:
                answers.append(api.perform(order, CARD_OK_MC, amount=2500))
            except Exception as e:  # the connection dies with the server
                answers.append(e)
            finally:
                api.close()
        t = threading.Thread(target=perform)
        t.start()
        time.sleep(RAIL_B_LATENCY_MS / 3000)  # reserved, and rail-b still working on it
        self.api.close()
        self.server.kill9()
        t.join()
        self.server.start()
        api = Api(self.server)
        self.addCleanup(api.close)
        self.assertPaidOn("rail-b", "sandbox", order, 2500, api=api)
        self.assertEqual(api.bereke_balance(), TRANSIT_BALANCE - 2500)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
