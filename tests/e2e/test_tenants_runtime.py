"""Partners onboarded at run time (docs/admin.md ("Tenants (partners at run time)")): a QIWI product created, credited, paid
through, its token rotated with an overlap, suspended, resumed and closed through the admin API,
all of it kept across a restart, beside the config's product; and, on PostgreSQL, a product
created or a token rotated through one node used through another at once.
"""
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, BONUS, CLIENTS, PARTNER_TOKEN, PRODUCT, Api,  # noqa: E402
                     IsolatedServerTestCase, default_backend, money, unique)

C1 = list(CLIENTS)[0]
SETTINGS = {
    "funders": [{"id": "main-funder", "displayName": "Main programme", "currency": "RUB"}],
    "clients": [{"clientId": "client-1", "accountId": "account-1", "currency": "RUB"},
                {"clientId": "client-2", "accountId": "account-2", "currency": "RUB"}],
}
# The poll is slowed down where a test shows what a node sees without it.
SLOW_POLL = "[tenants]\nrefresh_ms = 60000\n"


def admin(api, method, path, body=None, **kw):
    return api.request(method, "/admin/v1/" + path, body=body, auth=ADMIN_TOKEN, **kw)


def onboard(test, api, server, product, settings=SETTINGS):
    """POST /admin/v1/tenants: the tenant and its token (noted for the log scan)."""
    r = admin(api, "POST", "tenants", {"provider": "qiwi", "id": product, "settings": settings})
    test.assertEqual(r.status, 201, r.raw[:400])
    issued = r.json["issuedCredentials"]
    test.assertEqual([c["kind"] for c in issued], ["token"])
    token = issued[0]["secret"]
    test.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
    log_scan.remember_secret(token)
    return r.json["tenant"], token


def credit(test, api, product, funder, credit_id, value):
    r = admin(api, "POST", f"tenants/qiwi:{product}/funders/{funder}/credits/{credit_id}",
              {"amount": {"value": value, "currency": "RUB"}})
    test.assertEqual(r.status, 200, r.raw[:300])


def funder_balance(test, api, product, funder):
    r = admin(api, "GET", f"tenants/qiwi:{product}/funders/{funder}")
    test.assertEqual(r.status, 200, r.raw[:300])
    return money(r.json["balance"])


def pay(api, product, token, value="10.00", client="client-1", txn=None):
    return api.payout(txn or unique("rt"), "main-funder", client, value, product=product, auth=token)


class TenantsRuntimeTest(IsolatedServerTestCase):

    def assert_pays(self, product, token, value="10.00", client="client-1"):
        r = pay(self.api, product, token, value, client)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(r.json["status"], "SUCCESS", r.raw[:300])
        self.assertEqual(r.json["productId"], product)
        return r

    def assert_refused(self, product, token, status, code):
        r = pay(self.api, product, token)
        self.assertEqual((r.status, r.json["errorCode"]), (status, code), r.raw[:300])
        return r

    def test_onboard_pay_rotate_suspend_close_and_restart(self):
        product, empty = unique("rp"), unique("re")
        tenant, token = onboard(self, self.api, self.server, product)
        self.assertEqual((tenant["status"], tenant["source"], tenant["revision"]), ("active", "runtime", 1))
        self.assertEqual(tenant["settings"]["funders"], SETTINGS["funders"])
        self.assertEqual(tenant["settings"]["clients"][0]["mode"], "normal")
        # The token is shown once: never again, not even its digest.
        shown = admin(self.api, "GET", f"tenants/qiwi:{product}")
        self.assertEqual(shown.status, 200)
        self.assertNotIn(token.encode(), shown.raw)
        self.assertEqual(set(shown.json["credentials"][0]), {"id", "kind", "source", "created", "retires"})
        self.assertIsNone(shown.json["credentials"][0]["retires"])

        # The funder opens at zero: a payout is declined until it is credited.
        first = pay(self.api, product, token)
        self.assertEqual(first.status, 200, first.raw[:300])
        self.assertEqual(first.json["status"], "DECLINED")
        credit(self, self.api, product, "main-funder", "cr-1", "100.00")
        paid = self.assert_pays(product, token, "10.00")
        self.assertEqual(funder_balance(self, self.api, product, "main-funder"), money("90.00"))
        # Tokens belong to their product: the config's token is no key to it, and its own none to
        # the config's product.
        self.assert_refused(product, PARTNER_TOKEN, 403, "auth.forbidden")
        r = self.api.payout(unique("rt"), BONUS, C1, "1.00", auth=token)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "auth.forbidden"))

        new_token = self.rotate_with_overlap(product, token)
        self.suspend_and_resume(product, new_token, paid.json["transactionId"])
        self.close_only_when_empty(product, empty, new_token)

        self.server.restart()
        self.api.close()
        self.api = Api(self.server)
        self.assert_pays(product, new_token, "1.00")
        self.assert_refused(product, token, 401, "auth.token.invalid")
        self.assertEqual(admin(self.api, "GET", f"tenants/qiwi:{empty}").json["status"], "closed")
        self.assertEqual(funder_balance(self, self.api, product, "main-funder"), money("62.00"))
        # The config's product is a tenant of the directory like any other, and pays as before.
        config_product = admin(self.api, "GET", f"tenants/qiwi:{PRODUCT}").json
        self.assertEqual((config_product["source"], config_product["status"]), ("config", "active"))
        self.assertEqual(config_product["credentials"][0]["source"], "config")
        r = self.api.payout(unique("cfg"), BONUS, C1, "1.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw[:300])

    def rotate_with_overlap(self, product, token):
        """Rotates with a 3 s overlap: both tokens pay, the old one's uses are counted, and after
        the overlap only the new one pays. Returns the new token."""
        r = admin(self.api, "POST", f"tenants/qiwi:{product}/credentials/rotate", {"overlapSeconds": 3})
        self.assertEqual(r.status, 200, r.raw[:300])
        new_token = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(new_token)
        self.assertNotEqual(new_token, token)
        self.assert_pays(product, new_token, "5.00")
        for _ in range(3):
            self.assert_pays(product, token, "5.00")
        shown = admin(self.api, "GET", f"tenants/qiwi:{product}").json
        old = [c for c in shown["credentials"] if c["retires"] is not None]
        self.assertEqual(len(old), 1, shown)
        self.assertEqual(old[0]["oldCredentialUses"], 3)
        status, _, text = self.server.scrape()
        self.assertEqual(status, 200)
        self.assertIn(f'payoutd_tenant_old_credential_uses_total{{provider="qiwi",tenant="{product}"}} 3',
                      text)
        time.sleep(3.2)
        self.assert_refused(product, token, 401, "auth.token.invalid")
        self.assert_pays(product, new_token, "5.00")
        return new_token

    def suspend_and_resume(self, product, token, paid_txn):
        r = admin(self.api, "POST", f"tenants/qiwi:{product}/suspend")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "suspended"), r.raw[:300])
        before = funder_balance(self, self.api, product, "main-funder")
        refused = self.assert_refused(product, token, 403, "auth.forbidden")
        self.assertIn("suspended", refused.json["description"])
        self.assertEqual(funder_balance(self, self.api, product, "main-funder"), before)
        # Reads go on: a payout's status and a wallet's history.
        r = self.api.get_payout(paid_txn, product=product, auth=token)
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"))
        r = self.api.history("account-1", product=product, auth=token)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertTrue(r.json["txnList"])
        r = admin(self.api, "POST", f"tenants/qiwi:{product}/resume")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "active"))
        self.assert_pays(product, token, "1.00")

    def close_only_when_empty(self, product, empty, token):
        r = admin(self.api, "POST", f"tenants/qiwi:{product}/close")
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.not.empty"), r.raw[:300])
        self.assertIn("main-funder", r.json["description"])
        self.assert_pays(product, token, "1.00")
        _, empty_token = onboard(self, self.api, self.server, empty)
        r = admin(self.api, "POST", f"tenants/qiwi:{empty}/close")
        self.assertEqual((r.status, r.json["tenant"]["status"]), (200, "closed"), r.raw[:300])
        self.assert_refused(empty, empty_token, 401, "auth.token.invalid")
        r = admin(self.api, "POST", "tenants", {"provider": "qiwi", "id": empty, "settings": {}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.exists"))
        r = admin(self.api, "POST", f"tenants/qiwi:{empty}/resume")
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.closed"))
        r = admin(self.api, "POST", f"tenants/qiwi:{empty}/funders/main-funder/credits/c1",
                  {"amount": {"value": "1.00", "currency": "RUB"}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.closed"))

    def test_settings_changes_listing_and_precise_errors(self):
        product = unique("rs")
        _, token = onboard(self, self.api, self.server, product)
        # PATCH opens the new client's wallet at once; the members it does not name stay.
        clients = SETTINGS["clients"] + [{"clientId": "client-3", "accountId": "account-3",
                                          "currency": "RUB", "mode": "blocked"}]
        r = admin(self.api, "PATCH", f"tenants/qiwi:{product}", {"settings": {"clients": clients}})
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual((r.json["tenant"]["revision"], r.json["tenant"]["settings"]["funders"]),
                         (2, SETTINGS["funders"]))
        self.assertNotIn("issuedCredentials", r.json)
        credit(self, self.api, product, "main-funder", "cr-1", "10.00")
        r = pay(self.api, product, token, "1.00", client="client-3")
        self.assertEqual((r.status, r.json["status"], r.json["declineReason"]["code"]),
                         (200, "DECLINED", "CLIENT_ACCOUNT_BLOCKED"), r.raw[:300])
        # The QIWI admin paths change the same settings.
        r = self.api.admin("PUT", "/funders/second-funder", {"currency": "RUB"}, product=product)
        self.assertEqual((r.status, money(r.json["balance"])), (200, 0), r.raw[:300])
        funders = admin(self.api, "GET", f"tenants/qiwi:{product}").json["settings"]["funders"]
        self.assertEqual([f["id"] for f in funders], ["main-funder", "second-funder"])

        refusals = [
            ("POST", "tenants", {"provider": "nope", "id": "x", "settings": {}}, 400, "provider: "),
            ("POST", "tenants", {"provider": "qiwi", "id": "a b", "settings": {}}, 400, "id: "),
            ("POST", "tenants", {"provider": "qiwi", "id": unique("x")}, 400, "settings: is required"),
            ("POST", "tenants", {"provider": "qiwi", "id": unique("x"),
                                 "settings": {"funders": [{"id": "f", "currency": "RUR"}]}},
             400, "settings.funders[0].currency: "),
            ("POST", "tenants", {"provider": "qiwi", "id": product, "settings": {}}, 409, None),
            ("PATCH", f"tenants/qiwi:{product}", {"settings": {"funders": []}}, 400,
             "settings.funders: funder main-funder cannot be removed"),
            ("PATCH", f"tenants/qiwi:{product}", {"status": "active"}, 400, "settings: "),
            ("GET", "tenants/qiwi:nobody", None, 404, None),
            ("PATCH", "tenants/qiwi:nobody", {"settings": {}}, 404, None),
            ("POST", "tenants/qiwi:nobody/suspend", None, 404, None),
            ("POST", f"tenants/qiwi:{product}/credentials/rotate", {"overlapSeconds": -1}, 400,
             "overlapSeconds: "),
            ("DELETE", f"tenants/qiwi:{product}", None, 405, None),
            ("GET", "tenants?status=sleeping", None, 400, "status: "),
        ]
        codes = {400: "validation.error", 404: "tenant.not.found", 405: "method.not.allowed",
                 409: "tenant.exists"}
        for method, path, body, status, description in refusals:
            r = admin(self.api, method, path, body)
            self.assertEqual((r.status, r.json["errorCode"]), (status, codes[status]),
                             f"{method} {path}: {r.raw[:300]!r}")
            if description:
                self.assertTrue(r.json["description"].startswith(description), r.json["description"])

        # Listing: by provider and status, a page at a time.
        second = unique("rs")
        onboard(self, self.api, self.server, second)
        seen, after = [], None
        while True:
            query = {"provider": "qiwi", "status": "active", "limit": 1}
            if after:
                query["after"] = after
            r = admin(self.api, "GET", "tenants?" + urllib.parse.urlencode(query))
            self.assertEqual(r.status, 200, r.raw[:300])
            seen += [t["id"] for t in r.json["tenants"]]
            self.assertLessEqual(len(r.json["tenants"]), 1)
            after = r.json.get("next")
            if not after:
                break
        self.assertEqual(seen, sorted(seen))
        self.assertTrue({product, second, PRODUCT} <= set(seen), seen)
        # The filter keeps one provider's tenants: Bereke's config partner only, ecommpay's config
        # projects only.
        r = admin(self.api, "GET", "tenants?provider=bereke")
        self.assertEqual([t["tenant"] for t in r.json["tenants"]], ["bereke:sandbox-partner"])
        r = admin(self.api, "GET", "tenants?provider=ecommpay")
        self.assertEqual([t["tenant"] for t in r.json["tenants"]],
                         ["ecommpay:91348", "ecommpay:91349", "ecommpay:91350", "ecommpay:91351"])


@unittest.skipUnless(default_backend() == "postgres", "two nodes share a PostgreSQL database")
class TenantsTwoNodesTest(IsolatedServerTestCase):
    """Node A is self.server; node B shares its database. Both poll the directory once a minute
    only, so what B sees at once it sees because an unknown token makes it look."""

    def new_server(self, start=True, **kw):
        kw.setdefault("extra_config", SLOW_POLL)
        return super().new_server(start=start, **kw)

    def test_a_product_created_or_rotated_on_one_node_works_on_the_other_at_once(self):
        node_b = self.new_server(postgres_url=self.server.postgres_url)
        api_b = Api(node_b)
        self.addCleanup(api_b.close)
        product = unique("np")
        _, token = onboard(self, self.api, self.server, product)
        log_scan.remember_secret(token)
        credit(self, self.api, product, "main-funder", "cr-1", "50.00")
        r = pay(api_b, product, token, "10.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw[:300])

        r = admin(self.api, "POST", f"tenants/qiwi:{product}/credentials/rotate", {"overlapSeconds": 60})
        self.assertEqual(r.status, 200, r.raw[:300])
        new_token = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(new_token)
        log_scan.remember_secret(new_token)
        r = pay(api_b, product, new_token, "10.00")
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw[:300])
        r = pay(api_b, product, token, "10.00")  # the old one, within its overlap
        self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw[:300])
        self.assertEqual(funder_balance(self, api_b, product, "main-funder"), money("20.00"))


if __name__ == "__main__":
    unittest.main()
