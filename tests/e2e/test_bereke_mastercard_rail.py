"""Card payouts through the Mastercard Send connector (docs/rails.md, "Mastercard Send"), end to
end through the Bereke API: the partner's Mastercard cards are routed to a `mastercard-send` rail
that talks over TLS to the Mastercard Send test double (tests/doubles/mastercard_send.mjs), which
verifies every request's OAuth 1.0a signature with Mastercard's own signer. A Bereke partner is a
business paying its clients, so every payout is a disbursement (Send's Disbursements API, payment
type BDB), never a person-to-person transfer. Each of the double's scenarios (by test card) comes
back to the partner as the Bereke API says: approved with the network's retrieval reference,
declined, in flight then final by retrieval, a timeout then reconciled, the network down then paid
once, a kill -9 of payoutd during the call."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TRANSIT_BALANCE, unique  # noqa: E402
from network_doubles import MastercardSendDouble  # noqa: E402
from rail_cases import BerekeRailTestCase  # noqa: E402
from test_metrics import parse_exposition, value  # noqa: E402

CARD_APPROVE = "5555555555554444"
CARD_DECLINE_05 = "5555555555550012"
CARD_DECLINE_51 = "5555555555550020"
CARD_UNKNOWN_THEN_APPROVED = "5555555555550087"
CARD_UNKNOWN_THEN_DECLINED = "5555555555550095"
CARD_PENDING_THEN_APPROVED = "5555555555550103"
CARD_SLOW = "5555555555550111"          # answered 10 s after the transfer is recorded
CARD_RESET_AFTER = "5555555555550137"   # recorded, then the connection is reset


class MastercardRailTest(BerekeRailTestCase):
    DOUBLE = MastercardSendDouble
    RAIL = "mastercard"
    SCHEME = "MASTERCARD"
    RAIL_KEYS = {"timeout_ms": 2000, "not_found_after_ms": 3000, "breaker_failures": 50,
                 "breaker_open_ms": 200}

    def assertTransferredOnce(self, order_id, amount, status="APPROVED"):
        """One disbursement under the order's id, as the Disbursements API received it; nothing
        at the person-to-person Payment Transfer API."""
        record = self.double.disbursements(order_id)
        d = record["disbursement"]
        self.assertIsNotNone(d, record)
        self.assertEqual((d["disbursement_reference"], d["amount"], d["currency"], d["status"]),
                         (order_id, str(amount), "KZT", status), record)
        self.assertEqual((d["payment_type"], d["funding_source"]), ("BDB", "DEPOSIT_ACCOUNT"), record)
        self.assertRegex(d["recipient_account_uri"], r"^pan:\*+\d{4}$", record)  # masked
        self.assertEqual(self.double.transfers(order_id)["received"]["POST"], 0)
        return d

    def assertPaid(self, order, amount, api=None):
        api = api or self.api
        j = api.bereke_wait(order, "2")
        [op] = j["operationList"]
        self.assertEqual((op["resultCode"], op["amount"]), (0, amount), j)
        t = self.assertTransferredOnce(j["orderId"], amount)
        self.assertRegex(op["refNum"], r"^\d{12}$")
        return j, t

    def test_an_approved_transfer_pays_the_card_once(self):
        order = unique("mc-ok")
        r = self.perform(order, CARD_APPROVE, 1500)
        self.assertEqual((r.status, r.json["errorCode"], r.json["orderStatus"]), (200, "0", "2"), r.raw)
        [op] = r.json["operationList"]
        self.assertEqual(op["resultCode"], 0)
        self.assertEqual(op["panMaskedTo"], "555555XXXXXX4444")
        self.assertTransferredOnce(r.json["orderId"], 1500)
        self.assertEqual(self.double.disbursements(r.json["orderId"])["received"]["POST"], 1)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 1500)
        again = self.perform(order, CARD_APPROVE, 1500)  # a retry: answered from the order
        self.assertEqual(again.json["operationList"], r.json["operationList"])
        self.assertEqual(self.double.disbursements(r.json["orderId"])["received"]["POST"], 1)
        # The admin API counts the connector's calls by outcome, with their latency.
        mc = self.rail_stats()
        self.assertEqual(mc["credits"]["approved"], 1, mc)
        self.assertEqual(sum(mc["latencyMs"].values()), 1, mc)
        # The simulated network keeps no connector counters.
        self.assertNotIn("credits", self.rail_stats("sandbox"))
        # The same counters, in the Prometheus metrics.
        status, _, text = self.server.scrape()
        self.assertEqual(status, 200, text)
        samples = parse_exposition(text)
        self.assertEqual(value(samples, "payoutd_rail_calls_total", rail=self.RAIL, call="credit",
                               outcome="approved"), 1, text)
        self.assertEqual(value(samples, "payoutd_rail_call_duration_seconds_count", rail=self.RAIL),
                         1, text)
        self.assertFalse([k for k in samples if ("rail", "sandbox") in k[1]])

    def test_declines_come_back_with_nothing_moved(self):
        for pan in (CARD_DECLINE_05, CARD_DECLINE_51):
            r = self.perform(unique("mc-dcl"), pan, 1600)
            self.assertEqual((r.status, r.json["orderStatus"]), (200, "6"), r.raw)
            [op] = r.json["operationList"]
            self.assertEqual(op["resultCode"], 1, r.raw)
            self.assertEqual(self.assertTransferredOnce(r.json["orderId"], 1600, "DECLINED")["status"],
                             "DECLINED")
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE)

    def test_an_order_without_the_recipients_name_is_declined_before_sending(self):
        r = self.perform(unique("mc-noname"), CARD_APPROVE, 1700, client={"clientId": "c-2"})
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "6"), r.raw)
        self.assertIsNone(self.double.disbursements(r.json["orderId"])["disbursement"])
        self.assertIsNone(self.double.transfers(r.json["orderId"])["transfer"])
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE)

    def test_unknown_and_pending_transfers_are_asked_until_final(self):
        # Mastercard's UNKNOWN is an unknown outcome: the partner hears the Bereke API's own
        # 504/91 (the amount stays reserved, the outcome comes later); PENDING is in flight.
        cases = ((CARD_UNKNOWN_THEN_APPROVED, "2", 504), (CARD_PENDING_THEN_APPROVED, "2", 200),
                 (CARD_UNKNOWN_THEN_DECLINED, "6", 504))
        orders = []
        for pan, final, first in cases:
            order = unique("mc-unk")
            r = self.perform(order, pan, 1800)
            self.assertEqual(r.status, first, r.raw)
            self.assertEqual(r.json.get("orderStatus") if first == 200 else r.json["errorCode"],
                             "1" if first == 200 else "91", r.raw)
            orders.append((order, final))
        spent = 0
        for order, final in orders:
            j = self.api.bereke_wait(order, final)
            self.assertEqual(self.double.disbursements(j["orderId"])["received"]["POST"], 1)
            spent += 1800 if final == "2" else 0
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - spent)

    def test_a_timeout_after_the_transfer_is_reconciled_by_retrieval(self):
        for pan in (CARD_SLOW, CARD_RESET_AFTER):
            order = unique("mc-late")
            r = self.perform(order, pan, 1900)
            self.assertEqual((r.status, r.json["errorCode"], r.json["errorMessage"]),
                             (504, "91", "Timeout when requesting mastercard-card-rail"), r.raw)
            self.assertPaid(order, 1900)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2 * 1900)

    def test_a_network_that_cannot_be_reached_is_paid_once_when_it_is_back(self):
        self.double.stop()
        order = unique("mc-down")
        r = self.perform(order, CARD_APPROVE, 2100)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "1"), r.raw)  # in flight
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2100)  # still reserved
        time.sleep(1.5)
        self.double.start()
        self.assertPaid(order, 2100)
        self.assertEqual(self.api.bereke_balance(), TRANSIT_BALANCE - 2100)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)


class MastercardRailCrashTest(MastercardRailTest):
    """The double answers 1.5 s late: time to kill payoutd while a transfer is on the wire."""
    LATENCY_MS = 1500

    # The scenarios above are MastercardRailTest's; this class runs only the crash.
    test_an_approved_transfer_pays_the_card_once = None
    test_declines_come_back_with_nothing_moved = None
    test_an_order_without_the_recipients_name_is_declined_before_sending = None
    test_unknown_and_pending_transfers_are_asked_until_final = None
    test_a_timeout_after_the_transfer_is_reconciled_by_retrieval = None
    test_a_network_that_cannot_be_reached_is_paid_once_when_it_is_back = None

    def test_a_kill_during_the_transfer_pays_once(self):
        order = unique("mc-kill")
        # Reserved, and the double holds the transfer's answer.
        api = self.kill_during_perform(order, CARD_APPROVE, 2200, after_s=0.7)
        j, _ = self.assertPaid(order, 2200, api=api)
        self.assertEqual(api.bereke_balance(), TRANSIT_BALANCE - 2200)
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
