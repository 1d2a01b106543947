"""ecommpay payouts through the Mastercard Send connector (docs/rails.md), end to end: a payout
registered through the Gate API and confirmed on Payment Page with a Mastercard card goes to the
project's `mastercard-send` rail, over TLS to the Mastercard Send test double, and its answer
comes back in the signed result callback: success with the network's answer, or a decline. The
project's sender chooses Mastercard's API: the merchant pays (project 91348, `sender = "merchant"`)
through the Disbursements API; persons send (project 91351, `sender = "person"`) through the
person-to-person Payment Transfer API, with the sender's names and wallet from the link."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PERSON, ECOMMPAY_PROJECT  # noqa: E402
from network_doubles import MastercardSendDouble  # noqa: E402
from rail_cases import ECOMMPAY_TENANT, EcommpayRailTestCase  # noqa: E402
from test_ecommpay_page import form, page_query  # noqa: E402
from test_ecommpay_registration import assert_signed  # noqa: E402

CARD_APPROVE = "5555555555554444"
CARD_DECLINE_51 = "5555555555550020"
# The parties MoneySend needs when a person sends (test_ecommpay_programs.py).
MONEYSEND = {"recipient_first_name": "Prostetnik", "recipient_last_name": "Jeltz",
             "sender_first_name": "Arthur", "sender_last_name": "Dent", "sender_wallet_id": "5555-dent",
             "sender_country": "GB", "sender_city": "Cottington", "sender_address": "155 Country Lane"}


class EcommpayMastercardRailTest(EcommpayRailTestCase):
    DOUBLE = MastercardSendDouble
    RAIL = "mastercard"
    SCHEME = "MASTERCARD"
    TENANTS = (ECOMMPAY_TENANT, f"ecommpay:{ECOMMPAY_PERSON}")

    def test_a_payout_confirmed_on_the_page_is_paid_through_mastercard_send(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7000, pan=CARD_APPROVE)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success", result)
        # The merchant pays: one disbursement (BDB, from its deposit account), no transfer.
        [record] = self.double.disbursements()
        d = record["disbursement"]
        self.assertEqual((d["amount"], d["currency"], d["status"], record["received"]["POST"]),
                         ("7000", "EUR", "APPROVED", 1), record)
        self.assertEqual((d["payment_type"], d["funding_source"], d["sender_account_uri"]),
                         ("BDB", "DEPOSIT_ACCOUNT", "acct-ref:payoutd-e2e-funding"), record)
        self.assertEqual(self.double.transfers(), [])
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_a_decline_of_the_network_comes_back_in_the_callback(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7100,
                                       pan=CARD_DECLINE_51)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "decline", result)
        [record] = self.double.disbursements()
        self.assertEqual((record["disbursement"]["status"], record["disbursement"]["amount"]),
                         ("DECLINED", "7100"), record)
        self.assertEqual(self.double.transfers(), [])

    def pay_as_a_person(self, pan):
        """A payout of the person-sender project, its link carrying the parties MoneySend needs,
        confirmed on the page: its result callback."""
        payment_id, uuid = self.register(self.api, self.receiver, ECOMMPAY_PERSON)
        query = page_query(payment_id, uuid, project=ECOMMPAY_PERSON, **MONEYSEND)
        self.assertEqual(self.api.request("GET", "/payment?" + query, auth=None).status, 200)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": pan,
                                             "cardholder": "P JELTZ", "link": query})
        self.assertIn(b'id="code-form"', r.raw)
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code},
                 project=ECOMMPAY_PERSON)
        self.assertEqual(r.status, 303, r.raw)
        return self.callbacks_of(self.receiver, payment_id, 2)[1]

    def test_a_person_senders_payout_is_a_person_to_person_transfer_with_the_senders_names(self):
        result = self.pay_as_a_person(CARD_APPROVE)
        assert_signed(self, result, ECOMMPAY_PERSON)
        self.assertEqual(result["payment"]["status"], "success", result)
        [record] = self.double.transfers()
        t = record["transfer"]
        self.assertEqual((t["amount"], t["currency"], t["status"], record["received"]["POST"]),
                         ("7000", "EUR", "APPROVED", 1), record)
        self.assertEqual((t["payment_type"], t["funding_source"], t["sender_account_uri"]),
                         ("P2P", "DEBIT", "acct-ref:5555-dent"), record)
        self.assertEqual((t["sender"], t["recipient"]),
                         ({"first_name": "Arthur", "last_name": "Dent"},
                          {"first_name": "Prostetnik", "last_name": "Jeltz"}), record)
        self.assertEqual(self.double.disbursements(), [])
        # A decline of a person's transfer comes back the same way.
        declined = self.pay_as_a_person(CARD_DECLINE_51)
        self.assertEqual(declined["payment"]["status"], "decline", declined)
        self.assertEqual(len(self.double.transfers()), 2)
        self.assertEqual(self.double.disbursements(), [])
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
