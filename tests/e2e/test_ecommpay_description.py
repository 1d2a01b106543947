"""payment_description (seed 002, the Payment Page link's parameters, item 7): the description is
shown to the customer on the page with the payout's result and reaches the merchant's staff through
the callbacks and the cabinet (docs/ecommpay.md, "Payment Page"). The link that opens the page gives
it; the payout keeps it from then on: every later page, the result page (success, decline, in
progress), the result callback's `payment.description`, and the cabinet's payout, list and CSV.
HTML in it is shown as text, a CSV cell holding it cannot start a formula, and a link whose
description is too long or holds control characters is refused."""
import csv
import io
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PROJECT  # noqa: E402
from test_cabinet import ECOMMPAY, Browser  # noqa: E402
from test_ecommpay_page import PageTestCase, form, page_query  # noqa: E402
from test_ecommpay_registration import Receiver, assert_signed  # noqa: E402

DESCRIPTION = 'Приз <b>"№1"</b> & co'
SHOWN = 'Приз &lt;b&gt;&quot;№1&quot;&lt;/b&gt; &amp; co'.encode()


class PaymentDescriptionTest(PageTestCase):

    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def open_page(self, payment_id, uuid, **extra):
        return self.api.request("GET", "/payment?" + page_query(payment_id, uuid, **extra), auth=None)

    def result_page(self, uuid):
        return self.api.request("GET", f"/payment/result?uuid={uuid}&lang=en", auth=None)

    def confirm(self, uuid, pan):
        """Enters the card (the form carries back only the least signed link), then the code."""
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": pan, "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303, r.raw)

    def test_the_description_reaches_every_page_the_result_page_and_the_result_callback(self):
        payment_id, uuid = self.register(self.api, self.receiver)
        r = self.open_page(payment_id, uuid, payment_description=DESCRIPTION)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'id="description">' + SHOWN + b"<", r.raw)
        self.assertNotIn(b"<b>", r.raw)
        # The card's page, the code's page and the result page of the open order show it as kept,
        # though the forms carry back a link without it.
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111111111111111",
                                             "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'id="description">' + SHOWN + b"<", r.raw)
        page = self.result_page(uuid)
        self.assertIn(b'data-status="registered"', page.raw)
        self.assertIn(b'id="description">' + SHOWN + b"<", page.raw)
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303, r.raw)
        page = self.api.request("GET", r.headers["location"], auth=None)
        self.assertIn(b'data-status="success"', page.raw)
        self.assertIn(b'id="description">' + SHOWN + b"<", page.raw)
        self.assertIn(b'id="amount">70.00 EUR<', page.raw)
        registration, result = self.receiver.wait(2)
        self.assertNotIn("description", registration["payment"])  # sent before the page opened
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success")
        self.assertEqual(result["payment"]["description"], DESCRIPTION)

    def test_a_declined_and_an_in_progress_payout_show_it_too(self):
        payments = {}
        for pan, status in (("4000000000000002", "declined"), ("4000000000000119", "processing")):
            payment_id, uuid = self.register(self.api, self.receiver)
            payments[status] = payment_id
            description = f"{status} payout"
            self.assertEqual(self.open_page(payment_id, uuid, payment_description=description).status, 200)
            self.confirm(uuid, pan)
            page = self.result_page(uuid)
            self.assertIn(f'data-status="{status}"'.encode(), page.raw)
            self.assertIn(f'id="description">{description}<'.encode(), page.raw)
        declined = self.callbacks_of(self.receiver, payments["declined"], 2)[1]
        self.assertEqual((declined["payment"]["status"], declined["payment"]["description"]),
                         ("decline", "declined payout"))

    def test_a_later_link_replaces_it_and_a_link_without_one_keeps_it(self):
        payment_id, uuid = self.register(self.api, self.receiver)
        self.assertEqual(self.open_page(payment_id, uuid, payment_description="first").status, 200)
        r = self.open_page(payment_id, uuid, payment_description="second")
        self.assertIn(b'id="description">second<', r.raw)
        r = self.open_page(payment_id, uuid)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'id="description">second<', r.raw)

    def test_a_description_too_long_or_with_control_characters_is_refused(self):
        payment_id, uuid = self.register(self.api, self.receiver)
        for bad in ("x" * 256, "д" * 256, "two\nlines", "a\ttab", "del\x7f"):
            r = self.open_page(payment_id, uuid, payment_description=bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn(b"This payout link is not valid", r.raw)
        self.assertNotIn(b'id="description"', self.result_page(uuid).raw)  # none was kept
        r = self.open_page(payment_id, uuid, payment_description="д" * 255)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(('id="description">' + "д" * 255 + "<").encode(), r.raw)

    def test_the_cabinet_shows_it_with_the_payout_in_the_list_and_in_the_csv(self):
        paid, uuid = self.register(self.api, self.receiver)
        self.assertEqual(self.open_page(paid, uuid, payment_description=DESCRIPTION).status, 200)
        self.confirm(uuid, "4111111111111111")
        formula, uuid = self.register(self.api, self.receiver)
        self.assertEqual(self.open_page(formula, uuid, payment_description="=1+2").status, 200)
        plain, _ = self.register(self.api, self.receiver)  # its page never opened: no description
        b = Browser(self.server)
        b.login(*ECOMMPAY)
        _, _, page = b.get(f"/cabinet/payout?kind=card&id={paid}")
        self.assertIn('id="description">' + SHOWN.decode() + "<", page)
        self.assertNotIn("<b>", page.split("<pre>")[0])  # the callbacks' bodies below are text too
        _, _, page = b.get(f"/cabinet/payout?kind=card&id={plain}")
        self.assertNotIn('id="description"', page)
        _, _, page = b.get("/cabinet/payouts")
        rows = dict(re.findall(r'<tr data-id="([^"]+)".*?<td class="description">(.*?)</td></tr>', page))
        self.assertEqual((rows[paid], rows[formula], rows[plain]), (SHOWN.decode(), "=1+2", ""))
        status, _, text = b.get("/cabinet/payouts.csv")
        self.assertEqual(status, 200)
        rows = {r["partner_id"]: r["description"] for r in csv.DictReader(io.StringIO(text))}
        self.assertEqual((rows[paid], rows[formula], rows[plain]), (DESCRIPTION, "'=1+2", ""))


if __name__ == "__main__":
    unittest.main()
