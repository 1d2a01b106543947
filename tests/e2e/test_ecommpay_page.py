"""ecommpay's Payment Page in payout mode over HTTP (seed 002, docs/ecommpay.md): the signed link,
its refusals, the card, the verification code from the mail sink (and through a real SMTP server
on loopback), the confirmation, and the result callback."""
import glob
import os
import re
import socketserver
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, ECOMMPAY_PROJECT, ECOMMPAY_SECRETS, Api, IsolatedServerTestCase,  # noqa: E402
                     ecommpay_sign, unique)
from test_ecommpay_registration import FAST_RETRIES, Receiver, assert_signed  # noqa: E402

CODE_RE = re.compile(r"Your verification code: (\d{6})")


def json_of(raw):
    import json
    return json.loads(raw)


def page_query(payment_id, uuid, amount=7000, project=ECOMMPAY_PROJECT, secret=None, **extra):
    params = {"mode": "payout", "project_id": str(project), "payment_id": payment_id,
              "uuid": uuid, "customer_id": "16061314", "customer_email": "p.jeltz@mail.com",
              "payment_amount": str(amount), "payment_currency": "EUR", **extra}
    params["signature"] = ecommpay_sign(secret or ECOMMPAY_SECRETS[project], params)
    return urllib.parse.urlencode(params)


def signed_link(uuid, project=ECOMMPAY_PROJECT):
    """The least a page's form carries back: a link of the project, in payout mode, for the order,
    signed with the project's key (the page's own forms carry the whole link that opened it)."""
    params = {"mode": "payout", "project_id": str(project), "uuid": uuid}
    params["signature"] = ecommpay_sign(ECOMMPAY_SECRETS[project], params)
    return urllib.parse.urlencode(params)


def form(api, path, fields, link=True, project=ECOMMPAY_PROJECT):
    """POSTs a page's form. Unless `fields` has a link, a link of the project for its uuid's order
    is added, signed (link=False: none, as a stranger who knows only the uuid would post)."""
    if link and "link" not in fields and "uuid" in fields:
        fields = dict(fields, link=signed_link(fields["uuid"], project))
    return api.request("POST", path, raw_body=urllib.parse.urlencode(fields).encode(), auth=None,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


class SmtpServer:
    """A minimal SMTP server on loopback, without STARTTLS, that keeps every message it accepts
    (`messages`) and the verb of every command it was sent (`commands`)."""

    def __init__(self):
        self.messages = []
        self.commands = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 test ESMTP\r\n")
                data, in_data = [], False
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace")
                    if in_data:
                        if line in (".\r\n", ".\n"):
                            outer.messages.append("".join(data))
                            data, in_data = [], False
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            data.append(line[1:] if line.startswith("..") else line)
                        continue
                    verb = line[:4].upper()
                    outer.commands.append(verb)
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250 test\r\n")
                    elif verb == "DATA":
                        in_data = True
                        self.wfile.write(b"354 go on\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"smtp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PageTestCase(IsolatedServerTestCase):
    """A fresh server per test, with the page's helpers: register, read the code, pay."""

    def new_server(self, start=True, **kw):
        kw.setdefault("config_replace", FAST_RETRIES)
        return super().new_server(start=start, **kw)

    def register(self, api, receiver, project=ECOMMPAY_PROJECT):
        payment_id = unique("pp")
        self.assertEqual(api.ecommpay_register(payment_id, project=project, callback_url=receiver.url).status, 200)
        return payment_id, self.callbacks_of(receiver, payment_id, 1)[0]["uuid"]

    def sink_code(self, server, uuid, timeout=10.0):
        """The code of the order's latest mail (its Message-ID names the order)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(glob.glob(os.path.join(server.data_dir, "mail", "*.eml")), reverse=True):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                m = CODE_RE.search(text)
                if m and "To: <p.jeltz@mail.com>" in text and f"Message-ID: <{uuid}." in text:
                    return m.group(1), text
            time.sleep(0.05)
        raise AssertionError("no code in the mail sink")

    def pay_through_page(self, api, server, receiver, amount, pan="4111111111111111"):
        payment_id = unique("pp")
        self.assertEqual(api.ecommpay_register(payment_id, amount=amount, callback_url=receiver.url).status, 200)
        uuid = self.callbacks_of(receiver, payment_id, 1)[0]["uuid"]
        r = form(api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": pan, "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        code, _ = self.sink_code(server, uuid)
        r = form(api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303, r.raw)
        return self.callbacks_of(receiver, payment_id, 2)[1]

    @staticmethod
    def callbacks_of(receiver, payment_id, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [json_of(b) for b in receiver.bodies() if json_of(b)["general"]["payment_id"] == payment_id]
            if len(mine) >= count:
                return mine
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} callbacks for {payment_id}")


class PaymentPageTest(PageTestCase):

    def test_the_whole_payout_through_the_page(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        r = self.api.request("GET", "/payment?" + page_query(payment_id, uuid, payment_description="Prize"), auth=None)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'id="amount">70.00 EUR<', r.raw)
        self.assertIn(b'id="description">Prize<', r.raw)
        self.assertIn("default-src 'none'", r.headers["content-security-policy"])
        self.assertRegex(r.raw.decode(), r'data-remaining="(17|18)\d\d"')
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111 1111 1111 1111",
                                             "cardholder": "Prostetnik Jeltz"})
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b"p.j***@mail.com", r.raw)
        self.assertNotIn(b"4111111111111111", r.raw)
        code, mail = self.sink_code(self.server, uuid)
        self.assertIn("Subject: Your payout verification code", mail)
        wrong = "000000" if code != "000000" else "111111"
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": wrong})
        self.assertEqual(r.status, 422)
        self.assertIn(b"The code is wrong", r.raw)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303, r.raw)
        self.assertTrue(r.headers["location"].startswith("/payment/result?uuid="))
        registration, result = receiver.wait(2)
        assert_signed(self, result, ECOMMPAY_PROJECT)
        self.assertEqual(result["payment"]["status"], "success")
        self.assertNotIn("account", result)  # not saved: the customer did not ask
        self.assertEqual(result["request_id"], registration["request_id"])
        page = self.api.request("GET", r.headers["location"], auth=None)
        self.assertIn(b'data-status="success"', page.raw)
        # The link now leads to the result; the code cannot be used again.
        again = self.api.request("GET", "/payment?" + page_query(payment_id, uuid), auth=None)
        self.assertEqual(again.status, 303)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertEqual(r.status, 303)
        time.sleep(0.3)
        self.assertEqual(len(receiver.bodies()), 2)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_a_saved_card_pays_the_next_payout(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        # First payout: a new card, saved at the customer's request.
        payment_id, uuid = self.register(self.api, receiver)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "5555555555554444",
                                             "cardholder": "A B", "save": "1"})
        self.assertEqual(r.status, 200, r.raw)
        code, _ = self.sink_code(self.server, uuid)
        self.assertEqual(form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code}).status, 303)
        first = self.callbacks_of(receiver, payment_id, 2)[1]
        self.assertEqual(first["payment"]["status"], "success")
        token = first["account"]["token"]
        self.assertEqual(first["account"]["number"], "555555XXXXXX4444")
        # Second payout: account_token preselects it; no card number is typed.
        payment_id2 = unique("pp")
        self.assertEqual(self.api.ecommpay_register(payment_id2, callback_url=receiver.url).status, 200)
        uuid2 = self.callbacks_of(receiver, payment_id2, 1)[0]["uuid"]
        page = self.api.request("GET", "/payment?" + page_query(payment_id2, uuid2, account_token=token), auth=None)
        self.assertEqual(page.status, 200, page.raw)
        self.assertIn(f'value="{token}" checked'.encode(), page.raw)
        self.assertIn(b"555555XXXXXX4444", page.raw)
        r = form(self.api, "/payment/card", {"uuid": uuid2, "lang": "en", "token": token})
        self.assertEqual(r.status, 200, r.raw)
        code, _ = self.sink_code(self.server, uuid2)
        self.assertEqual(form(self.api, "/payment/code", {"uuid": uuid2, "lang": "en", "code": code}).status, 303)
        second = self.callbacks_of(receiver, payment_id2, 2)[1]
        self.assertEqual(second["payment"]["status"], "success")
        self.assertEqual(second["account"]["token"], token)
        # A card not saved is not offered, and another customer's token is refused.
        payment_id3 = unique("pp")
        other = {"id": "someone-else", "email": "p.jeltz@mail.com", "phone": "1", "ip_address": "1.2.3.4"}
        self.assertEqual(self.api.ecommpay_register(payment_id3, callback_url=receiver.url, customer=other).status, 200)
        uuid3 = self.callbacks_of(receiver, payment_id3, 1)[0]["uuid"]
        r = form(self.api, "/payment/card", {"uuid": uuid3, "lang": "en", "token": token})
        self.assertEqual(r.status, 422, r.raw)

    def test_per_card_limits_decline_with_their_code(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        over = self.pay_through_page(self.api, self.server, receiver, amount=500001)  # > EUR 5 000.00
        self.assertEqual((over["payment"]["status"], over["operation"]["code"], over["operation"]["message"]),
                         ("decline", "3104", "Payment Constraint Invalid Payout Amount"))
        # Five credits per card per day; the sixth is declined, on another card it pays.
        for _ in range(5):
            ok = self.pay_through_page(self.api, self.server, receiver, amount=100, pan="5555555555554444")
            self.assertEqual(ok["payment"]["status"], "success")
        sixth = self.pay_through_page(self.api, self.server, receiver, amount=100, pan="5555555555554444")
        self.assertEqual((sixth["operation"]["code"], sixth["operation"]["message"]),
                         ("3112", "Payment Constraint 24 hour payout operations number exceeded"))
        # EUR 10 000.00 per card per day: 2 x 4 999.00 pay, 3.00 more is over.
        for _ in range(2):
            ok = self.pay_through_page(self.api, self.server, receiver, amount=499900, pan="4242424242424242")
            self.assertEqual(ok["payment"]["status"], "success")
        total = self.pay_through_page(self.api, self.server, receiver, amount=300, pan="4242424242424242")
        self.assertEqual((total["operation"]["code"], total["operation"]["message"]),
                         ("3109", "Payment Constraint Invalid 24 Hour Payout"))
        other = self.pay_through_page(self.api, self.server, receiver, amount=100, pan="4111111111111111")
        self.assertEqual(other["payment"]["status"], "success")
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_an_insufficient_merchant_balance_declines_with_3028(self):
        server = self.new_server(extra_config='''
[[ecommpay.projects]]
id = 91399
secret_key = "test-secret-91399"
allowlist = ["127.0.0.0/8", "::1"]
currency = "EUR"
merchant_balance = "10.00"
''')
        self.server.stop()
        api = Api(server)
        self.addCleanup(api.close)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        ECOMMPAY_SECRETS[91399] = "test-secret-91399"
        payment_id = unique("poor")
        self.assertEqual(api.ecommpay_register(payment_id, project=91399, amount=1001,
                                               callback_url=receiver.url).status, 200)
        uuid = self.callbacks_of(receiver, payment_id, 1)[0]["uuid"]
        self.assertEqual(form(api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111111111111111",
                                                     "cardholder": "A B"}, project=91399).status, 200)
        code, _ = self.sink_code(server, uuid)
        self.assertEqual(form(api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code},
                              project=91399).status, 303)
        result = self.callbacks_of(receiver, payment_id, 2)[1]
        assert_signed(self, result, 91399)
        self.assertEqual((result["payment"]["status"], result["operation"]["code"]), ("decline", "3028"))
        page = api.request("GET", f"/payment/result?uuid={uuid}&lang=en", auth=None)
        self.assertIn(b'data-status="declined"', page.raw)
        rc, out = server.run_audit()
        self.assertEqual(rc, 0, out)

    def test_an_unsaved_card_is_not_offered_again(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111111111111111", "cardholder": "A B"})
        code, _ = self.sink_code(self.server, uuid)
        form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code})
        self.assertNotIn("account", self.callbacks_of(receiver, payment_id, 2)[1])
        payment_id2 = unique("pp")
        self.api.ecommpay_register(payment_id2, callback_url=receiver.url)
        uuid2 = self.callbacks_of(receiver, payment_id2, 1)[0]["uuid"]
        page = self.api.request("GET", "/payment?" + page_query(payment_id2, uuid2), auth=None)
        self.assertEqual(page.status, 200)
        self.assertNotIn(b"saved-pan", page.raw)

    def test_the_link_is_refused_when_it_is_not_the_registrations(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        good = page_query(payment_id, uuid)
        cases = [
            ("bad signature", good.replace("signature=", "signature=x"), 403),
            ("other amount", page_query(payment_id, uuid, amount=7001), 400),
            ("other customer", page_query(payment_id, uuid, customer_id="someone"), 400),
            ("unknown uuid", page_query(payment_id, "00000000-0000-4000-8000-000000000000"), 404),
            ("best_before", page_query(payment_id, uuid, best_before="2030-01-01T00:00:00"), 400),
            ("not payout mode", good.replace("mode=payout", "mode=purchase"), 403),
        ]
        for name, query, status in cases:
            with self.subTest(name):
                r = self.api.request("GET", "/payment?" + query, auth=None)
                self.assertEqual(r.status, status, r.raw[:300])
        self.assertEqual(self.api.request("GET", "/payment?" + good, auth=None).status, 200)

    def test_the_emailed_code_is_sealed_at_rest_and_shown_nowhere(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": "4111111111111111", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        code, mail = self.sink_code(self.server, uuid)
        stored = self.server.stored_bytes()
        self.assertIn(uuid.encode(), stored, "the store was read")
        self.assertNotIn(f"Your verification code: {code}".encode(), stored)
        self.assertNotIn(b"Your verification code", stored)
        r = self.api.request("GET", f"/admin/v1/outbox?tenant=ecommpay:{ECOMMPAY_PROJECT}&event={payment_id}:code",
                             auth=ADMIN_TOKEN)
        [m] = r.json["messages"]
        self.assertEqual((m["body"], m["sealed"]), (None, True))
        self.assertNotIn(code.encode(), r.raw)
        # The code still confirms the payout.
        self.assertEqual(form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code}).status, 303)

    def test_every_form_needs_the_signed_link_of_its_order(self):
        # The uuid alone (in callbacks, in the result page's address) opens nothing: each form
        # posts back the link the merchant signed for this very order.
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        other_id, other_uuid = self.register(self.api, receiver)
        card = {"uuid": uuid, "lang": "en", "pan": "4111111111111111", "cardholder": "A B"}
        altered = page_query(payment_id, uuid).replace("customer_id=16061314", "customer_id=16061315")
        foreign = {"mode": "payout", "project_id": "91349", "uuid": uuid}
        foreign["signature"] = ecommpay_sign(ECOMMPAY_SECRETS[91349], foreign)
        cases = [("no link", form(self.api, "/payment/card", card, link=False)),
                 ("an altered link", form(self.api, "/payment/card", dict(card, link=altered))),
                 ("another order's link", form(self.api, "/payment/card", dict(card, link=page_query(other_id, other_uuid)))),
                 ("another project's link", form(self.api, "/payment/card", dict(card, link=urllib.parse.urlencode(foreign)))),
                 ("a link not in payout mode",
                  form(self.api, "/payment/card", dict(card, link=page_query(payment_id, uuid).replace("mode=payout", "mode=purchase")))),
                 ("the extra page without a link",
                  form(self.api, "/payment/recipient", {"uuid": uuid, "lang": "en", "recipient_country": "CA"}, link=False))]
        for name, r in cases:
            with self.subTest(name):
                self.assertIn(r.status, (403, 404), r.raw)
                self.assertNotIn(b"code-form", r.raw)
        time.sleep(0.3)
        self.assertEqual(glob.glob(os.path.join(self.server.data_dir, "mail", "*.eml")), [], "no code was sent")
        # With the link that opened the page, the card is taken; the code form carries the link on.
        link = page_query(payment_id, uuid)
        r = form(self.api, "/payment/card", dict(card, link=link))
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'name="link" value="' + link.replace("&", "&amp;").encode() + b'"', r.raw)
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code}, link=False)
        self.assertEqual(r.status, 403, "the right code without the link confirms nothing")
        self.assertEqual(len(receiver.bodies()), 2, "only the two registrations' callbacks")
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code, "link": link})
        self.assertEqual(r.status, 303, r.raw)
        self.assertEqual(self.callbacks_of(receiver, payment_id, 2)[1]["payment"]["status"], "success")

    def test_each_providers_pages_serve_only_its_own_orders(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        bereke = self.api.bereke("registerPayout.do", {"orderNumber": unique("cross"), "amount": 1234,
                                                       "currency": "398",
                                                       "urls": {"returnUrl": "https://partner.example/ok"}})
        self.assertEqual(bereke.status, 200, bereke.raw)
        order_id = bereke.json["orderId"]
        # The bank's pages do not know an ecommpay order (they once rendered it: "70.00 ₸").
        for name in ("payment_en.html", "finish_en.html"):
            r = self.api.request("GET", f"/payouts/payment/{name}?mdOrder={uuid}", auth=None)
            self.assertEqual(r.status, 404, (name, r.raw[:200]))
            self.assertNotIn("70.00".encode(), r.raw)
        r = self.api.request("POST", "/payouts/payment/confirm", auth=None,
                             raw_body=urllib.parse.urlencode({"mdOrder": uuid, "pan": "4111111111111111",
                                                              "cardholder": "A B", "lang": "en"}).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 404, r.raw[:200])
        # Nor do Payment Page's know a Bereke order, even with a link its project signed.
        r = self.api.request("GET", f"/payment/result?uuid={order_id}&lang=en", auth=None)
        self.assertEqual(r.status, 404, r.raw[:200])
        r = form(self.api, "/payment/card", {"uuid": order_id, "lang": "en", "pan": "4111111111111111",
                                             "cardholder": "A B"})
        self.assertEqual(r.status, 404, r.raw[:200])
        # Each still serves its own.
        self.assertEqual(self.api.request("GET", "/payment?" + page_query(payment_id, uuid), auth=None).status, 200)
        self.assertEqual(self.api.request("GET", f"/payouts/payment/payment_en.html?mdOrder={order_id}",
                                          auth=None).status, 200)

    def test_bad_cards_are_refused_and_the_order_stays_open(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(self.api, receiver)
        for pan, text in (("4111111111111112", b"Check the card number"),
                          ("4999990000000007", b"This card cannot receive payouts")):
            r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": pan, "cardholder": "A B"})
            self.assertEqual(r.status, 422)
            self.assertIn(text, r.raw)
        self.assertEqual(glob.glob(os.path.join(self.server.data_dir, "mail", "*.eml")), [])
        r = self.api.request("GET", "/payment?" + page_query(payment_id, uuid), auth=None)
        self.assertEqual(r.status, 200)

    def test_a_code_travels_through_smtp(self):
        smtp = SmtpServer()
        self.addCleanup(smtp.close)
        server = self.new_server(config_replace=dict(FAST_RETRIES, **{
            '# smtp_url = "smtp://127.0.0.1:2525"': f'smtp_url = "{smtp.url}"'}))
        self.server.stop()
        api = Api(server)
        self.addCleanup(api.close)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid = self.register(api, receiver)
        r = form(api, "/payment/card", {"uuid": uuid, "lang": "ru", "pan": "5555555555554444", "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(smtp.messages), 1)
        code = CODE_RE.search(smtp.messages[0]).group(1)
        r = form(api, "/payment/code", {"uuid": uuid, "lang": "ru", "code": code})
        self.assertEqual(r.status, 303, r.raw)
        _, result = receiver.wait(2)
        self.assertEqual(result["payment"]["status"], "success")
        self.assertEqual(glob.glob(os.path.join(server.data_dir, "mail", "*.eml")), [])


if __name__ == "__main__":
    unittest.main()
