"""The ways a merchant opens ecommpay's Payment Page (seed 002, "Организация взаимодействия";
docs/ecommpay.md, "Opening Payment Page"): the signed parameters POSTed by an HTML form to /payment
open the same page as the link and are refused with the same errors; the widget's frame modes
let the page be framed, the link's page never; the widget's script and stylesheet are served at
ecommpay's paths for pages of other origins."""
import glob
import html
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PROJECT, ECOMMPAY_SECRETS, ecommpay_sign  # noqa: E402
from test_ecommpay_page import PageTestCase, form, page_query  # noqa: E402
from test_ecommpay_registration import Receiver, assert_signed  # noqa: E402

FORM_TYPE = "application/x-www-form-urlencoded"
BAD_LINK = b"This payout link is not valid"


def signed(payment_id, uuid, drop=(), secret=ECOMMPAY_SECRETS[ECOMMPAY_PROJECT], **extra):
    """The page's parameters (those of the seed's example), less `drop`, with `extra`, signed."""
    params = {"mode": "payout", "project_id": str(ECOMMPAY_PROJECT), "payment_id": payment_id, "uuid": uuid,
              "customer_id": "16061314", "customer_email": "p.jeltz@mail.com", "payment_amount": "7000",
              "payment_currency": "EUR", **extra}
    for name in drop:
        params.pop(name)
    params["signature"] = ecommpay_sign(secret, params)
    return urllib.parse.urlencode(params)


class OpenTestCase(PageTestCase):

    def post_page(self, body, content_type=FORM_TYPE):
        """POSTs `body` to /payment as `content_type`."""
        headers = {"Content-Type": content_type}
        return self.api.request("POST", "/payment", raw_body=body.encode() if isinstance(body, str) else body,
                                auth=None, headers=headers)

    def get_page(self, query):
        return self.api.request("GET", "/payment?" + query, auth=None)

    def hidden_link(self, page):
        m = re.search(rb'name="link" value="([^"]*)"', page.raw)
        self.assertIsNotNone(m, page.raw[:400])
        return html.unescape(m.group(1).decode())

    def assertNotFramed(self, r):
        self.assertEqual(r.headers.get("x-frame-options"), "DENY", r.headers)
        self.assertIn("frame-ancestors 'none'", r.headers["content-security-policy"])

    def assertFramed(self, r):
        self.assertNotIn("x-frame-options", r.headers)
        csp = r.headers["content-security-policy"]
        self.assertIn("frame-ancestors *", csp)
        self.assertNotIn("frame-ancestors 'none'", csp)
        self.assertIn("default-src 'none'", csp)  # everything else stays as strict

    def assertNothingHappened(self, receiver, payment_id, uuid):
        """The order is still as registered: no card, no code mailed, no callback but the
        registration's; its link still opens the card page."""
        r = self.get_page(page_query(payment_id, uuid))
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertIn(b'id="card-form"', r.raw)
        time.sleep(0.3)
        mails = glob.glob(os.path.join(self.server.data_dir, "mail", "*.eml"))
        self.assertFalse([m for m in mails if uuid in open(m, encoding="utf-8").read()])
        self.assertEqual(len(self.callbacks_of(receiver, payment_id, 1)), 1)
        self.assertAuditClean()


class FormPostTest(OpenTestCase):

    def test_a_form_post_opens_the_page_and_the_payout_completes(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        body = signed(payment_id, uuid, payment_description="Poetry prize", language_code="ru")
        r = self.post_page(body, FORM_TYPE + "; charset=UTF-8")
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        self.assertIn(b'id="amount">70.00 EUR<', r.raw)
        self.assertIn(b'id="description">Poetry prize<', r.raw)
        self.assertIn('Номер карты'.encode(), r.raw)  # language_code from the body
        self.assertNotFramed(r)
        self.assertNotIn("access-control-allow-origin", r.headers)
        # The page's forms carry back the parameters that opened it: the posted body.
        link = self.hidden_link(r)
        self.assertEqual(link, body)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "ru", "link": link,
                                             "pan": "4111111111111111", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw[:400])
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "ru", "link": link, "code": code})
        self.assertEqual(r.status, 303, r.raw[:400])
        self.assertTrue(r.headers["location"].startswith("/payment/result?uuid="), r.headers)
        registration, result = receiver.wait(2)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success")
        # Posted again, the same parameters lead to the result, as the link does.
        again = self.post_page(body)
        self.assertEqual(again.status, 303)
        self.assertEqual(again.headers["location"], r.headers["location"])
        self.assertAuditClean()

    def test_a_form_post_is_refused_as_the_link_is_and_changes_nothing(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        other_secret = ECOMMPAY_SECRETS[ECOMMPAY_PROJECT] + "-not"
        cases = [
            ("signed with another key", signed(payment_id, uuid, secret=other_secret), 403),
            ("no signature", re.sub(r"&signature=[^&]*", "", signed(payment_id, uuid)), 403),
            ("a value changed after signing", signed(payment_id, uuid).replace("payment_amount=7000",
                                                                                "payment_amount=7001"), 403),
            ("no mode", signed(payment_id, uuid, drop=("mode",)), 403),
            ("no project", signed(payment_id, uuid, drop=("project_id",)), 403),
            ("no uuid", signed(payment_id, uuid, drop=("uuid",)), 404),
            ("no customer_email", signed(payment_id, uuid, drop=("customer_email",)), 400),
            ("no payment_amount", signed(payment_id, uuid, drop=("payment_amount",)), 400),
            ("another amount, signed", signed(payment_id, uuid, payment_amount="7001"), 400),
            ("a time limit", signed(payment_id, uuid, best_before="2030-01-01T00:00:00+0000"), 400),
            ("a malformed escape", signed(payment_id, uuid) + "&x=%zz", 400),
        ]
        for name, params, status in cases:
            with self.subTest(name):
                posted = self.post_page(params)
                self.assertEqual(posted.status, status, posted.raw[:400])
                self.assertTrue(posted.headers["content-type"].startswith("text/html"), posted.headers)
                self.assertNotFramed(posted)
                linked = self.get_page(params)
                self.assertEqual((linked.status, linked.raw), (posted.status, posted.raw))
        self.assertNothingHappened(receiver, payment_id, uuid)

    def test_a_body_that_is_not_a_form_or_too_long_is_refused(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        good = signed(payment_id, uuid)
        as_json = "{" + ",".join(f'"{k}":"{v}"' for k, v in urllib.parse.parse_qsl(good)) + "}"
        # Padding signed with the rest: only the length is wrong.
        long_body = signed(payment_id, uuid, merchant_data="x" * (16 * 1024))
        huge_body = signed(payment_id, uuid, merchant_data="x" * (80 * 1024))  # over the server's limit
        cases = [
            ("JSON", as_json, "application/json", 415),
            ("the form as JSON's type", good, "application/json", 415),
            ("multipart", good, "multipart/form-data; boundary=x", 415),
            ("over 16 KiB", long_body, FORM_TYPE, 413),
            ("over the server's body limit", huge_body, FORM_TYPE, 413),
        ]
        for name, body, content_type, status in cases:
            with self.subTest(name):
                r = self.post_page(body, content_type)
                self.assertEqual(r.status, status, r.raw[:400])
                self.assertTrue(r.headers["content-type"].startswith("text/html"), r.headers)
                self.assertIn(BAD_LINK, r.raw)
        self.assertEqual(self.server.health(), 200)
        # Just under the bound, the same parameters open the page.
        unpadded = len(signed(payment_id, uuid, merchant_data=""))
        fits = signed(payment_id, uuid, merchant_data="x" * (16 * 1024 - unpadded - 200))
        self.assertLessEqual(len(fits), 16 * 1024)
        self.assertEqual(self.post_page(fits).status, 200)
        self.assertNothingHappened(receiver, payment_id, uuid)


class FramingTest(OpenTestCase):

    def test_only_the_widgets_frame_modes_let_the_page_be_framed(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        self.assertNotFramed(self.get_page(signed(payment_id, uuid)))
        self.assertNotFramed(self.get_page(signed(payment_id, uuid) + "&frame_mode=tab"))
        # frame_mode is left out of the signature: the widget adds it to the signed parameters.
        self.assertFramed(self.get_page(signed(payment_id, uuid) + "&frame_mode=iframe"))
        body = signed(payment_id, uuid) + "&frame_mode=popup"
        page = self.post_page(body)
        self.assertEqual(page.status, 200, page.raw[:400])
        self.assertFramed(page)
        # Every page after it, opened by its forms, may be framed too, and so may the result.
        link = self.hidden_link(page)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "link": link,
                                             "pan": "4111111111111111", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertFramed(r)
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "link": link, "code": code})
        self.assertEqual(r.status, 303, r.raw[:400])
        self.assertFramed(r)
        location = r.headers["location"]
        self.assertTrue(location.startswith("/payment/result?uuid=") and location.endswith("&frame_mode=popup"))
        self.assertFramed(self.api.request("GET", location, auth=None))
        self.assertNotFramed(self.api.request("GET", location.replace("&frame_mode=popup", ""), auth=None))
        self.assertEqual(receiver.wait(2)[1]["payment"]["status"], "success")


class WidgetFilesTest(OpenTestCase):

    def test_the_script_and_stylesheet_at_ecommpays_paths(self):
        for path, kind, text in (("/shared/merchant.js", "text/javascript", b"EPayWidget"),
                                 ("/shared/merchant.css", "text/css", b".epaywidget-modal")):
            with self.subTest(path):
                r = self.api.request("GET", path, auth=None)
                self.assertEqual(r.status, 200, r.raw[:200])
                self.assertTrue(r.headers["content-type"].startswith(kind), r.headers)
                self.assertIn(text, r.raw)
                self.assertEqual(r.headers["access-control-allow-origin"], "*")
                self.assertEqual(r.headers["cross-origin-resource-policy"], "cross-origin")
                self.assertEqual(r.headers["x-content-type-options"], "nosniff")
                head = self.api.request("HEAD", path, auth=None)
                self.assertEqual(head.status, 200)
        self.assertEqual(self.api.request("GET", "/shared/other.js", auth=None).status, 404)


if __name__ == "__main__":
    unittest.main()
