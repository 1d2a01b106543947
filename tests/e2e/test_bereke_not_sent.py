"""A card network the connector cannot reach (docs/rails.md, kNotSent): the payout keeps its
reservation, is answered to the partner as in flight, and is sent again, same reference, after a
growing backoff until the network takes it: paid once, the balance moved once, across a kill -9
during the backoff too. The sandbox rail's "not-sent-then-success" behaviour drives it, on a card
this file adds to the config (it is not one of the sandbox's published test cards)."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TRANSIT_BALANCE, Api, IsolatedServerTestCase, unique  # noqa: E402

# A Luhn-valid number of the sandbox BIN table's Kazakh range, none of the published test cards.
CARD_NOT_SENT = "4000000000000010"
NOT_SENT_SENDS = 2
NOT_SENT_CONFIG = {
    '"4000000000000259" = "timeout"':
        f'"4000000000000259" = "timeout"\n"{CARD_NOT_SENT}" = "not-sent-then-success"',
    "not_sent_sends = 2 ": f"not_sent_sends = {NOT_SENT_SENDS} ",
}
# The sandbox config's first backoff (reconcile_first_ms), doubling with each refused send.
BACKOFF_S = 1.0



class NotSentTest(IsolatedServerTestCase):

    def setUp(self):
        self.server = self.new_server(config_replace=NOT_SENT_CONFIG)
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def assertInFlight(self, r, amount):
        self.assertEqual(r.status, 200, r.raw)
        j = r.json
        self.assertEqual((j["errorCode"], j["errorMessage"], j["orderStatus"], j["amount"]),
                         ("0", "Успешно", "1", amount), r.raw)
        self.assertNotIn("operationList", j)  # nothing was decided
        return j

    def assertPaidOnce(self, api, order, amount):
        j = api.bereke_wait(order, "2")
        [op] = j["operationList"]
        self.assertEqual((op["resultCode"], op["amount"]), (0, amount))
        self.assertEqual(api.bereke_balance(), TRANSIT_BALANCE - amount)
        credit = api.rail_credit(j["orderId"])
        # Every send before the credit failed before it reached the network; the network
        # received the reference once.
        self.assertEqual((credit["outcome"], credit["amount"], credit["received"], credit["notSent"]),
                         ("approved", amount, 1, NOT_SENT_SENDS), credit)
        return j

    def test_the_partner_hears_in_flight_and_the_payout_is_paid_once_after_the_resends(self):
        order = unique("ns")
        started = time.monotonic()
        first = self.assertInFlight(self.api.perform(order, CARD_NOT_SENT, amount=4100), 4100)
        # Not a gateway timeout nor a decline: the reservation stands while it is re-sent.
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 4100)
        self.assertIsNone(self.api.rail_credit(first["orderId"]))  # the network has nothing
        self.assertEqual(self.assertInFlight(self.api.bereke_status(order), 4100)["orderId"],
                         first["orderId"])
        # The same request again is answered as the payout stands, without waiting for a send.
        asked = time.monotonic()
        self.assertInFlight(self.api.perform(order, CARD_NOT_SENT, amount=4100), 4100)
        self.assertLess(time.monotonic() - asked, BACKOFF_S)
        j = self.assertPaidOnce(self.api, order, 4100)
        self.assertEqual(j["orderId"], first["orderId"])
        # Re-sent after the backoff (1 s, then 2 s), never at once.
        self.assertGreaterEqual(time.monotonic() - started, 3 * BACKOFF_S)
        again = self.api.perform(order, CARD_NOT_SENT, amount=4100)
        self.assertEqual(again.json, self.api.bereke_status(order).json)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 4100)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)

    def test_a_kill_during_the_backoff_still_pays_once_after_the_restart(self):
        order = unique("ns-crash")
        self.assertInFlight(self.api.perform(order, CARD_NOT_SENT, amount=5200), 5200)
        self.api.close()
        self.server.kill9()  # within the first backoff: the order waits to be sent again
        self.server.start()
        api = Api(self.server)
        self.addCleanup(api.close)
        self.assertPaidOnce(api, order, 5200)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)

    def test_concurrent_requests_for_one_order_make_one_payout(self):
        order = unique("ns-race")
        answers = []

        def perform():
            api = Api(self.server)
            try:
                answers.append(api.perform(order, CARD_NOT_SENT, amount=300))
            finally:
                api.close()
        threads = [threading.Thread(target=perform) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in answers:
            self.assertEqual(r.status, 200, r.raw)
            self.assertIn(r.json["orderStatus"], ("1", "2"), r.raw)
        self.assertPaidOnce(self.api, order, 300)


if __name__ == "__main__":
    unittest.main()
