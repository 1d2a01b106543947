"""The Bereke hosted card page over HTTP (seed 003, docs/bereke.md "The hosted pages"): a
registered order's client.clientId brings that client's saved cards (recipient bindings) to the
page, masked; choosing one pays exactly once, as a typed card pays; a binding id the page did not
offer (another client's, another partner's, a debit card's, made up) is refused by the server and
moves nothing; a client without bindings sees only the card form, and its new card becomes one."""
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_bereke_api  # noqa: E402  (the module only: its test classes must not run here)
from harness import (CARD_OK, CARD_OK_MC, CORPORATE_BINDING, RECIPIENT_BINDING,  # noqa: E402
                     RECIPIENT_CLIENT, ServerTestCase, unique)

SECOND = {"userName": "second_user", "password": "second_password"}
UNKNOWN_SAVED = "Choose one of your saved cards"
RADIO_RE = re.compile(r'<input type="radio" name="bindingId" value="([^"]*)"([^>]*)>\s*(?:<span class="saved-pan">([^<]*)</span>)?')


def wait_for_status(api, order_number, wanted, timeout=15.0, credentials=None):
    deadline = time.monotonic() + timeout
    while True:
        r = api.bereke("getPayoutStatus.do", dict(credentials or {}, orderNumber=order_number))
        if r.json.get("orderStatus") == wanted or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


class SavedCardsPageTest(ServerTestCase):
    # A second partner (SECOND), whose orders must not see the first partner's bindings.
    server_options = test_bereke_api.IsolationTest.server_options

    # -- helpers --
    def register(self, client=None, amount=4321, credentials=None):
        body = dict(credentials or {}, orderNumber=unique("saved"), amount=amount, currency="398",
                    language="en", urls={"returnUrl": "https://partner.example/ok"})
        if client is not None:
            body["client"] = {"clientId": client, "name": "Ivan Petrov"}
        r = self.api.bereke("registerPayout.do", body)
        self.assertEqual(r.status, 200, r.raw)
        return r.json

    def form(self, registered):
        url = urllib.parse.urlsplit(registered["formUrl"])
        r = self.api.request("GET", f"{url.path}?{url.query}", auth=None)
        self.assertEqual(r.status, 200, r.raw)
        return r.raw.decode()

    def offered(self, html):
        """The page's choices: [(binding id, masked pan, checked)]; the new card's id is ""."""
        return [(value, masked or "", "checked" in rest) for value, rest, masked in RADIO_RE.findall(html)]

    def confirm(self, registered, **fields):
        body = dict({"mdOrder": registered["orderId"], "lang": "en", "cardholder": "Ivan Petrov"}, **fields)
        return self.api.request("POST", "/payouts/payment/confirm",
                                raw_body=urllib.parse.urlencode(body).encode(), auth=None,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})

    def assertPaidTo(self, registered, binding):
        r = self.confirm(registered, bindingId=binding)
        self.assertEqual(r.status, 303, r.raw)
        self.assertEqual(r.headers["location"], f"/payouts/payment/finish_en.html?mdOrder={registered['orderId']}")
        return wait_for_status(self.api, registered["orderNumber"], "2").json

    def assertRefused(self, registered, before, **fields):
        status = self.api.bereke_status(registered["orderNumber"]).json
        self.assertEqual(status["orderStatus"], "0", status)
        r = self.confirm(registered, **fields)
        self.assertEqual(r.status, 422, r.raw)
        self.assertIn(f'<p class="status declined" id="error" role="alert">{UNKNOWN_SAVED}</p>', r.raw.decode())
        self.assertEqual(self.api.bereke_status(registered["orderNumber"]).json, status, "the order unchanged")
        self.assertEqual(self.api.bereke_balance(), before)
        self.assertIsNone(self.api.rail_credit(registered["orderId"]))

    # -- tests --
    def test_the_clients_saved_card_is_offered_masked_and_pays_once_like_a_typed_card(self):
        order = self.register(RECIPIENT_CLIENT)
        html = self.form(order)
        offered = self.offered(html)
        self.assertIn((RECIPIENT_BINDING, "411111XXXXXX1111", False), offered)
        self.assertEqual(offered[-1], ("", "", True), "a new card is the default choice")
        self.assertNotIn(CARD_OK, html)
        self.assertIn('id="pan"', html)
        before = self.api.bereke_balance()
        paid = self.assertPaidTo(order, RECIPIENT_BINDING)
        self.assertEqual(self.api.bereke_balance(), before - 4321)
        self.assertEqual(self.api.rail_credit(order["orderId"])["received"], 1)
        self.assertEqual(paid["target"], {"bindingId": RECIPIENT_BINDING, "clientId": RECIPIENT_CLIENT,
                                          "maskedPan": "411111XXXXXX1111"})
        operation = paid["operationList"][0]
        self.assertEqual((operation["pan"], operation["panMaskedTo"], operation["cardholderName"]),
                         ("411111XXXXXX1111", "411111XXXXXX1111", "IVAN PETROV"))
        self.assertEqual(operation["resultCode"], 0)

        # The same card typed for the same client answers the same way, with the same binding.
        typed = self.register(RECIPIENT_CLIENT)
        self.assertEqual(self.confirm(typed, pan="4111 1111 1111 1111").status, 303)
        typed_status = wait_for_status(self.api, typed["orderNumber"], "2").json
        self.assertEqual(set(typed_status), set(paid))
        self.assertEqual(typed_status["target"], paid["target"])
        self.assertEqual(set(typed_status["operationList"][0]), set(operation))
        self.assertEqual(typed_status["operationList"][0]["cardholderName"], "IVAN PETROV")

        # The page posted again, or with another card, pays nothing more.
        after = self.api.bereke_balance()
        self.assertEqual(self.confirm(order, bindingId=RECIPIENT_BINDING).status, 303)
        self.assertEqual(self.confirm(order, pan=CARD_OK_MC).status, 303)
        self.assertEqual(self.api.bereke_balance(), after)
        self.assertEqual(self.api.rail_credit(order["orderId"])["received"], 1)
        self.assertEqual(self.api.bereke_status(order["orderNumber"]).json, paid)
        finish = self.api.request("GET", f"/payouts/payment/finish_en.html?mdOrder={order['orderId']}", auth=None)
        self.assertIn('<dd id="masked-pan">411111XXXXXX1111</dd>', finish.raw.decode())

    def test_concurrent_choices_of_the_saved_card_pay_once(self):
        order = self.register(RECIPIENT_CLIENT, amount=999)
        before = self.api.bereke_balance()
        statuses = []

        def send():
            statuses.append(self.confirm(order, bindingId=RECIPIENT_BINDING).status)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(statuses, [303] * 8)
        self.assertEqual(wait_for_status(self.api, order["orderNumber"], "2").json["orderStatus"], "2")
        self.assertEqual(self.api.bereke_balance(), before - 999)
        self.assertEqual(self.api.rail_credit(order["orderId"])["received"], 1)

    def test_a_binding_the_page_did_not_offer_is_refused_and_moves_nothing(self):
        # Another client's card of this partner: a binding that exists, but not this client's.
        other = unique("other-client")
        r = self.api.perform(unique("other"), CARD_OK_MC, amount=10, client={"clientId": other})
        others_binding = r.json["target"]["bindingId"]
        # Another partner's binding of the same client id.
        second = self.register(RECIPIENT_CLIENT, credentials=SECOND)
        self.assertEqual(self.offered(self.form(second)), [], "bindings belong to one partner")

        order = self.register(RECIPIENT_CLIENT)
        offered = [b for b, _, _ in self.offered(self.form(order))]
        self.assertNotIn(others_binding, offered)
        self.assertNotIn(CORPORATE_BINDING, offered)
        before = self.api.bereke_balance()
        for forged in (others_binding, CORPORATE_BINDING, "00000000-0000-4000-8000-000000000000",
                       "b" * 65, "83309cde|a56d", RECIPIENT_BINDING + "%"):
            with self.subTest(forged=forged):
                self.assertRefused(order, before, bindingId=forged)
        # A binding given twice, even the client's own, is no choice.
        r = self.api.request("POST", "/payouts/payment/confirm", auth=None,
                             raw_body=urllib.parse.urlencode(
                                 [("mdOrder", order["orderId"]), ("lang", "en"), ("bindingId", RECIPIENT_BINDING),
                                  ("bindingId", others_binding)]).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 422, r.raw)
        self.assertRefused(order, before, bindingId=others_binding)
        # The refused page still offers the client's card, and it still pays.
        refused = self.confirm(order, bindingId=others_binding).raw.decode()
        self.assertIn((RECIPIENT_BINDING, "411111XXXXXX1111", False), self.offered(refused))
        self.assertEqual(self.assertPaidTo(order, RECIPIENT_BINDING)["target"]["bindingId"], RECIPIENT_BINDING)
        # The second partner's order refuses the first partner's binding of the same client id.
        second_before = self.api.bereke("getAmount.do", SECOND).json["balanceDescriptionList"]["balanceAmount"]
        r = self.confirm(second, bindingId=RECIPIENT_BINDING)
        self.assertEqual(r.status, 422, r.raw)
        self.assertIn(UNKNOWN_SAVED, r.raw.decode())
        self.assertEqual(self.api.bereke("getPayoutStatus.do", dict(SECOND, orderNumber=second["orderNumber"]))
                         .json["orderStatus"], "0")
        self.assertEqual(self.api.bereke("getAmount.do", SECOND).json["balanceDescriptionList"]["balanceAmount"],
                         second_before)

    def test_a_client_without_bindings_sees_the_card_form_and_its_new_card_is_offered_next(self):
        client = unique("new-client")
        for order in (self.register(client), self.register(None)):
            html = self.form(order)
            self.assertEqual(self.offered(html), [])
            self.assertNotIn('id="saved"', html)
            self.assertIn('id="pan"', html)
        # A saved card posted for a client without any is refused like a forged one.
        first = self.register(client)
        self.assertRefused(first, self.api.bereke_balance(), bindingId=RECIPIENT_BINDING)
        # The client's first card, typed, becomes a binding as it does today...
        self.assertEqual(self.confirm(first, pan=CARD_OK_MC).status, 303)
        binding = wait_for_status(self.api, first["orderNumber"], "2").json["target"]["bindingId"]
        self.assertNotEqual(binding, RECIPIENT_BINDING)
        # ...which the client's next order offers, and which pays it.
        second = self.register(client, amount=77)
        self.assertEqual(self.offered(self.form(second)), [(binding, "555555XXXXXX4444", False), ("", "", True)])
        paid = self.assertPaidTo(second, binding)
        self.assertEqual(paid["target"], {"bindingId": binding, "clientId": client, "maskedPan": "555555XXXXXX4444"})


if __name__ == "__main__":
    unittest.main()
