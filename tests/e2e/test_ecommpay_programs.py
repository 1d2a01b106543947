"""The card programs' requirements on Payment Page (seed 002, docs/ecommpay.md "Program
requirements"): a Visa card issued in Canada needs the recipient's location, asked on an extra
page when the link lacks it; MoneySend with a person as sender needs both parties' data, else the
payout is declined with code 319. The parties travel with the credit to the card network."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ECOMMPAY_PROJECT, ECOMMPAY_PERSON  # noqa: E402
from test_ecommpay_page import PageTestCase, form, page_query  # noqa: E402
from test_ecommpay_registration import Receiver, assert_signed  # noqa: E402

CANADA = "4000000000000127"
LOCATION = {"recipient_country": "CA", "recipient_state": "ON", "recipient_city": "Toronto",
            "recipient_address": "100 Queen St W"}
MONEYSEND = {"recipient_first_name": "Prostetnik", "recipient_last_name": "Jeltz",
             "sender_first_name": "Arthur", "sender_last_name": "Dent", "sender_wallet_id": "5555-dent",
             "sender_country": "GB", "sender_city": "Cottington", "sender_address": "155 Country Lane"}


class ProgramsTest(PageTestCase):

    def open_page(self, receiver, project=ECOMMPAY_PROJECT, **link):
        payment_id, uuid = self.register(self.api, receiver, project)
        query = page_query(payment_id, uuid, project=project, **link)
        r = self.api.request("GET", "/payment?" + query, auth=None)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'name="link"', r.raw)
        return payment_id, uuid, query

    def card(self, uuid, query, pan, **extra):
        return form(self.api, "/payment/card",
                    {"uuid": uuid, "lang": "en", "pan": pan, "cardholder": "P JELTZ", "link": query, **extra})

    def confirm(self, uuid, project=ECOMMPAY_PROJECT):
        code, _ = self.sink_code(self.server, uuid)
        r = form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code}, project=project)
        self.assertEqual(r.status, 303, r.raw)

    def mails_of(self, server, uuid):
        mail = os.path.join(server.data_dir, "mail")
        found = []
        for name in os.listdir(mail) if os.path.isdir(mail) else []:
            with open(os.path.join(mail, name), encoding="utf-8") as f:
                if f"Message-ID: <{uuid}." in f.read():
                    found.append(name)
        return found

    def test_a_canadian_visa_card_asks_for_the_recipients_location_before_the_code(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        payment_id, uuid, query = self.open_page(receiver, recipient_city="Toronto")
        r = self.card(uuid, query, CANADA)
        self.assertEqual(r.status, 200, r.raw)
        page = r.raw.decode()
        self.assertIn('id="location-form"', page)
        self.assertIn('value="Toronto"', page)  # what the link gave is kept
        self.assertIn('id="masked-pan">400000XXXXXX0127<', page)
        self.assertEqual(self.mails_of(self.server, uuid), [], "no code before the location is known")
        # Each field is checked; the order stays open.
        for fields, field in ((dict(LOCATION, recipient_country="Canada"), "country"),
                              (dict(LOCATION, recipient_country="XX"), "country"),
                              (dict(LOCATION, recipient_state=""), "state"),
                              (dict(LOCATION, recipient_state="ZZ"), "state"),
                              (dict(LOCATION, recipient_city=" "), "city"),
                              (dict(LOCATION, recipient_address=""), "address")):
            r = form(self.api, "/payment/recipient", {"uuid": uuid, "lang": "en", **fields})
            self.assertEqual(r.status, 422, (field, r.raw))
            self.assertIn(b'id="error"', r.raw)
            self.assertIn(b'id="location-form"', r.raw)
        r = form(self.api, "/payment/recipient", {"uuid": uuid, "lang": "en", **dict(LOCATION, recipient_state="on")})
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(b'id="code-form"', r.raw)
        self.confirm(uuid)
        result = self.callbacks_of(receiver, payment_id, 2)[1]
        self.assertEqual(result["payment"]["status"], "success")
        # Payment Page's uuid is the engine's order id, the network's reference.
        self.assertEqual(self.api.rail_credit(uuid)["parties"], LOCATION)  # "on" as "ON"

    def test_a_location_in_the_link_needs_no_extra_page(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        # A US location needs the state too; a country other than CA or US does not.
        for location in (LOCATION, dict(LOCATION, recipient_country="US", recipient_state="NY"),
                         {"recipient_country": "FR", "recipient_city": "Paris", "recipient_address": "1 Rue X"}):
            payment_id, uuid, query = self.open_page(receiver, **location)
            r = self.card(uuid, query, CANADA)
            self.assertEqual(r.status, 200, r.raw)
            self.assertIn(b'id="code-form"', r.raw)
            self.confirm(uuid)
            self.assertEqual(self.callbacks_of(receiver, payment_id, 2)[1]["payment"]["status"], "success")
            self.assertEqual(self.api.rail_credit(uuid)["parties"], location)
        # A US location without its state is asked again, prefilled.
        payment_id, uuid, query = self.open_page(receiver, recipient_country="US", recipient_city="Albany",
                                                 recipient_address="1 State St")
        r = self.card(uuid, query, CANADA)
        self.assertIn(b'id="location-form"', r.raw)
        self.assertIn(b'value="US"', r.raw)
        # Other cards never see the extra page.
        payment_id, uuid, query = self.open_page(receiver)
        r = self.card(uuid, query, "4242424242424242")
        self.assertIn(b'id="code-form"', r.raw)

    def test_the_link_carrying_the_parties_is_checked(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        # A malformed party in the signed link: the page refuses it.
        payment_id, uuid = self.register(self.api, receiver)
        for bad in ({"recipient_country": "Canada"}, {"recipient_country": "CA", "recipient_state": "NY"},
                    {"sender_city": "x" * 256}, {"recipient_city": "a\x01b"}):
            r = self.api.request("GET", "/payment?" + page_query(payment_id, uuid, **bad), auth=None)
            self.assertEqual(r.status, 400, (bad, r.raw))
        # A link altered after signing, sent back with the card: refused, nothing attached.
        query = page_query(payment_id, uuid, **LOCATION)
        r = self.card(uuid, query.replace("Toronto", "Ottawa"), CANADA)
        self.assertEqual(r.status, 403, r.raw)
        # Another order's link: refused.
        other_id, other_uuid, other_query = self.open_page(receiver, **LOCATION)
        self.assertEqual(self.card(uuid, other_query, CANADA).status, 403)
        # A link without parties: the location is asked.
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": CANADA, "cardholder": "A B"})
        self.assertIn(b'id="location-form"', r.raw)
        # The extra page of an order without a card attached, or of a final one, moves nothing.
        fresh_id, fresh_uuid = self.register(self.api, receiver)
        r = form(self.api, "/payment/recipient", {"uuid": fresh_uuid, "lang": "en", **LOCATION})
        self.assertEqual(r.status, 422, r.raw)
        self.assertEqual(self.mails_of(self.server, fresh_uuid), [])

    def test_moneysend_with_a_person_as_sender_needs_the_parties(self):
        # The sandbox's project 91351: a person sends its payouts (shared/spec/sandbox.md).
        person = ECOMMPAY_PERSON
        receiver = Receiver()
        self.addCleanup(receiver.close)
        # A Mastercard card without the sender's data: declined with 319, nothing reserved.
        payment_id, uuid, query = self.open_page(receiver, person, recipient_first_name="Prostetnik",
                                                 recipient_last_name="Jeltz")
        r = self.card(uuid, query, "5555555555554444")
        self.assertEqual(r.status, 303, r.raw)
        result = self.callbacks_of(receiver, payment_id, 2)[1]
        assert_signed(self, result, person)
        self.assertEqual((result["payment"]["status"], result["operation"]["code"], result["operation"]["message"]),
                         ("decline", "319", "There is not enough data to create an operation"))
        page = self.api.request("GET", r.headers["location"], auth=None)
        self.assertIn(b"details that the card&#39;s program needs are missing", page.raw)
        self.assertIsNone(self.api.rail_credit(uuid))
        # Each missing piece declines: the sender's location (state for US), account, names.
        for missing in ("sender_wallet_id", "sender_city", "recipient_last_name", "sender_first_name"):
            link = {k: v for k, v in MONEYSEND.items() if k != missing}
            payment_id, uuid, query = self.open_page(receiver, person, **link)
            self.assertEqual(self.card(uuid, query, "5555555555554444").status, 303, missing)
            self.assertEqual(self.callbacks_of(receiver, payment_id, 2)[1]["operation"]["code"], "319", missing)
        payment_id, uuid, query = self.open_page(receiver, person, **dict(MONEYSEND, sender_country="US"))
        self.assertEqual(self.card(uuid, query, "5555555555554444").status, 303)
        # With them all, the payout goes on, and the network receives them.
        payment_id, uuid, query = self.open_page(receiver, person, **MONEYSEND)
        r = self.card(uuid, query, "5555555555554444")
        self.assertIn(b'id="code-form"', r.raw)
        self.confirm(uuid, person)
        self.assertEqual(self.callbacks_of(receiver, payment_id, 2)[1]["payment"]["status"], "success")
        self.assertEqual(self.api.rail_credit(uuid)["parties"], MONEYSEND)
        # A Visa card is not MoneySend: it pays without them.
        payment_id, uuid, query = self.open_page(receiver, person)
        self.assertIn(b'id="code-form"', self.card(uuid, query, "4111111111111111").raw)
        # The merchant-sender project 91348 pays the same Mastercard card without the sender's data.
        payment_id, uuid, query = self.open_page(receiver, recipient_first_name="Prostetnik",
                                                 recipient_last_name="Jeltz")
        self.assertIn(b'id="code-form"', self.card(uuid, query, "5555555555554444").raw)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
