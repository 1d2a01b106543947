"""Bereke partners onboarded at run time (docs/admin.md, "Bereke settings"): a partner
created through the admin API with a generated password, its transit account credited, a card paid
through performPayout.do in the seed's request shape, its settings changed, its password rotated
with an overlap, suspended (new payouts refused in the bank's words, reads go on, nothing moves),
resumed, closed only when empty, all of it kept across a restart, beside the config's partner;
and, on PostgreSQL, a partner created or its password rotated through one node paying through
another at once.
"""
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, BEREKE_PASSWORD, BEREKE_USER, CARD_OK, CARD_UK,  # noqa: E402
                     Api, IsolatedServerTestCase, default_backend, unique)

NO_SETTINGS = {"errorCode": "99", "errorMessage": "No merchant settings available"}
NOT_AUTHENTICATED = {"errorCode": "90", "errorMessage": "User not authenticated"}


def admin(api, method, path, body=None):
    return api.request(method, "/admin/v1/" + path, body=body, auth=ADMIN_TOKEN)


class BerekeTenantsTest(IsolatedServerTestCase):

    def onboard(self, partner, user, **settings):
        r = admin(self.api, "POST", "tenants",
                  {"provider": "bereke", "id": partner, "settings": dict({"userName": user}, **settings)})
        self.assertEqual(r.status, 201, r.raw[:400])
        [issued] = r.json["issuedCredentials"]
        self.assertEqual(issued["kind"], "password")
        # The seed's password is a String [30]: 30 characters of URL-safe base64, 176 bits.
        self.assertRegex(issued["secret"], r"^[A-Za-z0-9_-]{30}$")
        log_scan.remember_secret(issued["secret"])
        return r.json["tenant"], issued["secret"]

    def call(self, method, user, password, **body):
        return self.api.bereke(method, dict({"userName": user, "password": password}, **body))

    def balance(self, user, password):
        r = self.call("getAmount.do", user, password)
        self.assertEqual(r.status, 200, r.raw[:300])
        return r.json["balanceDescriptionList"]["balanceAmount"]

    def perform(self, user, password, amount=5000, pan=CARD_OK, order=None):
        """performPayout.do as seed 003's example sends it (transit account, card number)."""
        return self.call("performPayout.do", user, password, orderNumber=order or unique("bt"),
                         amount=amount, currency="398", description="Payout to a client",
                         target={"card": {"pan": pan}})

    def assert_pays(self, user, password, amount=5000):
        r = self.perform(user, password, amount)
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertEqual((r.json["errorCode"], r.json["orderStatus"]), ("0", "2"), r.raw[:400])
        return r.json

    def assert_not_authenticated(self, user, password):
        r = self.call("getAmount.do", user, password)
        self.assertEqual((r.status, r.json), (401, NOT_AUTHENTICATED), r.raw[:300])

    def test_onboard_pay_rotate_suspend_close_and_restart(self):
        partner, user = unique("bp"), unique("user")[:30]
        tenant, password = self.onboard(partner, user, knp="710", cardCountries=["KZ"])
        self.assertEqual((tenant["status"], tenant["source"]), ("active", "runtime"))
        self.assertEqual(tenant["settings"]["funding"], ["transit", "corporate_card"])
        self.assertEqual(tenant["settings"]["fee"], {"value": "0.00", "currency": "KZT"})
        # Its transit account opens at zero and is credited through the admin API.
        self.assertEqual(self.balance(user, password), 0)
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/funders/transit/credits/cr-1",
                  {"amount": {"value": "1000.00", "currency": "KZT"}})
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(self.balance(user, password), 100_000)
        paid = self.assert_pays(user, password, 5000)
        self.assertEqual(self.balance(user, password), 95_000)
        # The password is its partner's and no other's; the userName must be the partner's own.
        self.assert_not_authenticated(BEREKE_USER, password)
        self.assert_not_authenticated(user, BEREKE_PASSWORD)
        # A card outside its card countries is refused with the seed's row; a settings change
        # applies at once (the fee in the answer, the countries).
        r = self.perform(user, password, pan=CARD_UK)
        self.assertEqual((r.status, r.json["errorCode"]), (400, "98"), r.raw[:300])
        r = admin(self.api, "PATCH", f"tenants/bereke:{partner}",
                  {"settings": {"fee": {"value": "1.50", "currency": "KZT"}}})
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(self.assert_pays(user, password, 1000)["fee"], 150)

        password = self.rotate_with_overlap(partner, user, password)
        self.suspend_and_resume(partner, user, password, paid["orderId"])
        self.close_only_when_empty(partner, user, password)

        self.server.restart()
        self.api.close()
        self.api = Api(self.server)
        self.assert_pays(user, password, 1000)
        # The config's partner is a tenant of the directory like any other, and pays as before.
        config_partner = admin(self.api, "GET", "tenants/bereke:sandbox-partner").json
        self.assertEqual((config_partner["source"], config_partner["status"]), ("config", "active"))
        self.assertEqual(config_partner["settings"]["userName"], BEREKE_USER)
        self.assert_pays(BEREKE_USER, BEREKE_PASSWORD, 1000)

    def rotate_with_overlap(self, partner, user, password):
        """A 3 s overlap: both passwords pay, then only the new one. Returns the new password."""
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/credentials/rotate", {"overlapSeconds": 3})
        self.assertEqual(r.status, 200, r.raw[:300])
        new_password = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(new_password)
        self.assertRegex(new_password, r"^[A-Za-z0-9_-]{30}$")
        self.assert_pays(user, new_password, 1000)
        self.assert_pays(user, password, 1000)
        shown = admin(self.api, "GET", f"tenants/bereke:{partner}").json
        [old] = [c for c in shown["credentials"] if c["retires"] is not None]
        self.assertEqual(old["oldCredentialUses"], 1)
        time.sleep(3.2)
        self.assert_not_authenticated(user, password)
        self.assert_pays(user, new_password, 1000)
        return new_password

    def suspend_and_resume(self, partner, user, password, paid_order_id):
        # An order registered before the suspension, waiting for its card on the hosted page.
        registered = self.call("registerPayout.do", user, password, orderNumber=unique("reg"),
                               amount=2000, currency="398", language="en")
        self.assertEqual(registered.status, 200, registered.raw[:300])
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/suspend")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "suspended"), r.raw[:300])
        before = self.balance(user, password)
        order = unique("susp")
        r = self.perform(user, password, order=order)
        self.assertEqual((r.status, r.json), (500, NO_SETTINGS), r.raw[:300])
        r = self.call("registerPayout.do", user, password, orderNumber=unique("reg"), amount=1000,
                      currency="398")
        self.assertEqual((r.status, r.json), (500, NO_SETTINGS), r.raw[:300])
        page = self.confirm(registered.json["orderId"], CARD_OK)
        self.assertEqual(page.status, 403, page.raw[:300])
        self.assertIn("suspended", page.raw.decode())
        # Nothing moved, and reads go on: the balance, an order's status, echo.
        self.assertEqual(self.balance(user, password), before)
        r = self.call("getPayoutStatus.do", user, password, orderNumber=order)
        self.assertEqual((r.status, r.json["errorCode"]), (400, "98"), r.raw[:300])
        r = self.call("getPayoutStatus.do", user, password, orderId=paid_order_id)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "2"), r.raw[:300])
        r = self.call("getPayoutStatus.do", user, password, orderId=registered.json["orderId"])
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "0"), r.raw[:300])
        self.assertEqual(self.api.bereke("echo", http_method="GET").status, 200)
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/resume")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "active"))
        # The waiting order is paid once the partner is resumed.
        page = self.confirm(registered.json["orderId"], CARD_OK)
        self.assertEqual(page.status, 303, page.raw[:300])
        self.assert_pays(user, password, 1000)

    def confirm(self, order_id, pan):
        body = {"mdOrder": order_id, "lang": "en", "cardholder": "Ivan Petrov", "pan": pan}
        return self.api.request("POST", "/payouts/payment/confirm",
                                raw_body=urllib.parse.urlencode(body).encode(), auth=None,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})

    def close_only_when_empty(self, partner, user, password):
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/close")
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.not.empty"), r.raw[:300])
        self.assert_pays(user, password, 1000)
        empty, empty_user = unique("be"), unique("empty")[:30]
        _, empty_password = self.onboard(empty, empty_user)
        self.assertEqual(self.balance(empty_user, empty_password), 0)
        r = admin(self.api, "POST", f"tenants/bereke:{empty}/close")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "closed"), r.raw[:300])
        self.assert_not_authenticated(empty_user, empty_password)

    def test_settings_are_refused_with_the_member_at_fault(self):
        refusals = [
            ({}, "settings.userName: is required"),
            ({"userName": "u" * 31}, "settings.userName"),
            ({"userName": "u", "knp": "71"}, "settings.knp: is 3 digits"),
            ({"userName": "u", "funding": ["cash"]}, "settings.funding"),
            ({"userName": "u", "cardCountries": ["kz"]}, "settings.cardCountries[0]"),
            ({"userName": "u", "fee": {"value": "1.00", "currency": "RUB"}}, "settings.fee: must be in KZT"),
            ({"userName": "u", "fee": 1.5}, "settings.fee: must be an object"),
            ({"userName": "u", "colour": "red"}, "settings.colour: is not a Bereke partner setting"),
        ]
        for settings, detail in refusals:
            with self.subTest(settings=settings):
                r = admin(self.api, "POST", "tenants",
                          {"provider": "bereke", "id": unique("bx"), "settings": settings})
                self.assertEqual(r.status, 400, r.raw[:300])
                self.assertIn(detail, r.json["description"])


@unittest.skipUnless(default_backend() == "postgres", "two nodes share a PostgreSQL database")
class BerekeTwoNodesTest(IsolatedServerTestCase):
    """Node A is self.server; node B shares its database. Both poll the directory once a minute
    only, so what B sees at once it sees because an unknown userName or password makes it look."""

    def new_server(self, start=True, **kw):
        kw.setdefault("extra_config", "[tenants]\nrefresh_ms = 60000\n")
        return super().new_server(start=start, **kw)

    def test_a_partner_created_or_rotated_on_one_node_pays_on_the_other_at_once(self):
        node_b = self.new_server(postgres_url=self.server.postgres_url)
        api_b = Api(node_b)
        self.addCleanup(api_b.close)
        partner, user = unique("bn"), unique("node")[:30]
        r = admin(self.api, "POST", "tenants",
                  {"provider": "bereke", "id": partner, "settings": {"userName": user}})
        self.assertEqual(r.status, 201, r.raw[:400])
        password = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(password)
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/funders/transit/credits/cr-1",
                  {"amount": {"value": "100.00", "currency": "KZT"}})
        self.assertEqual(r.status, 200, r.raw[:300])

        def perform(secret, amount):
            return api_b.bereke("performPayout.do", {
                "userName": user, "password": secret, "orderNumber": unique("bn"),
                "amount": amount, "currency": "398", "description": "Payout to a client",
                "target": {"card": {"pan": CARD_OK}}})

        r = perform(password, 1000)
        self.assertEqual((r.status, r.json["errorCode"], r.json["orderStatus"]), (200, "0", "2"),
                         r.raw[:300])
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/credentials/rotate",
                  {"overlapSeconds": 60})
        self.assertEqual(r.status, 200, r.raw[:300])
        new_password = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(new_password)
        for secret in (new_password, password):  # the old one within its overlap
            r = perform(secret, 1000)
            self.assertEqual((r.status, r.json["errorCode"]), (200, "0"), r.raw[:300])
        r = api_b.bereke("getAmount.do", {"userName": user, "password": new_password})
        self.assertEqual(r.json["balanceDescriptionList"]["balanceAmount"], 7000, r.raw[:300])


if __name__ == "__main__":
    unittest.main()
