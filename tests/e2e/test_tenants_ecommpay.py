"""ecommpay projects onboarded at run time (docs/admin.md, "ecommpay settings"; docs/operations.md,
"Onboarding partners"): a project created through the admin API with a generated secret key, its
merchant balance credited, a payout registered through the Gate API signed with that key, paid on
Payment Page and told by a callback signed with it; its card limits changed without a restart; its
key rotated with an overlap (both keys sign, the old one's uses counted, callbacks signed with the
old key until the project signs with the new one); suspended (registrations declined with 317,
Payment Page refused, a payout in flight still finishes and is told); closed only when empty; and,
on PostgreSQL, a project created through one node paying through another at once.
"""
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, CARD_OK, CARD_SLOW_OK, ECOMMPAY_PROJECT, Api,  # noqa: E402
                     default_backend, ecommpay_sign, money, unique)
from test_ecommpay_page import PageTestCase  # noqa: E402
from test_ecommpay_registration import Receiver  # noqa: E402

SLOW_POLL = "[tenants]\nrefresh_ms = 60000\n"
NOT_ENABLED = ("decline", "317", "Payouts are not enabled for the project")


def admin(api, method, path, body=None):
    return api.request(method, "/admin/v1/" + path, body=body, auth=ADMIN_TOKEN)


def new_project_id():
    """A project id of this run: 10 digits, no leading zero."""
    return str(1_000_000_000 + int.from_bytes(os.urandom(4), "big") % 1_000_000_000)


def settings(receiver, **more):
    return dict({"currency": "EUR", "allowlist": ["127.0.0.0/8", "::1"], "callbackUrl": receiver.url},
                **more)


class Project:
    """A runtime project as its merchant sees it: its id, its current key, and its receiver."""

    def __init__(self, test, api, project_id, key, receiver):
        self.test, self.api, self.id, self.key, self.receiver = test, api, project_id, key, receiver

    def register(self, key=None, amount=1000, api=None):
        """A registration signed with `key` (default: the current one): (answer, payment_id)."""
        payment_id = unique("tp")
        r = (api or self.api).ecommpay_register(payment_id, project=int(self.id), amount=amount,
                                                secret=key or self.key)
        return r, payment_id

    def callbacks(self, payment_id, count):
        return self.test.callbacks_of(self.receiver, payment_id, count)

    def signed_with(self, callback):
        """The key (of those the test knows) that signed the callback."""
        for key in self.test.keys:
            if ecommpay_sign(key, callback) == callback["general"]["signature"]:
                return key
        return None

    def link(self, payment_id, uuid, amount, key=None):
        params = {"mode": "payout", "project_id": self.id, "payment_id": payment_id, "uuid": uuid,
                  "customer_id": "16061314", "customer_email": "p.jeltz@mail.com",
                  "payment_amount": str(amount), "payment_currency": "EUR"}
        params["signature"] = ecommpay_sign(key or self.key, params)
        return urllib.parse.urlencode(params)

    def post(self, path, fields, key=None, api=None):
        link = {"mode": "payout", "project_id": self.id, "uuid": fields["uuid"]}
        link["signature"] = ecommpay_sign(key or self.key, link)
        body = urllib.parse.urlencode(dict(fields, link=urllib.parse.urlencode(link))).encode()
        return (api or self.api).request("POST", path, raw_body=body, auth=None,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})

    def code(self, uuid, servers):
        """The order's code, from the mail sink of whichever node's outbox sent it."""
        deadline = time.monotonic() + 10
        while True:
            for server in servers:
                try:
                    return self.test.sink_code(server, uuid, timeout=0.1)[0]
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise

    def pay(self, amount=1000, pan=CARD_OK, servers=None, api=None):
        """Registers and pays through Payment Page: (payment_id, its result callback); `pan`
        CARD_SLOW_OK leaves it processing at the rail and returns (payment_id, None)."""
        r, payment_id = self.register(amount=amount, api=api)
        self.test.assertEqual(r.status, 200, r.raw[:300])
        [registered] = self.callbacks(payment_id, 1)
        uuid = registered["uuid"]
        page = (api or self.api).request("GET", "/payment?" + self.link(payment_id, uuid, amount), auth=None)
        self.test.assertEqual(page.status, 200, page.raw[:300])
        r = self.post("/payment/card", {"uuid": uuid, "lang": "en", "pan": pan, "cardholder": "A B"}, api=api)
        self.test.assertEqual(r.status, 200, r.raw[:300])
        code = self.code(uuid, servers or [self.test.server])
        r = self.post("/payment/code", {"uuid": uuid, "lang": "en", "code": code}, api=api)
        self.test.assertEqual(r.status, 303, r.raw[:300])
        if pan == CARD_SLOW_OK:
            return payment_id, None
        return payment_id, self.callbacks(payment_id, 2)[1]


class EcommpayTenantsTest(PageTestCase):

    def setUp(self):
        super().setUp()
        self.keys = []
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def onboard(self, api=None, **more):
        project_id = new_project_id()
        r = admin(api or self.api, "POST", "tenants",
                  {"provider": "ecommpay", "id": project_id, "settings": settings(self.receiver, **more)})
        self.assertEqual(r.status, 201, r.raw[:400])
        [issued] = r.json["issuedCredentials"]
        self.assertEqual(issued["kind"], "secret-key")
        self.assertRegex(issued["secret"], r"^[A-Za-z0-9_-]{43}$")
        log_scan.remember_secret(issued["secret"])
        self.keys.append(issued["secret"])
        return r.json["tenant"], Project(self, api or self.api, project_id, issued["secret"], self.receiver)

    def credit(self, project, value, api=None):
        r = admin(api or self.api, "POST", f"tenants/ecommpay:{project.id}/funders/merchant/credits/{unique('cr')}",
                  {"amount": {"value": value, "currency": "EUR"}})
        self.assertEqual(r.status, 200, r.raw[:300])

    def balance(self, project):
        r = admin(self.api, "GET", f"tenants/ecommpay:{project.id}/funders/merchant")
        self.assertEqual(r.status, 200, r.raw[:300])
        return money(r.json["balance"])

    def test_onboard_pay_change_rotate_suspend_close(self):
        tenant, project = self.onboard(cardLimits={"singleMax": {"value": "50.00", "currency": "EUR"}})
        self.assertEqual((tenant["status"], tenant["source"]), ("active", "runtime"))
        self.assertEqual(tenant["settings"]["cardLimits"]["singleMax"], {"value": "50.00", "currency": "EUR"})
        # The key is shown once: neither the tenant nor the store's answers show it again.
        shown = admin(self.api, "GET", f"tenants/ecommpay:{project.id}")
        self.assertNotIn(project.key.encode(), shown.raw)
        # Its merchant balance opens at zero; a payout is declined 3028 until it is credited.
        _, poor = project.pay(amount=1000)
        self.assertEqual((poor["payment"]["status"], poor["operation"]["code"]), ("decline", "3028"))
        self.credit(project, "100.00")
        payment_id, paid = project.pay(amount=1000)
        self.assertEqual(paid["payment"]["status"], "success", paid)
        self.assertEqual(project.signed_with(paid), project.key)
        self.assertEqual(self.balance(project), money("90.00"))
        # Another project's key signs nothing of it; its key nothing of another project.
        r, _ = project.register(key="sandbox-secret-91348")
        self.assertEqual((r.status, r.json["code"]), (400, 3261), r.raw[:300])
        r = self.api.ecommpay_register(unique("x"), project=ECOMMPAY_PROJECT, secret=project.key)
        self.assertEqual((r.status, r.json["code"]), (400, 3261), r.raw[:300])

        # Card limits follow the settings at once: a payout above the new single maximum is
        # declined with the registry's 3104, then allowed again.
        r = admin(self.api, "PATCH", f"tenants/ecommpay:{project.id}",
                  {"settings": {"cardLimits": {"singleMax": {"value": "5.00", "currency": "EUR"}}}})
        self.assertEqual(r.status, 200, r.raw[:300])
        _, over = project.pay(amount=600)
        self.assertEqual((over["operation"]["code"], over["operation"]["message"]),
                         ("3104", "Payment Constraint Invalid Payout Amount"))
        # Raised within the threshold by a caller with the finance role: applied at once (a raise
        # above it, or a limit removed, waits for a second person: test_maker_checker_settings).
        r = admin(self.api, "PATCH", f"tenants/ecommpay:{project.id}",
                  {"settings": {"cardLimits": {"singleMax": {"value": "50.00", "currency": "EUR"}}}})
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(project.pay(amount=600)[1]["payment"]["status"], "success")
        # The currency is its merchant balance's: it does not change.
        r = admin(self.api, "PATCH", f"tenants/ecommpay:{project.id}",
                  {"settings": {"currency": "USD", "cardLimits": {}}})
        self.assertEqual((r.status, r.json["errorCode"]), (400, "validation.error"), r.raw[:300])
        self.assertIn("settings.currency: cannot change", r.json["description"])

        self.rotate_with_overlap(project)
        self.suspend_and_resume(project)
        self.close_only_when_empty(project)

    def rotate_with_overlap(self, project):
        """A 6 s overlap: both keys sign; the old one's uses are counted; callbacks keep the old key
        until the project first signs with the new one; after the overlap only the new one works."""
        old_key = project.key
        r = admin(self.api, "POST", f"tenants/ecommpay:{project.id}/credentials/rotate", {"overlapSeconds": 6})
        self.assertEqual(r.status, 200, r.raw[:300])
        rotated_at = time.monotonic()
        new_key = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(new_key)
        self.keys.append(new_key)
        self.assertNotEqual(new_key, old_key)
        # The project has not switched: its old key signs, and what it gets is signed with it.
        r, payment_id = project.register(key=old_key)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(project.signed_with(project.callbacks(payment_id, 1)[0]), old_key)
        shown = admin(self.api, "GET", f"tenants/ecommpay:{project.id}").json
        [old] = [c for c in shown["credentials"] if c["retires"] is not None]
        self.assertEqual(old["oldCredentialUses"], 1)
        # It signs with the new key: recorded, and from then on callbacks are signed with it, even
        # those of a registration it still signs with the old one.
        r, payment_id = project.register(key=new_key)
        self.assertEqual(r.status, 200, r.raw[:300])
        deadline = time.monotonic() + 5
        while True:
            shown = admin(self.api, "GET", f"tenants/ecommpay:{project.id}").json
            [new] = [c for c in shown["credentials"] if c["retires"] is None]
            if "firstUsed" in new or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertIn("firstUsed", new)
        r, payment_id = project.register(key=old_key)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(project.signed_with(project.callbacks(payment_id, 1)[0]), new_key)
        shown = admin(self.api, "GET", f"tenants/ecommpay:{project.id}").json
        [old] = [c for c in shown["credentials"] if c["retires"] is not None]
        self.assertEqual(old["oldCredentialUses"], 2)
        status, _, text = self.server.scrape()
        self.assertEqual(status, 200)
        self.assertIn(f'payoutd_tenant_old_credential_uses_total{{provider="ecommpay",tenant="{project.id}"}} 2',
                      text)
        time.sleep(max(0.0, rotated_at + 6.3 - time.monotonic()))
        r, _ = project.register(key=old_key)
        self.assertEqual((r.status, r.json["code"], r.json["message"]), (400, 3261, "signature is invalid"))
        project.key = new_key
        self.assertEqual(project.pay(amount=100)[1]["payment"]["status"], "success")

    def suspend_and_resume(self, project):
        # A payout in flight at the rail (processing, final 2 s later) and one registered, waiting
        # for its card, when the project is suspended.
        before = self.balance(project)
        in_flight, _ = project.pay(amount=300, pan=CARD_SLOW_OK)
        r, waiting = project.register(amount=200)
        self.assertEqual(r.status, 200, r.raw[:300])
        waiting_uuid = project.callbacks(waiting, 1)[0]["uuid"]
        r = admin(self.api, "POST", f"tenants/ecommpay:{project.id}/suspend")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "suspended"), r.raw[:300])
        # A new registration is declined at once with ecommpay's 317, by a signed callback.
        r, refused = project.register(amount=100)
        self.assertEqual(r.status, 200, r.raw[:300])
        declined = project.callbacks(refused, 1)[0]
        self.assertEqual((declined["payment"]["status"], declined["operation"]["code"],
                          declined["operation"]["message"]), NOT_ENABLED)
        self.assertEqual(project.signed_with(declined), project.key)
        # Payment Page does not take a card for it.
        page = self.api.request("GET", "/payment?" + project.link(waiting, waiting_uuid, 200), auth=None)
        self.assertEqual(page.status, 403, page.raw[:300])
        self.assertIn(b"Payouts are not enabled for the project", page.raw)
        r = project.post("/payment/card", {"uuid": waiting_uuid, "lang": "en", "pan": CARD_OK, "cardholder": "A B"})
        self.assertEqual(r.status, 403, r.raw[:300])
        # The payout in flight finishes, and its callback is delivered, signed.
        result = project.callbacks(in_flight, 2)[1]
        self.assertEqual(result["payment"]["status"], "success")
        self.assertEqual(project.signed_with(result), project.key)
        # Only the payout in flight moved money (reserved before the suspension).
        self.assertEqual(self.balance(project), before - money("3.00"))
        r = admin(self.api, "POST", f"tenants/ecommpay:{project.id}/resume")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "active"))
        # The waiting order takes its card once the project is resumed.
        r = project.post("/payment/card", {"uuid": waiting_uuid, "lang": "en", "pan": CARD_OK, "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw[:300])

    def close_only_when_empty(self, project):
        r = admin(self.api, "POST", f"tenants/ecommpay:{project.id}/close")
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.not.empty"), r.raw[:300])
        self.assertIn("funder merchant holds", r.json["description"])
        _, empty = self.onboard()
        r = admin(self.api, "POST", f"tenants/ecommpay:{empty.id}/close")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "closed"), r.raw[:300])
        r, _ = empty.register()
        self.assertEqual((r.status, r.json["code"], r.json["message"]),
                         (400, 2004, "general.project_id: no such project"), r.raw[:300])
        r = admin(self.api, "POST", "tenants", {"provider": "ecommpay", "id": empty.id,
                                                "settings": {"currency": "EUR"}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.exists"))

    def test_config_projects_are_tenants_and_settings_are_refused_precisely(self):
        config = admin(self.api, "GET", f"tenants/ecommpay:{ECOMMPAY_PROJECT}").json
        self.assertEqual((config["source"], config["status"]), ("config", "active"))
        self.assertEqual(config["credentials"][0]["kind"], "secret-key")
        self.assertNotIn("sandbox-secret", str(config))
        self.assertEqual(config["settings"]["cardLimits"],
                         {"singleMax": {"value": "5000.00", "currency": "EUR"},
                          "totalMax": {"value": "10000.00", "currency": "EUR"},
                          "countMax": 5, "windowHours": 24})
        refusals = [
            ("p1", {"currency": "EUR"}, "id: an ecommpay project's id is its project_id"),
            ("0123", {"currency": "EUR"}, "id: "),
            (new_project_id(), {}, "settings.currency: is required"),
            (new_project_id(), {"currency": "EUR", "allowlist": ["300.1.1.1"]}, "settings.allowlist[0]: "),
            (new_project_id(), {"currency": "EUR", "callbackUrl": "mailto:x@y"}, "settings.callbackUrl: "),
            (new_project_id(), {"currency": "EUR", "sender": "bot"}, "settings.sender: "),
            (new_project_id(), {"currency": "EUR", "cardLimits": {"singleMax": {"value": "1", "currency": "USD"}}},
             "settings.cardLimits.singleMax: must be in EUR"),
            (new_project_id(), {"currency": "EUR", "secretKey": "mine"},
             "settings.secretKey: is not an ecommpay project setting"),
        ]
        for project_id, body, detail in refusals:
            with self.subTest(body=body):
                r = admin(self.api, "POST", "tenants", {"provider": "ecommpay", "id": project_id, "settings": body})
                self.assertEqual((r.status, r.json["errorCode"]), (400, "validation.error"), r.raw[:300])
                self.assertTrue(r.json["description"].startswith(detail), r.json["description"])
        r = admin(self.api, "POST", "tenants", {"provider": "ecommpay", "id": str(ECOMMPAY_PROJECT),
                                                "settings": {"currency": "EUR"}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.exists"))


@unittest.skipUnless(default_backend() == "postgres", "two nodes share a PostgreSQL database")
class EcommpayTenantsTwoNodesTest(PageTestCase):
    """Node A is self.server; node B shares its database. Both poll the directory once a minute
    only: what B knows at once it knows because an unknown project makes it look."""

    def new_server(self, start=True, **kw):
        kw.setdefault("extra_config", SLOW_POLL)
        return super().new_server(start=start, **kw)

    def test_a_project_created_on_one_node_pays_through_the_other_at_once(self):
        node_b = self.new_server(postgres_url=self.server.postgres_url)
        api_b = Api(node_b)
        self.addCleanup(api_b.close)
        receiver = Receiver()
        self.addCleanup(receiver.close)
        project_id = new_project_id()
        r = admin(self.api, "POST", "tenants", {"provider": "ecommpay", "id": project_id,
                                                "settings": settings(receiver)})
        self.assertEqual(r.status, 201, r.raw[:300])
        key = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(key)
        self.keys = [key]
        r = admin(self.api, "POST", f"tenants/ecommpay:{project_id}/funders/merchant/credits/cr-1",
                  {"amount": {"value": "50.00", "currency": "EUR"}})
        self.assertEqual(r.status, 200, r.raw[:300])
        project = Project(self, api_b, project_id, key, receiver)
        # Node B registers it, opens its page and takes its card; whichever node holds the outbox
        # sends its code and callbacks.
        payment_id, paid = project.pay(amount=1000, servers=[self.server, node_b], api=api_b)
        self.assertEqual(paid["payment"]["status"], "success", paid)
        self.assertEqual(project.signed_with(paid), key)
        r = admin(api_b, "GET", f"tenants/ecommpay:{project_id}/funders/merchant")
        self.assertEqual(money(r.json["balance"]), money("40.00"))


if __name__ == "__main__":
    unittest.main()
