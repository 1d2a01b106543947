"""Bereke Payouts Module v2 (seed 003, docs/bereke.md): the seed's examples sent unchanged, every
method, every error row the engine can produce, every sandbox test card, funding from the
corporate card, payouts to bindings, replays and a race on one orderNumber."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BEREKE_PASSWORD, BEREKE_USER, CARD_BAD_LUHN, CARD_CANADA, CARD_DECLINED,  # noqa: E402
                     CARD_OK, CARD_OK_MC, CARD_SLOW_DECLINED, CARD_SLOW_OK, CARD_TIMEOUT, CARD_UK,
                     CARD_UNKNOWN_BIN, CORPORATE_BALANCE, CORPORATE_BINDING, RECIPIENT_BINDING,
                     RECIPIENT_CLIENT, TRANSIT_BALANCE, UUID_RE, Api, ServerTestCase, unique)

REQUIRED = " is \u0430 required parameter"  # the seed's Cyrillic "а"
ORDER_NUMBER_PATTERN = "^(?!\\.+$)[0-9A-Za-z_.-]{1,32}$"  # 1..32 of the class, not dots alone
AFFILIATION = "\u0421ard affiliation does not match required pattern"  # the seed's Cyrillic "С"

# The seed's examples, byte for byte (the registerPayout one keeps its trailing comma).
SEED_GET_AMOUNT = b'''{
    "userName": "payout_api_username",
    "password": "payout_api_password",
    "source": {
      "bindingId": "4908a3c3-6c7c-75d3-9707-66ab06c12040"
    }
}'''
SEED_REGISTER = b'''{
    "userName": "payout_api_username",
    "password": "payout_api_password",
    "orderNumber": "1645458818047",
    "amount": 1234,
    "currency": "398",
    "description": "Decent payout",
    "language": "EN",
    "client": {
        "clientId": "12345abc-d67e-8901-23fg-h45i67jk8901",
        "email": "payee@mail.com",
        "phone": "9991234567"
    },
    "urls": {
        "returnUrl": "https://partnerdomain.com/&result=ok",
        "failUrl": "https://partnerdomain.com/&result=ok",
    },
    "sessionTimeoutSecs": 300,
    "jsonParams": {
        "paramname1": "paramvalue1",
        "paramname2": "paramvalue2"
    }
}'''
SEED_PERFORM = b'''{
    "username": "payout_api_username",
    "password": "payout_api_password",
    "orderNumber": "payout_1",
    "amount": 1234,
    "currency": "398",
    "client": {
        "clientId": "12345abc-d67e-8901-23fg-h45i67jk8901",
        "email": "payee@mail.com",
        "phone": "9991234567"
    },
    "target": {
        "pan": "4111111111111111"
    },
    "jsonParams": {
        "paramname1": "paramvalue1",
        "paramname2": "paramvalue2"
    }
}'''
SEED_STATUS = b'''{
    "username": "payout_api_username",
    "password": "payout_api_password",
    "orderNumber": "payout_1"
}'''


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

    def assertNothingCreated(self, order_number):
        self.assertError(self.api.bereke_status(order_number), 400, "98",
                         "Order not found in payout proxy. Check orderId or orderNumber")


class SeedExamplesTest(BerekeCase):
    """Each example request of the seed, sent unchanged to a fresh sandbox."""

    def test_echo(self):
        r = self.api.request("GET", "/payouts/api/v2/echo", auth=None)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        self.assertRegex(r.raw.decode(), r"^Payout v2\.3 is online in channel Payout_APIserver - \S+\[instance:\S+\]$")

    def test_get_amount_example_answers_the_documented_balance(self):
        r = self.api.bereke("getAmount.do", raw_body=SEED_GET_AMOUNT)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json, {"errorCode": "0", "balanceDescriptionList": {
            "balanceAmount": 49925200, "balanceCurrency": "398", "balanceSign": "C"}})

    def test_register_example_with_its_trailing_comma_is_accepted(self):
        r = self.api.bereke("registerPayout.do", raw_body=SEED_REGISTER)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(set(r.json), {"errorCode", "orderNumber", "orderId", "formUrl"})
        self.assertEqual(r.json["errorCode"], "0")
        self.assertEqual(r.json["orderNumber"], "1645458818047")
        self.assertRegex(r.json["orderId"], UUID_RE)
        self.assertRegex(r.json["formUrl"],
                         r"^http://127\.0\.0\.1:\d+/payouts/payment/payment_en\.html\?mdOrder=" + r.json["orderId"] + "$")
        # The same example without the comma is the same request: replayed, not a conflict.
        again = self.api.bereke("registerPayout.do", raw_body=SEED_REGISTER.replace(b'ok",\n    }', b'ok"\n    }'))
        self.assertEqual(again.json, r.json)
        status = self.api.bereke_status(order_id=r.json["orderId"])
        j = self.assertOrder(status, "0")
        self.assertEqual(j["description"], "Decent payout")
        self.assertEqual(j["orderParams"], {"paramname1": "paramvalue1", "paramname2": "paramvalue2"})
        self.assertNotIn("operationList", j)

    def test_perform_then_status_examples(self):
        before = self.api.bereke_balance()
        r = self.api.bereke("performPayout.do", raw_body=SEED_PERFORM)
        j = self.assertOrder(r, "2")
        self.assertEqual(j["errorMessage"], "Успешно")
        self.assertEqual(j["orderNumber"], "payout_1")
        self.assertEqual(j["orderParams"], {"paramname1": "paramvalue1", "paramname2": "paramvalue2"})
        self.assertEqual(j["target"], {"bindingId": RECIPIENT_BINDING, "clientId": RECIPIENT_CLIENT,
                                       "maskedPan": "411111XXXXXX1111"})
        self.assertNotIn("source", j)  # funded by the transit account
        [op] = j["operationList"]
        self.assertEqual(op["operationType"], "P2P_CREDIT")
        self.assertEqual((op["amount"], op["currency"], op["resultCode"]), (1234, "398", 0))
        self.assertEqual(op["resultCodeDescription"], "Перевод исполнен")
        self.assertRegex(op["refNum"], r"^[0-9]{12}$")
        self.assertEqual(op["pan"], "411111XXXXXX1111")
        self.assertGreaterEqual(op["operationDate"], j["creationDate"])
        self.assertEqual(self.api.bereke_balance(), before - 1234)
        status = self.api.bereke("getPayoutStatus.do", raw_body=SEED_STATUS)
        self.assertEqual(status.json, j)


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

    def test_cards_refused_before_anything_is_created(self):
        cases = (
            (CARD_UK, 400, "98", AFFILIATION),
            (CARD_CANADA, 400, "98", AFFILIATION),
            (CARD_UNKNOWN_BIN, 502, "204", "Cannot find any bin range in db for 499999"),
            (CARD_BAD_LUHN, 502, "204", "Unsupported pan"),
            ("", 502, "400", "Invalid request: bin is empty or is not numeric"),
            ("4111 1111 1111 1111", 502, "400", "Invalid request: bin is empty or is not numeric"),
            ("41111111111", 400, "98", "target.card.pan does not match required pattern ^[0-9]{13,19}$"),
        )
        before = self.api.bereke_balance()
        for pan, status, code, message in cases:
            with self.subTest(pan=pan):
                order = unique("bad")
                self.assertError(self.api.perform(order, pan), status, code, message)
                self.assertNothingCreated(order)
        self.assertEqual(self.api.bereke_balance(), before)

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

    def test_bad_sources_are_refused(self):
        source_error = "Source is not specified or is incorrect compared to configured debit tools"
        for source in ("00000000-0000-4000-8000-000000000000", RECIPIENT_BINDING):
            with self.subTest(source=source):
                order = unique("src")
                self.assertError(self.api.perform(order, CARD_OK, source=source), 400, "98", source_error)
                self.assertNothingCreated(order)
                self.assertError(self.api.bereke("getAmount.do", {"source": {"bindingId": source}}),
                                 400, "98", source_error)

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

    def test_unknown_target_binding(self):
        order = unique("nob")
        self.assertError(self.api.perform(order, binding="00000000-0000-4000-8000-000000000001"),
                         502, "99", "Unable to get card data for specified bindingId")
        self.assertNothingCreated(order)
        # A debit tool is not a recipient card.
        self.assertError(self.api.perform(unique("nob"), binding=CORPORATE_BINDING),
                         502, "99", "Unable to get card data for specified bindingId")

    def test_replay_and_conflicting_replay(self):
        before = self.api.bereke_balance()
        order = unique("rep")
        first = self.assertOrder(self.api.perform(order, CARD_OK, amount=400, description="rent"), "2", 400)
        again = self.api.perform(order, CARD_OK, amount=400, description="rent")
        self.assertEqual(again.json, first)
        for changed in ({"amount": 401}, {"description": "other"}, {"pan": CARD_OK_MC}):
            with self.subTest(changed=changed):
                fields = {"amount": 400, "description": "rent", "pan": CARD_OK}
                fields.update(changed)
                r = self.api.perform(order, fields.pop("pan"), **fields)
                self.assertError(r, 400, "1", "Order with this number was already processed")
        self.assertEqual(self.api.bereke_balance(), before - 400)
        self.assertEqual(self.api.bereke_status(order).json, first)

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


class ErrorRowsTest(BerekeCase):
    """The seed's error table, row by row; none of these changes anything."""

    def test_credentials(self):
        mandatory = "userName and password are mandatory fields"
        for body in ({"password": BEREKE_PASSWORD}, {"userName": BEREKE_USER}, {"userName": "", "password": ""},
                     {"userName": 5, "password": BEREKE_PASSWORD}):
            with self.subTest(body=body):
                self.assertError(self.api.bereke("getAmount.do", body), 400, "98", mandatory)
        for user, password in ((BEREKE_USER, "wrong"), ("someone", BEREKE_PASSWORD)):
            with self.subTest(user=user):
                r = self.api.bereke("getAmount.do", {"userName": user, "password": password})
                self.assertError(r, 401, "90", "User not authenticated")

    def test_required_parameters(self):
        base = {"orderNumber": unique("req"), "amount": 10, "currency": "398", "target": {"card": {"pan": CARD_OK}}}
        for name in ("orderNumber", "amount", "currency", "target"):
            with self.subTest(name=name):
                body = {k: v for k, v in base.items() if k != name}
                self.assertError(self.api.bereke("performPayout.do", body), 400, "98", name + REQUIRED)
        r = self.api.bereke("registerPayout.do", {"orderNumber": unique("req"), "amount": 10, "currency": "398",
                                                  "urls": {"failUrl": "https://x.example/f"}})
        self.assertError(r, 400, "98", "urls.returnUrl" + REQUIRED)
        self.assertError(self.api.bereke("performPayout.do", dict(base, target={})), 400, "98",
                         "target.card.pan" + REQUIRED)
        self.assertNothingCreated(base["orderNumber"])

    def test_patterns(self):
        cases = (
            ({"amount": 12.5}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"amount": 0}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"amount": -5}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"amount": 1e3}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"amount": 1234567890123}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"amount": [1]}, "amount", "^[1-9][0-9]{0,11}$"),
            ({"orderNumber": "x" * 33}, "orderNumber", ORDER_NUMBER_PATTERN),
            ({"orderNumber": "a b"}, "orderNumber", ORDER_NUMBER_PATTERN),
            # Dots alone are path segments to proxies and tools, never an order number.
            ({"orderNumber": ".."}, "orderNumber", ORDER_NUMBER_PATTERN),
            ({"orderNumber": "."}, "orderNumber", ORDER_NUMBER_PATTERN),
            ({"orderNumber": "...."}, "orderNumber", ORDER_NUMBER_PATTERN),
            ({"language": "english"}, "language", "^[A-Za-z]{2}$"),
            ({"description": "d" * 599}, "description", "^.{0,598}$"),
            ({"client": {"phone": "+7999"}}, "client.phone", "^[0-9]{1,15}$"),
            ({"client": {"name": "Иван"}}, "client.name", "^[A-Za-z .'-]{1,24}$"),
            ({"client": {"email": "not-an-email"}}, "client.email", "^[^@\\s]{1,28}@[^@\\s]{1,28}$ (30 characters at most)"),
            ({"client": {"clientId": "c" * 65}}, "client.clientId", "^.{1,64}$"),
            ({"sessionTimeoutSecs": 0}, "sessionTimeoutSecs", "^[1-9][0-9]{0,5}$"),
            ({"urls": {"returnUrl": "ftp://x.example"}}, "urls.returnUrl", "^https?://[^\\s]{1,500}$"),
            ({"jsonParams": {"k": "v" * 1025}}, "jsonParams.k", "^.{0,1024}$"),
            ({"jsonParams": {"k": {"nested": 1}}}, "jsonParams.k", "^.{0,1024}$"),
        )
        for fields, name, pattern in cases:
            with self.subTest(fields=fields):
                order = unique("pat")
                body = {"orderNumber": order, "amount": 10, "currency": "398"}
                body.update(fields)
                r = self.api.bereke("registerPayout.do", body)
                self.assertError(r, 400, "98", f"{name} does not match required pattern {pattern}")
                if "orderNumber" not in fields:
                    self.assertNothingCreated(order)

    def test_amount_as_a_digit_string_is_accepted(self):
        r = self.api.bereke("registerPayout.do", {"orderNumber": unique("str"), "amount": "250", "currency": 398})
        self.assertEqual(r.status, 200, r.raw)

    def test_currency(self):
        for currency in ("643", "KZT", "", 840):
            with self.subTest(currency=currency):
                order = unique("cur")
                r = self.api.perform(order, CARD_OK, currency=currency)
                if currency == "":
                    self.assertError(r, 400, "98", "currency" + REQUIRED)
                else:
                    self.assertError(r, 400, "98", "Currency does not match required pattern")
                self.assertNothingCreated(order)

    def test_request_not_set_and_malformed_json(self):
        for method, message_type in (("performPayout.do", "PerformPayoutRequest"),
                                     ("registerPayout.do", "RegisterPayoutRequest"),
                                     ("getAmount.do", "GetAmountRequest"),
                                     ("getPayoutStatus.do", "GetPayoutStatusRequest")):
            with self.subTest(method=method):
                not_set = f"Errors while parsing incoming request: {message_type} is not set for method {method}"
                for raw in (b"", b"   ", b"[]", b"null", b'"x"'):
                    self.assertError(self.api.bereke(method, raw_body=raw), 400, "98", not_set)
                for raw in (b"{", b'{"userName": }', b"{'a': 1}", b'{"a":1}{"b":2}', b'{"a":1,"a":2}',
                            b"\xff\xfe"):
                    self.assertError(self.api.bereke(method, raw_body=raw), 500, "99",
                                     f"Failed to parse incoming request for {message_type}")

    def test_invalid_request(self):
        order = unique("inv")
        both = {"bindingId": RECIPIENT_BINDING, "card": {"pan": CARD_OK}}
        r = self.api.bereke("performPayout.do", {"orderNumber": order, "amount": 10, "currency": "398", "target": both})
        self.assertError(r, 400, "98", "Invalid request")
        r = self.api.bereke("performPayout.do", {"orderNumber": order, "amount": 10, "currency": "398",
                                                 "source": 5, "target": {"card": {"pan": CARD_OK}}})
        self.assertError(r, 400, "98", "Invalid request")
        for field in ({"client": "me"}, {"urls": ["x"]}, {"jsonParams": "p"}):
            with self.subTest(field=field):
                body = {"orderNumber": order, "amount": 10, "currency": "398"}
                body.update(field)
                self.assertError(self.api.bereke("registerPayout.do", body), 400, "98", "Invalid request")
        self.assertNothingCreated(order)

    def test_order_lookup_errors(self):
        self.assertError(self.api.bereke("getPayoutStatus.do", {}), 400, "98",
                         "No order identification provided to find order in database")
        not_found = "Order not found in payout proxy. Check orderId or orderNumber"
        self.assertError(self.api.bereke_status("never-sent"), 400, "98", not_found)
        self.assertError(self.api.bereke_status(order_id="00000000-0000-4000-8000-000000000000"), 400, "98", not_found)
        self.assertError(self.api.bereke_status(order_id="not-a-uuid"), 400, "98",
                         "orderId does not match required pattern ^[0-9a-f-]{36}$")

    def test_unknown_methods_and_verbs(self):
        for path in ("/payouts/api/v2/cancelPayout.do", "/payouts/api/v1/performPayout.do", "/payouts/api/v2/"):
            with self.subTest(path=path):
                r = self.api.request("POST", path, body={}, auth=None)
                self.assertEqual(r.status, 404)
        r = self.api.request("GET", "/payouts/api/v2/performPayout.do", auth=None)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers["allow"], "POST")

    def test_oversized_body(self):
        r = self.api.bereke("registerPayout.do", raw_body=b'{"description":"' + b"x" * 70000 + b'"}')
        self.assertError(r, 413, "98", "Invalid request")


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

    def test_a_partner_without_accounts_has_no_settings(self):
        self.server.stop()
        with open(self.server.config, "a", encoding="utf-8") as f:
            f.write(self.LATE)
        self.server.start()
        late = {"userName": "late_user", "password": "late_password"}
        self.assertError(self.api.bereke("getAmount.do", late), 500, "99", "No merchant settings available")
        order = unique("late")
        r = self.api.bereke("performPayout.do", dict(late, orderNumber=order, amount=10, currency="398",
                                                     target={"card": {"pan": CARD_OK}}))
        self.assertError(r, 500, "99", "No merchant settings available")
        self.assertError(self.api.bereke("getPayoutStatus.do", dict(late, orderNumber=order)), 400, "98",
                         "Order not found in payout proxy. Check orderId or orderNumber")


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
