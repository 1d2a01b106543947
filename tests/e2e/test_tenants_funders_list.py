"""Reads the operators' console builds on, over HTTP on the real binary (docs/admin.md): every
funding account of a tenant with its balance (GET /admin/v1/tenants/{tenant}/funders), for the
config's QIWI product, a runtime one and the config's Bereke partner; and the audit log filtered
by outcome (GET /admin/v1/audit?outcome=).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BONUS, CASHBACK, SANDBOX_FUNDER_BALANCE,  # noqa: E402
                     IsolatedServerTestCase, money, unique)
from test_tenants_runtime import SETTINGS, admin, onboard  # noqa: E402


class FundersListTest(IsolatedServerTestCase):

    def funders(self, tenant):
        r = admin(self.api, "GET", f"tenants/{tenant}/funders")
        self.assertEqual(r.status, 200, r.raw[:400])
        return {f["funderId"]: f for f in r.json["funders"]}

    def test_every_funder_of_a_tenant_with_its_balance(self):
        shown = self.funders("qiwi:best-partner")
        self.assertEqual(set(shown), {BONUS, CASHBACK})
        for code, f in shown.items():
            self.assertEqual(money(f["balance"]), SANDBOX_FUNDER_BALANCE[code])
            # The same account as GET .../funders/{code} shows it.
            one = admin(self.api, "GET", f"tenants/qiwi:best-partner/funders/{code}")
            self.assertEqual(one.json, f)
        # A Bereke partner's transit account, and the corporate card the sandbox gave it.
        self.assertIn("transit", self.funders("bereke:sandbox-partner"))

        product = unique("list")
        onboard(self, self.api, self.server, product)
        self.assertEqual(set(self.funders(f"qiwi:{product}")), {"main-funder"})
        r = admin(self.api, "POST", f"tenants/qiwi:{product}/funders/main-funder/credits/c-1",
                  {"amount": {"value": "12.34", "currency": "RUB"}})
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertEqual(str(money(self.funders(f"qiwi:{product}")["main-funder"]["balance"])), "12.34")
        # A funder added by a change is listed at zero.
        r = admin(self.api, "PATCH", f"tenants/qiwi:{product}", {"settings": {"funders": SETTINGS["funders"] + [
            {"id": "second", "displayName": "Second", "currency": "RUB"}]}})
        self.assertEqual(r.status, 200, r.raw[:400])
        self.assertEqual(str(money(self.funders(f"qiwi:{product}")["second"]["balance"])), "0.00")

    def test_refusals(self):
        self.assertEqual(admin(self.api, "GET", "tenants/qiwi:no-such/funders").status, 404)
        self.assertEqual(admin(self.api, "GET", "tenants/nonsense/funders").status, 404)
        self.assertEqual(admin(self.api, "POST", "tenants/qiwi:best-partner/funders").status, 405)
        r = self.api.request("GET", "/admin/v1/tenants/qiwi:best-partner/funders", auth="wrong")
        self.assertEqual(r.status, 401)


class AuditOutcomeFilterTest(IsolatedServerTestCase):

    def test_outcome_is_a_prefix_filter(self):
        ok = admin(self.api, "POST", "tenants/qiwi:best-partner/funders/cashback-funder/credits/o-1",
                   {"amount": {"value": "1.00", "currency": "RUB"}})
        self.assertEqual(ok.status, 200, ok.raw[:400])
        bad = admin(self.api, "POST", "tenants/qiwi:best-partner/funders/no-such/credits/o-2",
                    {"amount": {"value": "1.00", "currency": "RUB"}})
        self.assertEqual(bad.status, 404, bad.raw[:400])

        def outcomes(query):
            r = self.api.request("GET", "/admin/v1/audit?action=http.POST&" + query, auth=ADMIN_TOKEN)
            self.assertEqual(r.status, 200, r.raw[:400])
            return [(e["target"], e["outcome"]) for e in r.json["entries"]]

        refused = outcomes("outcome=4")
        self.assertEqual(refused, [("/admin/v1/tenants/qiwi:best-partner/funders/no-such/credits/o-2",
                                    "404 funder.not.found")])
        self.assertEqual(outcomes("outcome=200"), [
            ("/admin/v1/tenants/qiwi:best-partner/funders/cashback-funder/credits/o-1", "200")])
        self.assertEqual(len(outcomes("outcome=started")), 2)  # the intents of both
        self.assertEqual(len(outcomes("")), 4)
        long = self.api.request("GET", "/admin/v1/audit?outcome=" + "x" * 300, auth=ADMIN_TOKEN)
        self.assertEqual(long.status, 400)


if __name__ == "__main__":
    unittest.main()
