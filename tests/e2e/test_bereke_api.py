"""Bereke Payouts Module v2 (seed 003, docs/bereke.md): every method's behaviour beyond one request
and its answer: every sandbox test card's outcome, funding from the corporate card, payouts to
bindings, a race on one orderNumber, expiry, throttling, partners' isolation and settings. The
seed's examples and the error table's rows are scenario files (scenarios/bereke/)."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BEREKE_PASSWORD, BEREKE_USER, CARD_DECLINED, CARD_OK, CARD_OK_MC,  # noqa: E402
                     CARD_SLOW_DECLINED, CARD_SLOW_OK, CARD_TIMEOUT, CORPORATE_BALANCE, CORPORATE_BINDING,
                     RECIPIENT_BINDING, RECIPIENT_CLIENT, TRANSIT_BALANCE, UUID_RE, Api, ServerTestCase,
                     unique)


def wait_for_status(api, order_number, wanted, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        r = api.bereke_status(order_number)
        if r.json.get("orderStatus") == wanted or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


class BerekeCase(ServerTestCase):

    def assertError(self, r, status, code, message):
        self.assertEqual(r.status, status, r.raw)
        self.assertEqual(r.json, {"errorCode": code, "errorMessage": message}, r.raw)

    def assertOrder(self, r, status, amount=1234):
        self.assertEqual(r.status, 200, r.raw)
        j = r.json
        self.assertEqual(j["errorCode"], "0", j)
        self.assertEqual(j["orderStatus"], status, j)
        self.assertEqual(j["amount"], amount)
        self.assertEqual(j["fee"], 0)
        self.assertEqual(j["currency"], "398")
        self.assertRegex(j["orderId"], UUID_RE)
        self.assertIsInstance(j["creationDate"], int)
        return j


class MethodsTest(BerekeCase):

    def test_transit_balance_starts_at_the_sandbox_figure(self):
        # No other test of this class pays from the transit account before this one reads it...
        # so read it as a lower bound and check the sign and currency.
        r = self.api.bereke("getAmount.do", {})
        self.assertEqual(r.status, 200)
        b = r.json["balanceDescriptionList"]
        self.assertEqual((b["balanceCurrency"], b["balanceSign"]), ("398", "C"))
        self.assertLessEqual(b["balanceAmount"], TRANSIT_BALANCE)

    def test_every_success_card_pays_and_moves_the_amount_once(self):
        for pan, mask in ((CARD_OK, "411111XXXXXX1111"), (CARD_OK_MC, "555555XXXXXX4444")):
            with self.subTest(pan=mask):
                before = self.api.bereke_balance()
                order = unique("ok")
                j = self.assertOrder(self.api.perform(order, pan, amount=5000), "2", 5000)
                self.assertEqual(j["target"], {"maskedPan": mask})  # no client: no binding
                self.assertEqual(self.api.bereke_balance(), before - 5000)
                credit = self.api.rail_credit(j["orderId"])
                self.assertEqual((credit["outcome"], credit["received"], credit["maskedPan"]),
                                 ("approved", 1, mask))

    def test_declined_card_voids_the_reservation(self):
        before = self.api.bereke_balance()
        order = unique("decl")
        j = self.assertOrder(self.api.perform(order, CARD_DECLINED, amount=700), "6", 700)
        self.assertEqual(j["errorMessage"], "Отказ эмитента")
        [op] = j["operationList"]
        self.assertEqual(op["resultCode"], 1)
        self.assertNotIn("refNum", op)
        self.assertEqual(self.api.bereke_balance(), before)

    def test_processing_cards_become_final(self):
        for pan, final in ((CARD_SLOW_OK, "2"), (CARD_SLOW_DECLINED, "6")):
            with self.subTest(pan=pan):
                before = self.api.bereke_balance()
                order = unique("slow")
                j = self.assertOrder(self.api.perform(order, pan, amount=300), "1", 300)
                self.assertNotIn("operationList", j)
                self.assertEqual(self.api.bereke_balance(), before - 300)  # reserved
                done = wait_for_status(self.api, order, final)
                self.assertOrder(done, final, 300)
                self.assertEqual(self.api.bereke_balance(), before - (300 if final == "2" else 0))

    def test_rail_timeout_answers_504_then_reconciles_to_success(self):
        before = self.api.bereke_balance()
        order = unique("tmo")
        r = self.api.perform(order, CARD_TIMEOUT, amount=900)
        self.assertError(r, 504, "91", "Timeout when requesting sandbox-card-rail")
        self.assertEqual(r.reason, "Gateway Timeout")  # the standard phrase, as the seed's table
        # Never guessed: the reservation stands until the network says what happened.
        self.assertOrder(self.api.bereke_status(order), "1", 900)
        self.assertEqual(self.api.bereke_balance(), before - 900)
        done = wait_for_status(self.api, order, "2")
        j = self.assertOrder(done, "2", 900)
        self.assertEqual(self.api.rail_credit(j["orderId"])["received"], 1)
        self.assertEqual(self.api.bereke_balance(), before - 900)
        # The same request again is answered from the record.
        again = self.api.perform(order, CARD_TIMEOUT, amount=900)
        self.assertEqual(again.json, done.json)

    def test_corporate_card_funds_the_payout(self):
        transit = self.api.bereke_balance()
        corporate = self.api.bereke_balance(CORPORATE_BINDING)
        self.assertLessEqual(corporate, CORPORATE_BALANCE)
        order = unique("corp")
        j = self.assertOrder(self.api.perform(order, CARD_OK, amount=2500, source=CORPORATE_BINDING), "2", 2500)
        self.assertEqual(j["source"], {"bindingId": CORPORATE_BINDING})
        self.assertEqual(self.api.bereke_balance(CORPORATE_BINDING), corporate - 2500)
        self.assertEqual(self.api.bereke_balance(), transit)
        self.assertEqual(self.api.bereke_status(order).json, j)

    def test_corporate_card_cannot_pay_more_than_it_holds(self):
        corporate = self.api.bereke_balance(CORPORATE_BINDING)
        order = unique("poor")
        j = self.assertOrder(self.api.perform(order, CARD_OK, amount=corporate + 1, source=CORPORATE_BINDING),
                             "6", corporate + 1)
        self.assertEqual(j["errorMessage"], "Недостаточно средств на балансе")
        self.assertNotIn("operationList", j)
        self.assertEqual(self.api.bereke_balance(CORPORATE_BINDING), corporate)

    def test_payout_to_the_sandbox_binding(self):
        order = unique("bind")
        j = self.assertOrder(self.api.perform(order, binding=RECIPIENT_BINDING, amount=111), "2", 111)
        self.assertEqual(j["target"], {"bindingId": RECIPIENT_BINDING, "clientId": RECIPIENT_CLIENT,
                                       "maskedPan": "411111XXXXXX1111"})

    def test_a_new_card_of_a_client_becomes_a_binding(self):
        client = unique("client")
        first = self.assertOrder(self.api.perform(unique("nb"), CARD_OK_MC, amount=10,
                                                  client={"clientId": client}), "2", 10)
        binding = first["target"]["bindingId"]
        self.assertRegex(binding, UUID_RE)
        self.assertNotEqual(binding, RECIPIENT_BINDING)
        second = self.assertOrder(self.api.perform(unique("nb"), binding=binding, amount=20), "2", 20)
        self.assertEqual(second["target"], {"bindingId": binding, "clientId": client,
                                            "maskedPan": "555555XXXXXX4444"})
        # The same client and card again: the same binding.
        third = self.assertOrder(self.api.perform(unique("nb"), CARD_OK_MC, amount=30,
                                                  client={"clientId": client}), "2", 30)
        self.assertEqual(third["target"]["bindingId"], binding)

    def test_concurrent_perform_on_one_order_number_pays_once(self):
        before = self.api.bereke_balance()
        order = unique("race")
        answers = []
        lock = threading.Lock()

        def send():
            api = Api(self.server)
            try:
                r = api.perform(order, CARD_OK, amount=777)
                with lock:
                    answers.append(r)
            finally:
                api.close()
        threads = [threading.Thread(target=send) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(answers), 16)
        self.assertEqual({r.status for r in answers}, {200})
        self.assertEqual({r.json["orderId"] for r in answers}, {answers[0].json["orderId"]})
        self.assertEqual({r.json["orderStatus"] for r in answers}, {"2"})
        self.assertEqual(self.api.bereke_balance(), before - 777)
        self.assertEqual(self.api.rail_credit(answers[0].json["orderId"])["received"], 1)

    def test_registered_order_expires_without_moving_money(self):
        before = self.api.bereke_balance()
        order = unique("exp")
        r = self.api.bereke("registerPayout.do", {"orderNumber": order, "amount": 500, "currency": "398",
                                                  "sessionTimeoutSecs": 1})
        self.assertEqual(r.status, 200, r.raw)
        self.assertOrder(self.api.bereke_status(order), "0", 500)
        j = self.assertOrder(wait_for_status(self.api, order, "6"), "6", 500)
        self.assertEqual(j["errorMessage"], "Время сессии истекло")
        self.assertEqual(self.api.bereke_balance(), before)
        # A registered order is not a performPayout: the same number there is a conflict.
        self.assertError(self.api.perform(order, CARD_OK, amount=500), 400, "1",
                         "Order with this number was already processed")

    def test_status_by_order_id_wins_and_is_case_insensitive(self):
        order = unique("st")
        j = self.assertOrder(self.api.perform(order, CARD_OK, amount=12), "2", 12)
        r = self.api.bereke_status(order_number="someone-else", order_id=j["orderId"].upper())
        self.assertEqual(r.json, j)
        en = self.api.bereke("getPayoutStatus.do", {"orderNumber": order, "language": "en"})
        self.assertEqual(en.json["errorMessage"], "Success")
        self.assertEqual(en.json["operationList"][0]["resultCodeDescription"], "Transfer completed")


class AdminFundingTest(BerekeCase):
    """An operator credits any tenant's funding account from outside: a Bereke partner's transit
    account and corporate cards, an ecommpay merchant balance (admin API, idempotent by id)."""

    def admin(self, method, path, body=None):
        return self.api.request(method, "/admin/v1/tenants/" + path, body=body, auth=ADMIN_TOKEN)

    def test_funding_accounts_of_every_dialect_are_credited_once(self):
        before = self.api.bereke_balance(CORPORATE_BINDING)
        body = {"amount": {"value": "12.34", "currency": "KZT"}}
        path = f"bereke:sandbox-partner/funders/{CORPORATE_BINDING}/credits/top-up-1"
        r = self.admin("POST", path, body)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.api.bereke_balance(CORPORATE_BINDING), before + 1234)
        self.assertEqual(self.admin("POST", path, body).status, 200)  # a replay: credited once
        self.assertEqual(self.api.bereke_balance(CORPORATE_BINDING), before + 1234)
        self.assertEqual(self.admin("POST", path, {"amount": {"value": "1.00", "currency": "KZT"}}).status, 409)
        r = self.admin("GET", f"bereke:sandbox-partner/funders/{CORPORATE_BINDING}")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json["displayName"], "Corporate card 555555XXXXXX4444")
        r = self.admin("GET", "ecommpay:91348/funders/merchant")
        self.assertEqual((r.status, r.json["currency"]), (200, "EUR"), r.raw)
        self.assertEqual(self.admin("POST", "ecommpay:91348/funders/merchant/credits/m-1",
                                    {"amount": {"value": "5.00", "currency": "EUR"}}).status, 200)
        # Refusals: an unknown tenant or account, a bad id, another currency, no token.
        self.assertEqual(self.admin("GET", "bereke:nobody/funders/transit").status, 404)
        self.assertEqual(self.admin("GET", "bereke:sandbox-partner/funders/nothing").status, 404)
        self.assertEqual(self.admin("POST", "bereke:sandbox-partner/funders/transit/credits/a%20b", body).status, 400)
        self.assertEqual(self.admin("POST", "bereke:sandbox-partner/funders/transit/credits/c-2",
                                    {"amount": {"value": "1.00", "currency": "EUR"}}).status // 100, 4)
        self.assertEqual(self.api.request("POST", "/admin/v1/tenants/" + path, body=body, auth=None).status, 401)
        rc, out = self.server.run_audit()
        self.assertEqual(rc, 0, out)


class ThrottleTest(BerekeCase):
    """Wrong credentials of the API (docs/bereke.md, "Authentication"); a minute's first delay, so
    that a slow machine cannot let it run out between two attempts."""
    server_options = {"config_replace": {"delay_first_ms = 1000": "delay_first_ms = 60000"}}

    def test_guessing_passwords_is_throttled_per_user_and_address(self):
        # 300 wrong passwords once took 0.08 s and the right one still worked. Now a few fail with
        # 401, then every attempt from that address waits (429, Retry-After), the right password
        # too; the partner calling from its own address is not slowed, and an unknown userName is
        # throttled exactly as a known one.
        for user, source in ((BEREKE_USER, "127.0.0.7"), ("no-such-user", "127.0.0.8")):
            with self.subTest(user=user):
                guesser = Api(self.server, source=source)
                self.addCleanup(guesser.close)
                statuses = [guesser.bereke("getAmount.do", {"userName": user, "password": f"guess-{i}"}).status
                            for i in range(300)]
                self.assertEqual(statuses[:4], [401] * 4, statuses[:10])
                self.assertEqual(set(statuses[4:]), {429}, statuses[:10])
                r = guesser.bereke("getAmount.do", {"userName": user, "password": BEREKE_PASSWORD})
                self.assertEqual(r.status, 429, r.raw)
                self.assertEqual(r.json["errorCode"], "90")
                self.assertIn("Too many failed authentication attempts", r.json["errorMessage"])
                self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        self.assertEqual(self.api.bereke("getAmount.do", {}).status, 200)  # the partner, from 127.0.0.1


class IsolationTest(BerekeCase):
    """A second partner sees none of the first one's orders or bindings."""
    server_options = {"extra_config": '''
[[bereke.partners]]
id = "second-partner"
user_name = "second_user"
password = "second_password"
transit_balance = 1000
'''}

    def test_partners_do_not_see_each_other(self):
        order = unique("iso")
        j = self.assertOrder(self.api.perform(order, CARD_OK, amount=10), "2", 10)
        second = {"userName": "second_user", "password": "second_password"}
        not_found = "Order not found in payout proxy. Check orderId or orderNumber"
        self.assertError(self.api.bereke("getPayoutStatus.do", dict(second, orderNumber=order)), 400, "98", not_found)
        self.assertError(self.api.bereke("getPayoutStatus.do", dict(second, orderId=j["orderId"])), 400, "98", not_found)
        r = self.api.bereke("performPayout.do", dict(second, orderNumber=unique("iso"), amount=10, currency="398",
                                                     target={"bindingId": RECIPIENT_BINDING}))
        self.assertError(r, 502, "99", "Unable to get card data for specified bindingId")
        r = self.api.bereke("getAmount.do", dict(second, source={"bindingId": CORPORATE_BINDING}))
        self.assertError(r, 400, "98", "Source is not specified or is incorrect compared to configured debit tools")
        self.assertEqual(self.api.bereke("getAmount.do", second).json["balanceDescriptionList"]["balanceAmount"], 1000)
        # The same order number is the second partner's own.
        mine = self.api.bereke("performPayout.do", dict(second, orderNumber=order, amount=10, currency="398",
                                                        target={"card": {"pan": CARD_OK}}))
        self.assertEqual(mine.json["orderStatus"], "2", mine.raw)
        self.assertNotEqual(mine.json["orderId"], j["orderId"])


class PartnerSettingsTest(BerekeCase):
    """The error rows that depend on a partner's settings: its debit methods, and a partner whose
    accounts were never set up (added to the config after the database was provisioned)."""
    server_options = {"extra_config": '''
[[bereke.partners]]
id = "cards-only"
user_name = "cards_only_user"
password = "cards_only_password"
funding = ["corporate_card"]

  [[bereke.partners.corporate_cards]]
  binding_id = "aaaaaaaa-0000-4000-8000-000000000001"
  pan = "5555555555554444"
  balance = 5000
'''}
    LATE = '''
[[bereke.partners]]
id = "late-partner"
user_name = "late_user"
password = "late_password"
'''

    def test_debit_method_not_configured(self):
        me = {"userName": "cards_only_user", "password": "cards_only_password"}
        wrong = "Payout config error: debit method is incorrect for specified payout type"
        order = unique("dm")
        body = dict(me, orderNumber=order, amount=10, currency="398", target={"card": {"pan": CARD_OK}})
        self.assertError(self.api.bereke("performPayout.do", body), 400, "98", wrong)
        self.assertError(self.api.bereke("registerPayout.do", dict(me, orderNumber=order, amount=10, currency="398")),
                         400, "98", wrong)
        self.assertError(self.api.bereke("getAmount.do", me), 400, "98", wrong)
        self.assertError(self.api.bereke("getPayoutStatus.do", dict(me, orderNumber=order)), 400, "98",
                         "Order not found in payout proxy. Check orderId or orderNumber")
        card = "aaaaaaaa-0000-4000-8000-000000000001"
        ok = self.api.bereke("performPayout.do", dict(body, source={"bindingId": card}))
        self.assertEqual(ok.json["orderStatus"], "2", ok.raw)
        r = self.api.bereke("getAmount.do", dict(me, source={"bindingId": card}))
        self.assertEqual(r.json["balanceDescriptionList"]["balanceAmount"], 4990)

    def test_a_partner_added_to_the_config_later_has_its_transit_account(self):
        # Written into the tenant directory at start, it gets its transit account at zero (before,
        # it answered "No merchant settings available" until an operator opened one): a payout is
        # declined for want of funds and moves nothing, and a credit makes it pay.
        self.server.stop()
        with open(self.server.config, "a", encoding="utf-8") as f:
            f.write(self.LATE)
        self.server.start()
        late = {"userName": "late_user", "password": "late_password"}
        r = self.api.bereke("getAmount.do", late)
        self.assertEqual((r.status, r.json["balanceDescriptionList"]["balanceAmount"]), (200, 0), r.raw)
        order = unique("late")
        body = dict(late, orderNumber=order, amount=10, currency="398", target={"card": {"pan": CARD_OK}})
        r = self.api.bereke("performPayout.do", body)
        self.assertEqual((r.status, r.json["orderStatus"], r.json["errorMessage"]),
                         (200, "6", "Недостаточно средств на балансе"), r.raw)
        credit = self.api.request("POST", "/admin/v1/tenants/bereke:late-partner/funders/transit/credits/c1",
                                  body={"amount": {"value": "1.00", "currency": "KZT"}}, auth=ADMIN_TOKEN)
        self.assertEqual(credit.status, 200, credit.raw)
        r = self.api.bereke("performPayout.do", dict(body, orderNumber=unique("late")))
        self.assertEqual((r.status, r.json["orderStatus"]), (200, "2"), r.raw)
        r = self.api.bereke("getAmount.do", late)
        self.assertEqual(r.json["balanceDescriptionList"]["balanceAmount"], 90, r.raw)


class AuditTest(BerekeCase):

    def test_ledger_is_sound_after_card_payouts(self):
        for pan in (CARD_OK, CARD_DECLINED, CARD_SLOW_OK):
            self.api.perform(unique("aud"), pan, amount=100)
        time.sleep(2.5)  # the processing card settles
        code, out = self.server.run_audit()
        self.assertEqual(code, 0, out)
        self.assertIn("every invariant holds", out)


if __name__ == "__main__":
    unittest.main()
