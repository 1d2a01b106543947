"""ecommpay payouts through the Mastercard Send connector (docs/rails.md), end to end: a payout
registered through the Gate API and confirmed on Payment Page with a Mastercard card goes to the
project's `mastercard-send` rail, over TLS to the Mastercard Send test double, and its answer
comes back in the signed result callback: success with the network's answer, or a decline."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PROJECT  # noqa: E402
from network_doubles import MastercardSendDouble  # noqa: E402
from rail_cases import EcommpayRailTestCase  # noqa: E402
from test_ecommpay_registration import assert_signed  # noqa: E402

CARD_APPROVE = "5555555555554444"
CARD_DECLINE_51 = "5555555555550020"


class EcommpayMastercardRailTest(EcommpayRailTestCase):
    DOUBLE = MastercardSendDouble
    RAIL = "mastercard"
    SCHEME = "MASTERCARD"

    def test_a_payout_confirmed_on_the_page_is_paid_through_mastercard_send(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7000, pan=CARD_APPROVE)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success", result)
        [record] = self.double.transfers()  # the one transfer of this payout
        t = record["transfer"]
        self.assertEqual((t["amount"], t["currency"], t["status"], record["received"]["POST"]),
                         ("7000", "EUR", "APPROVED", 1), record)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_a_decline_of_the_network_comes_back_in_the_callback(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7100,
                                       pan=CARD_DECLINE_51)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "decline", result)
        [record] = self.double.transfers()
        self.assertEqual((record["transfer"]["status"], record["transfer"]["amount"]),
                         ("DECLINED", "7100"), record)


if __name__ == "__main__":
    unittest.main()
