"""Bereke partners onboarded at run time, as card partners (docs/admin.md, "Tenants (partners at
run time)"): their card limits are settings that apply to the next payout without a restart
(declined above them in the bank's words), their card payouts are in the card payouts report
like a config partner's, a userName belongs to one partner (409 tenant.name.taken, decided in the
onboarding's own transaction), and a node without a card vault refuses to onboard one.
"""
import os
import re
import shutil
import sys
import tempfile
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import log_scan  # noqa: E402
from harness import (ADMIN_TOKEN, BEREKE_USER, CARD_OK, Api, IsolatedServerTestCase, Server,  # noqa: E402
                     config_text, unique)

OFFSET = timezone(timedelta(hours=3))  # [statements] utc_offset, the sandbox's default
LIMIT_EXCEEDED = "Превышен лимит выплат"


def kzt(value):
    return {"value": value, "currency": "KZT"}


def admin(api, method, path, body=None):
    return api.request(method, "/admin/v1/" + path, body=body, auth=ADMIN_TOKEN)


class CardPartnersTest(IsolatedServerTestCase):

    def onboard(self, partner, user, api=None, expect=201, **settings):
        r = admin(api or self.api, "POST", "tenants",
                  {"provider": "bereke", "id": partner, "settings": dict({"userName": user}, **settings)})
        self.assertEqual(r.status, expect, r.raw[:400])
        if r.status == 201:
            log_scan.remember_secret(r.json["issuedCredentials"][0]["secret"])
            return r.json["issuedCredentials"][0]["secret"]
        return r

    def fund(self, partner, value="1000.00"):
        r = admin(self.api, "POST", f"tenants/bereke:{partner}/funders/transit/credits/{unique('cr')}",
                  {"amount": kzt(value)})
        self.assertEqual(r.status, 200, r.raw[:300])

    def perform(self, user, password, amount, order=None):
        return self.api.bereke("performPayout.do", {
            "userName": user, "password": password, "orderNumber": order or unique("o"),
            "amount": amount, "currency": "398", "description": "Payout",
            "target": {"card": {"pan": CARD_OK}}})

    def test_card_limits_apply_to_the_next_payout_and_runtime_partners_are_reported(self):
        partner, user = unique("cp"), unique("u")[:30]
        password = self.onboard(partner, user, cardLimits={"singleMax": kzt("100.00"), "countMax": 2})
        self.fund(partner)
        # Above the single payout limit: declined in the bank's words, nothing reserved.
        r = self.perform(user, password, 10001)
        self.assertEqual((r.status, r.json["orderStatus"], r.json["errorMessage"]),
                         (200, "6", LIMIT_EXCEEDED), r.raw[:300])
        paid = unique("paid")
        r = self.perform(user, password, 10000, order=paid)
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "2"), r.raw[:300])
        # Lowering needs nobody: applied to the next payout at once, no restart (a PATCH replaces
        # the whole cardLimits).
        r = admin(self.api, "PATCH", f"tenants/bereke:{partner}",
                  {"settings": {"cardLimits": {"singleMax": kzt("0.50"), "countMax": 2}}})
        self.assertEqual(r.status, 200, r.raw[:300])
        r = self.perform(user, password, 51)
        self.assertEqual((r.json["orderStatus"], r.json["errorMessage"]), ("6", LIMIT_EXCEEDED))
        self.assertEqual(self.perform(user, password, 50).json["orderStatus"], "2")
        # The card's count within the window (2): the third payout to it is declined.
        r = self.perform(user, password, 50)
        self.assertEqual((r.json["orderStatus"], r.json["errorMessage"]), ("6", LIMIT_EXCEEDED))

        date = datetime.now(OFFSET).strftime("%Y-%m-%d")
        r = admin(self.api, "GET", f"reports/card-payouts?date={date}")
        self.assertEqual(r.status, 200, r.raw[:300])
        approved = {p["partnerId"]: p for p in r.json["groups"]["approved"]["payouts"]}
        self.assertIn(paid, approved)
        self.assertEqual(approved[paid]["tenant"], f"bereke:{partner}")

    def test_a_user_name_belongs_to_one_partner(self):
        first, user = unique("un"), unique("u")[:30]
        self.onboard(first, user)
        for taken in (user, BEREKE_USER):  # a runtime partner's, the config partner's
            r = self.onboard(unique("un"), taken, expect=409)
            self.assertEqual(r.json["errorCode"], "tenant.name.taken", r.raw[:300])
            self.assertIn("settings.userName", r.raw.decode())
        second = unique("un")
        self.onboard(second, unique("u")[:30])
        r = admin(self.api, "PATCH", f"tenants/bereke:{second}", {"settings": {"userName": user}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "tenant.name.taken"), r.raw[:300])
        # Renamed, a partner frees its old name.
        r = admin(self.api, "PATCH", f"tenants/bereke:{first}", {"settings": {"userName": user + "x"}})
        self.assertEqual(r.status, 200, r.raw[:300])
        r = admin(self.api, "PATCH", f"tenants/bereke:{second}", {"settings": {"userName": user}})
        self.assertEqual(r.status, 200, r.raw[:300])

    def test_onboarding_one_name_at_once_makes_one_partner(self):
        apis = [self.api]
        if self.server.postgres_url:
            apis.append(Api(self.new_server(postgres_url=self.server.postgres_url)))
            self.addCleanup(apis[1].close)
        user = unique("race")[:30]
        attempts = 8
        barrier = threading.Barrier(attempts)

        def create(i):
            api = Api(apis[i % len(apis)].target, keep_alive=False)
            barrier.wait(30)
            return admin(api, "POST", "tenants", {"provider": "bereke", "id": unique("race"),
                                                  "settings": {"userName": user}})
        with ThreadPoolExecutor(attempts) as pool:
            answers = list(pool.map(create, range(attempts)))
        for r in answers:
            if r.status == 201:
                log_scan.remember_secret(r.json["issuedCredentials"][0]["secret"])
        self.assertEqual(sorted(r.status for r in answers), [201] + [409] * (attempts - 1),
                         [r.raw[:200] for r in answers])
        listed = admin(self.api, "GET", "tenants?provider=bereke").json["tenants"]
        self.assertEqual(len([t for t in listed if t["settings"]["userName"] == user]), 1)


class NoVaultTest(unittest.TestCase):
    """A node without [vault] kek (no card partner in its config) refuses to onboard one."""

    def test_a_card_partner_needs_the_vault(self):
        text = re.sub(r'^kek = ".*"$', "", config_text(), flags=re.M)
        text = text[:text.index("[[bereke.partners]]")]
        tmp = tempfile.mkdtemp(prefix="payoutd-e2e-novault-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "no-vault.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        server = Server()
        server.config = path
        self.addCleanup(server.close)
        server.start()
        api = Api(server)
        self.addCleanup(api.close)
        r = admin(api, "POST", "tenants", {"provider": "bereke", "id": unique("nv"),
                                           "settings": {"userName": unique("u")[:30]}})
        self.assertEqual((r.status, r.json["errorCode"]), (409, "vault.required"), r.raw[:300])
        self.assertIn("[vault] kek", r.raw.decode())
        listed = admin(api, "GET", "tenants?provider=bereke")
        self.assertEqual((listed.status, listed.json["tenants"]), (200, []), listed.raw[:300])
        server.stop(check=True)


if __name__ == "__main__":
    unittest.main()
