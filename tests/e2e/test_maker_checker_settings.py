"""Maker-checker on partner settings (docs/admin.md, "Maker-checker on partner settings"), over
HTTP on the real binary: a Bereke partner's card limit raised or a funding method enabled through
PATCH /admin/v1/tenants/{tenant} is a request (202) that a second finance member approves; the
change applies only on approval, once, and then to the partner's next payout (declined above the
limit before it in the bank's own words: orderStatus 6, "Превышен лимит выплат"). Rejected,
nothing changes. A raise within [admin] approval_threshold needs one finance member: the caller
when they hold the role.
"""
import os
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import ADMIN_TOKEN, CARD_OK, Api, IsolatedServerTestCase, unique  # noqa: E402

THRESHOLD_LINE = ('approval_threshold = { RUB = "1000000.00", KZT = "100000000.00", '
                  'EUR = "100000.00", USD = "100000.00" }')
# One finance member alone up to 1000.00 KZT (a limit raised to it, a credit of it).
OPTIONS = {"config_replace": {THRESHOLD_LINE: 'approval_threshold = { KZT = "1000.00" }'}}
LIMIT_EXCEEDED = "Превышен лимит выплат"


def kzt(value):
    return {"value": value, "currency": "KZT"}


class SettingsApprovalCase(IsolatedServerTestCase):

    def new_server(self, start=True, **kw):
        for key, value in OPTIONS.items():
            kw.setdefault(key, dict(value))
        return super().new_server(start=start, **kw)

    def call(self, method, path, body=None, auth=ADMIN_TOKEN, api=None):
        return (api or self.api).request(method, "/admin/v1/" + path, body=body, auth=auth)

    def staff(self, *roles):
        """A staff member with `roles` and an API key: the key."""
        login = unique("st")
        r = self.call("POST", "staff", {"login": login, "name": login, "roles": list(roles)})
        self.assertIn(r.status, (200, 201), r.raw)
        r = self.call("POST", f"staff/{login}/api-keys", {"name": "settings"})
        self.assertIn(r.status, (200, 201), r.raw)
        log_scan.remember_secret(r.json["key"])
        return r.json["key"]

    def onboard(self, **settings):
        """A Bereke partner with 1000.00 KZT on its transit account: (tenant key, user, password)."""
        partner, user = unique("mcs"), unique("u")[:30]
        r = self.call("POST", "tenants", {"provider": "bereke", "id": partner,
                                          "settings": dict({"userName": user}, **settings)})
        self.assertEqual(r.status, 201, r.raw[:400])
        password = r.json["issuedCredentials"][0]["secret"]
        log_scan.remember_secret(password)
        tenant = f"bereke:{partner}"
        r = self.call("POST", f"tenants/{tenant}/funders/transit/credits/{unique('cr')}",
                      {"amount": kzt("1000.00")})
        self.assertEqual(r.status, 200, r.raw[:300])
        return tenant, user, password

    def perform(self, user, password, amount, api=None):
        return (api or self.api).bereke("performPayout.do", {
            "userName": user, "password": password, "orderNumber": unique("o"), "amount": amount,
            "currency": "398", "description": "Payout", "target": {"card": {"pan": CARD_OK}}})

    def assert_declined_for_limit(self, user, password, amount):
        r = self.perform(user, password, amount)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual((r.json["orderStatus"], r.json["errorMessage"]), ("6", LIMIT_EXCEEDED),
                         r.raw[:300])

    def assert_pays(self, user, password, amount, api=None):
        r = self.perform(user, password, amount, api)
        self.assertEqual((r.status, r.json.get("orderStatus")), (200, "2"), r.raw[:300])

    def patch(self, tenant, settings, auth=ADMIN_TOKEN):
        return self.call("PATCH", f"tenants/{tenant}", {"settings": settings}, auth)

    def tenant(self, tenant):
        r = self.call("GET", f"tenants/{tenant}")
        self.assertEqual(r.status, 200, r.raw[:300])
        return r.json

    def pending_raise(self, tenant, maker, single="5000.00"):
        """A raise of the single payout limit above the threshold by `maker`: the request."""
        r = self.patch(tenant, {"cardLimits": {"singleMax": kzt(single)}}, auth=maker)
        self.assertEqual(r.status, 202, r.raw[:400])
        request = r.json
        for key, value in (("kind", "tenant.settings"), ("status", "pending"), ("tenant", tenant),
                           ("subject", "settings")):
            self.assertEqual(request[key], value, key)
        self.assertEqual(request["params"], {"cardLimits": {"singleMax": kzt(single)}})
        self.assertIn("settings.cardLimits.singleMax: raised from 100.00 KZT to", request["reason"])
        self.assertIn("above the threshold", request["reason"])
        return request


class SettingsApprovalTest(SettingsApprovalCase):

    def test_a_raise_above_the_threshold_waits_for_a_second_finance_member(self):
        maker, checker = self.staff("admin", "finance"), self.staff("finance")
        tenant, user, password = self.onboard(cardLimits={"singleMax": kzt("100.00")})
        self.assert_declined_for_limit(user, password, 15000)
        revision = self.tenant(tenant)["revision"]

        request = self.pending_raise(tenant, maker)
        # The same PATCH again is the same request; nothing applied meanwhile.
        again = self.patch(tenant, {"cardLimits": {"singleMax": kzt("5000.00")}}, auth=maker)
        self.assertEqual((again.status, again.json["id"]), (202, request["id"]), again.raw[:300])
        shown = self.tenant(tenant)
        self.assertEqual((shown["revision"], shown["settings"]["cardLimits"]["singleMax"]),
                         (revision, kzt("100.00")))
        self.assert_declined_for_limit(user, password, 15000)

        r = self.call("POST", f"requests/{request['id']}/approve", auth=maker)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "request.own"), r.raw[:300])
        r = self.call("POST", f"requests/{request['id']}/approve", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "approved"), r.raw[:300])
        self.assertEqual(r.json["result"]["tenant"]["settings"]["cardLimits"]["singleMax"],
                         kzt("5000.00"))
        # Applied once, at once: the next payout above the old limit passes.
        self.assertEqual(self.tenant(tenant)["revision"], revision + 1)
        self.assert_pays(user, password, 15000)
        self.assert_declined_for_limit(user, password, 500001)
        r = self.call("POST", f"requests/{request['id']}/approve", auth=ADMIN_TOKEN)
        self.assertEqual((r.status, r.json["errorCode"]), (409, "request.decided"), r.raw[:300])
        self.assertAuditClean()

    def test_rejected_nothing_changes(self):
        maker, checker = self.staff("admin"), self.staff("finance")
        tenant, user, password = self.onboard(cardLimits={"singleMax": kzt("100.00")})
        before = self.tenant(tenant)
        request = self.pending_raise(tenant, maker)
        r = self.call("POST", f"requests/{request['id']}/reject", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "rejected"), r.raw[:300])
        r = self.call("POST", f"requests/{request['id']}/approve", auth=ADMIN_TOKEN)
        self.assertEqual((r.status, r.json["errorCode"]), (409, "request.decided"), r.raw[:300])
        after = self.tenant(tenant)
        self.assertEqual((after["revision"], after["settings"]), (before["revision"], before["settings"]))
        self.assert_declined_for_limit(user, password, 15000)

    def test_two_approvals_at_once_apply_once(self):
        maker = self.staff("admin")
        checkers = [self.staff("finance") for _ in range(3)]
        tenant, user, password = self.onboard(cardLimits={"singleMax": kzt("100.00")})
        revision = self.tenant(tenant)["revision"]
        request = self.pending_raise(tenant, maker)
        approvers = checkers * 3
        barrier = threading.Barrier(len(approvers))

        def approve(key):
            api = Api(self.server, keep_alive=False)
            barrier.wait(30)
            return self.call("POST", f"requests/{request['id']}/approve", auth=key, api=api)
        with ThreadPoolExecutor(len(approvers)) as pool:
            answers = list(pool.map(approve, approvers))
        self.assertEqual(sorted(r.status for r in answers), [200] + [409] * (len(approvers) - 1),
                         [r.raw[:200] for r in answers])
        self.assertEqual(self.tenant(tenant)["revision"], revision + 1)
        approvals = self.call("GET", f"audit?action=request.approve&target=request:{request['id']}")
        self.assertEqual(len(approvals.json["entries"]), 1, approvals.raw[:400])
        self.assert_pays(user, password, 15000)
        self.assertAuditClean()

    def test_within_the_threshold_one_finance_member_suffices(self):
        finance_admin, admin_only, checker = (self.staff("admin", "finance"), self.staff("admin"),
                                              self.staff("finance"))
        tenant, user, password = self.onboard(cardLimits={"singleMax": kzt("100.00")})
        # A caller with the finance role raises it to the threshold alone.
        r = self.patch(tenant, {"cardLimits": {"singleMax": kzt("200.00")}}, auth=finance_admin)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(r.json["tenant"]["settings"]["cardLimits"]["singleMax"], kzt("200.00"))
        self.assert_pays(user, password, 15000)
        # Without it, one finance member approves (any but the caller).
        r = self.patch(tenant, {"cardLimits": {"singleMax": kzt("1000.00")}}, auth=admin_only)
        self.assertEqual(r.status, 202, r.raw[:300])
        self.assertIn("within the threshold", r.json["reason"])
        self.assertIn("the caller does not hold the finance role", r.json["reason"])
        self.assert_declined_for_limit(user, password, 50000)
        r = self.call("POST", f"requests/{r.json['id']}/approve", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "approved"), r.raw[:300])
        self.assert_pays(user, password, 50000)
        # Lowering a limit, or a setting money does not depend on, asks nobody.
        r = self.patch(tenant, {"cardLimits": {"singleMax": kzt("150.00")}, "knp": "711"},
                       auth=admin_only)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assert_declined_for_limit(user, password, 15001)
        # A viewer or a finance member without admin does not PATCH at all.
        r = self.patch(tenant, {"knp": "710"}, auth=checker)
        self.assertEqual((r.status, r.json["errorCode"]), (403, "auth.role.missing"), r.raw[:300])

    def test_a_funding_method_enabled_or_a_limit_removed_waits_for_a_second_person(self):
        maker, checker = self.staff("admin", "finance"), self.staff("finance")
        tenant, _, _ = self.onboard(funding=["transit"], cardLimits={"countMax": 5})
        r = self.patch(tenant, {"funding": ["transit", "corporate_card"]}, auth=maker)
        self.assertEqual(r.status, 202, r.raw[:300])
        self.assertEqual(r.json["reason"], "settings.funding: corporate_card enabled")
        funding = r.json["id"]
        r = self.patch(tenant, {"cardLimits": {}}, auth=maker)
        self.assertEqual(r.status, 202, r.raw[:300])
        self.assertEqual(r.json["reason"], "settings.cardLimits.countMax: 5 payouts removed (no limit)")
        self.assertEqual(self.tenant(tenant)["settings"]["funding"], ["transit"])
        r = self.call("POST", f"requests/{funding}/approve", auth=checker)
        self.assertEqual((r.status, r.json["status"]), (200, "approved"), r.raw[:300])
        self.assertEqual(self.tenant(tenant)["settings"]["funding"], ["transit", "corporate_card"])
        # Disabling one narrows where money leaves: at once.
        r = self.patch(tenant, {"funding": ["corporate_card"]}, auth=maker)
        self.assertEqual(r.status, 200, r.raw[:300])

    def test_an_approved_limit_applies_on_another_node(self):
        if not self.server.postgres_url:
            self.skipTest("two nodes share a PostgreSQL database (e2e.postgres)")
        maker, checker = self.staff("admin"), self.staff("finance")
        other = Api(self.new_server(postgres_url=self.server.postgres_url))
        self.addCleanup(other.close)
        tenant, user, password = self.onboard(cardLimits={"singleMax": kzt("100.00")})
        request = self.pending_raise(tenant, maker)
        r = self.call("POST", f"requests/{request['id']}/approve", auth=checker)
        self.assertEqual(r.status, 200, r.raw[:300])
        # The other node sees the change within [tenants] refresh_ms (200 ms), without a restart.
        time.sleep(1.0)
        self.assert_pays(user, password, 15000, api=other)


if __name__ == "__main__":
    unittest.main()
