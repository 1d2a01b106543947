"""ecommpay payouts through the Visa Direct connector (docs/rails.md, "Visa Direct"), end to end: a
payout registered through the Gate API and confirmed on Payment Page with a Visa card goes to the
project's `visa-direct` rail, over two-way TLS with HTTP Basic to the Visa Direct test double, and
its answer comes back in the signed result callback: success with the push approved, or a decline
with the network's action code, nothing credited."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PROJECT  # noqa: E402
from network_doubles import VisaDirectDouble  # noqa: E402
from rail_cases import EcommpayRailTestCase  # noqa: E402
from test_ecommpay_registration import assert_signed  # noqa: E402

CARD_APPROVE = "4111111111111111"
CARD_DECLINE_51 = "4111110000000021"  # insufficient funds


class EcommpayVisaRailTest(EcommpayRailTestCase):
    DOUBLE = VisaDirectDouble
    RAIL = "visa"
    SCHEME = "VISA"

    def test_a_payout_confirmed_on_the_page_is_paid_through_visa_direct(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7000, pan=CARD_APPROVE)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success", result)
        [record] = self.double.transactions()  # the one push of this payout
        [t] = record["transactions"]
        self.assertEqual((t["amount"], t["minorUnits"], t["currency"], t["actionCode"],
                          record["credited"], record["received"]["POST"]),
                         ("70.00", 7000, "EUR", "00", 1, 1), record)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_a_decline_of_the_network_comes_back_in_the_callback(self):
        result = self.pay_through_page(self.api, self.server, self.receiver, 7100,
                                       pan=CARD_DECLINE_51)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "decline", result)
        [record] = self.double.transactions()
        [t] = record["transactions"]
        self.assertEqual((t["actionCode"], t["minorUnits"], record["credited"]), ("51", 7100, 0),
                         record)


if __name__ == "__main__":
    unittest.main()
