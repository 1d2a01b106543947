"""Card payouts through the Visa Direct connector (docs/rails.md, "Visa Direct"), end to end through
the Bereke API: the sandbox partner's Visa cards are routed to a `visa-direct` rail that pushes
each payout over two-way TLS, with HTTP Basic, to the Visa Direct test double
(tests/doubles/visa_direct.mjs), which checks the client certificate, the credentials and every
field of the push against Visa's reference. Each of the double's scenarios (by test card) comes
back to the partner as the Bereke API says: approved with the push's retrieval reference number,
declined with nothing moved, a 202 then final by the status identifier, a slow answer (Visa's own
timeout, or ours) then final, resets before and after the double recorded the push, the network
down then paid once, a kill -9 of payoutd during the push; and the admin API's stats count the
connector's calls.

The double's cards (tests/doubles/visa_direct_cards.json) sit in the sandbox BIN table's 411111
range: Visa cards issued in Kazakhstan, which the sandbox partner pays (card_countries = ["KZ"])."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TRANSIT_BALANCE, unique  # noqa: E402
from network_doubles import VisaDirectDouble, visa_identifiers  # noqa: E402
from rail_cases import BerekeRailTestCase  # noqa: E402

CARD_APPROVE = "4111111111111111"
CARD_DECLINE_05 = "4111110000000013"      # do not honor
CARD_DECLINE_51 = "4111110000000021"      # insufficient funds
CARD_DECLINE_54 = "4111110000000047"      # expired card
CARD_202_THEN_APPROVED = "4111110000000138"   # 202; the status GET answers 202 twice, then 00
CARD_202_THEN_DECLINED = "4111110000000146"   # 202; one more 202, then 05
CARD_SLOW = "4111110000000153"            # recorded approved at once, answered 10 s later
CARD_RESET_BEFORE = "4111110000000161"    # the connection reset, nothing recorded (first POST)
CARD_RESET_AFTER = "4111110000000179"     # recorded approved, then the connection reset
RAIL = "visa"


class VisaRailTest(BerekeRailTestCase):
    DOUBLE = VisaDirectDouble
    RAIL = RAIL
    SCHEME = "VISA"
    # Our deadline, and Visa's (X-Transaction-Timeout-MS) below it, as the connector requires:
    # Visa's 202 arrives before our timeout. A short quiet period lets a reset before recording
    # end in a conclusive "not found" within the test.
    RAIL_KEYS = {"timeout_ms": 3000, "transaction_timeout_ms": 2000, "not_found_after_ms": 3000,
                 "breaker_failures": 50, "breaker_open_ms": 200}

    def assertPushed(self, order_id, amount, action_code="00"):
        """The double holds one push under the payout's key, of `amount` tenge (minor units) to the
        card, final with `action_code`, and credited the card once (approved) or not at all."""
        record = self.double.transactions(order_id)
        [t] = record["transactions"]
        self.assertEqual((t["status"], t["actionCode"], t["minorUnits"], t["amount"], t["currency"],
                          t["businessApplicationId"]),
                         ("COMPLETED", action_code, amount, f"{amount // 100}.{amount % 100:02d}",
                          "KZT", "FD"), record)
        self.assertRegex(t["recipientPrimaryAccountNumber"], r"^\d{6}\*+\d{4}$|^\*+\d{4}$", record)
        self.assertEqual(record["credited"], 1 if action_code == "00" else 0, record)
        return record

    def assertPaid(self, order, amount, api=None):
        """Paid once: the order's success with the push's RRN as refNum, one credit on the double."""
        api = api or self.api
        j = api.bereke_wait(order, "2")
        [op] = j["operationList"]
        self.assertEqual((op["resultCode"], op["amount"]), (0, amount), j)
        _, rrn = visa_identifiers(j["orderId"])
        self.assertEqual(op["refNum"], rrn, j)
        return j, self.assertPushed(j["orderId"], amount)

    def test_an_approved_push_pays_the_card_once_with_its_rrn(self):
        order = unique("visa-ok")
        r = self.perform(order, CARD_APPROVE, 1500)
        self.assertEqual((r.status, r.json["errorCode"], r.json["orderStatus"]), (200, "0", "2"), r.raw)
        [op] = r.json["operationList"]
        self.assertEqual((op["resultCode"], op["panMaskedTo"]), (0, "411111XXXXXX1111"), r.raw)
        _, rrn = visa_identifiers(r.json["orderId"])
        self.assertEqual(op["refNum"], rrn)
        record = self.assertPushed(r.json["orderId"], 1500)
        self.assertEqual(record["received"], {"POST": 1, "status": 0, "query": 0, "reset": 0})
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 1500)
        again = self.perform(order, CARD_APPROVE, 1500)  # a retry: answered from the order
        self.assertEqual(again.json["operationList"], r.json["operationList"])
        self.assertEqual(self.double.transactions(r.json["orderId"])["received"]["POST"], 1)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 1500)
        # Neither Visa's password nor the card is in payoutd's log.
        with open(self.server.stderr_path(), encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertNotIn(VisaDirectDouble.PASSWORD, log)
        self.assertNotIn(CARD_APPROVE, log)

    def test_the_admin_stats_count_the_connectors_calls(self):
        self.assertEqual(self.perform(unique("visa-st"), CARD_APPROVE, 1100).json["orderStatus"], "2")
        self.assertEqual(self.perform(unique("visa-st"), CARD_DECLINE_05, 1100).json["orderStatus"],
                         "6")
        order = unique("visa-st")
        self.assertEqual(self.perform(order, CARD_202_THEN_APPROVED, 1100).json["orderStatus"], "1")
        self.api.bereke_wait(order, "2")
        visa = self.rail_stats()
        self.assertEqual((visa["credits"]["approved"], visa["credits"]["declined"],
                          visa["credits"]["processing"]), (1, 1, 1), visa)
        self.assertEqual(visa["statuses"]["approved"], 1, visa)
        self.assertGreaterEqual(visa["statuses"]["processing"], 2, visa)  # the status GET's 202s
        calls = sum(visa["credits"].values()) + sum(visa["statuses"].values())
        self.assertEqual(sum(visa["latencyMs"].values()), calls, visa)
        self.assertEqual(visa["breakerOpened"], 0, visa)
        self.assertNotIn("credits", self.rail_stats("sandbox"))  # no connector, no counters  # the simulated network keeps no connector counters

    def test_declines_come_back_with_nothing_moved(self):
        for pan, code in ((CARD_DECLINE_05, "05"), (CARD_DECLINE_51, "51"), (CARD_DECLINE_54, "54")):
            r = self.perform(unique("visa-dcl"), pan, 1600)
            self.assertEqual((r.status, r.json["orderStatus"]), (200, "6"), r.raw)
            [op] = r.json["operationList"]
            self.assertEqual(op["resultCode"], 1, r.raw)
            record = self.assertPushed(r.json["orderId"], 1600, code)
            self.assertEqual(record["received"]["POST"], 1, record)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE)

    def test_a_202_is_in_flight_then_final_by_the_status_identifier(self):
        # Visa's 202 (it timed out waiting for the issuer) is accepted, not final: the partner
        # hears "in flight", and the connector asks the status identifier until final.
        ok, bad = unique("visa-202"), unique("visa-202d")
        for order, pan in ((ok, CARD_202_THEN_APPROVED), (bad, CARD_202_THEN_DECLINED)):
            r = self.perform(order, pan, 1800)
            self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)
        j, record = self.assertPaid(ok, 1800)
        self.assertEqual(record["received"]["POST"], 1, record)
        self.assertGreaterEqual(record["received"]["status"], 3, record)  # 202, 202, then 200
        d = self.api.bereke_wait(bad, "6")
        record = self.assertPushed(d["orderId"], 1800, "05")
        self.assertEqual(record["received"]["POST"], 1, record)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 1800)

    def test_visas_own_timeout_is_a_202_then_approved(self):
        # The push waits longer at Visa than X-Transaction-Timeout-MS (below our deadline): Visa
        # answers 202 at that time, and the status identifier finds the push approved.
        order = unique("visa-slow202")
        r = self.perform(order, CARD_SLOW, 1900)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)
        _, record = self.assertPaid(order, 1900)
        self.assertEqual((record["received"]["POST"], record["received"]["query"]), (1, 0), record)
        self.assertGreaterEqual(record["received"]["status"], 1, record)

    def test_a_reset_after_recording_is_a_timeout_then_paid_by_the_query(self):
        order = unique("visa-rsta")
        r = self.perform(order, CARD_RESET_AFTER, 2000)
        self.assertEqual((r.status, r.json["errorCode"], r.json["errorMessage"]),
                         (504, "91", f"Timeout when requesting {RAIL}-card-rail"), r.raw)
        _, record = self.assertPaid(order, 2000)
        received = record["received"]
        self.assertEqual((received["POST"], received["reset"], received["status"]), (1, 1, 0), record)
        self.assertGreaterEqual(received["query"], 1, record)  # no status identifier: the query
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2000)

    def test_a_reset_before_recording_is_pushed_again_once_visa_has_no_record(self):
        # The double never recorded the first push: the query finds nothing, which is believed
        # only after the quiet period; then the same push (same key) goes again, and is paid once.
        order = unique("visa-rstb")
        r = self.perform(order, CARD_RESET_BEFORE, 2100)
        self.assertEqual((r.status, r.json["errorCode"]), (504, "91"), r.raw)
        self.assertEqual(self.api.bereke_status(order).json["orderStatus"], "1")
        _, record = self.assertPaid(order, 2100)
        received = record["received"]
        self.assertEqual((received["POST"], received["reset"]), (2, 1), record)
        self.assertGreaterEqual(received["query"], 1, record)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2100)

    def test_a_network_that_cannot_be_reached_is_paid_once_when_it_is_back(self):
        self.double.stop()
        order = unique("visa-down")
        r = self.perform(order, CARD_APPROVE, 2200)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)  # in flight
        time.sleep(1.5)  # several refused sends later: still in flight, still reserved
        self.assertEqual(self.api.bereke_status(order).json["orderStatus"], "1")
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2200)
        self.double.start()
        _, record = self.assertPaid(order, 2200)
        self.assertEqual(record["received"]["POST"], 1, record)  # the refused sends never arrived
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2200)
        # The refused sends are counted.
        self.assertGreaterEqual(self.rail_stats()["credits"]["notSent"], 1)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)


class VisaRailSlowNetworkTest(VisaRailTest):
    """The double answers every call 1.5 s late: time to kill payoutd while a push is on the wire,
    and a slow push's 202 (at Visa's 2 s timeout) arrives after our 3 s deadline."""
    LATENCY_MS = 1500

    # The scenarios above are VisaRailTest's; this class runs only its own.
    test_an_approved_push_pays_the_card_once_with_its_rrn = None
    test_the_admin_stats_count_the_connectors_calls = None
    test_declines_come_back_with_nothing_moved = None
    test_a_202_is_in_flight_then_final_by_the_status_identifier = None
    test_visas_own_timeout_is_a_202_then_approved = None
    test_a_reset_after_recording_is_a_timeout_then_paid_by_the_query = None
    test_a_reset_before_recording_is_pushed_again_once_visa_has_no_record = None
    test_a_network_that_cannot_be_reached_is_paid_once_when_it_is_back = None

    def test_a_slow_answer_is_the_partners_timeout_then_paid_by_the_query(self):
        order = unique("visa-slow")
        r = self.perform(order, CARD_SLOW, 2300)
        self.assertEqual((r.status, r.json["errorCode"], r.json["errorMessage"]),
                         (504, "91", f"Timeout when requesting {RAIL}-card-rail"), r.raw)
        self.assertEqual(self.api.bereke_status(order).json["orderStatus"], "1")
        _, record = self.assertPaid(order, 2300)
        received = record["received"]
        # Our timeout left no status identifier: the Transaction Query found the push approved.
        self.assertEqual((received["POST"], received["status"]), (1, 0), record)
        self.assertGreaterEqual(received["query"], 1, record)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2300)
        self.assertEqual(self.rail_stats()["credits"]["unknown"], 1)

    def test_a_kill_during_the_push_pays_once(self):
        order = unique("visa-kill")
        # Reserved, and the push sent: the double waits out its latency before it records it.
        api = self.kill_during_perform(order, CARD_APPROVE, 2400, after_s=0.7)
        # The restarted payoutd asks before it pushes again: one push on the double, one payout.
        _, record = self.assertPaid(order, 2400, api=api)
        self.assertEqual(record["received"]["POST"], 1, record)
        self.assertEqual(api.bereke_balance(), TRANSIT_BALANCE - 2400)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
