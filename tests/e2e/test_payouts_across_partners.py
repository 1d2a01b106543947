"""Payouts across partners (docs/admin.md, "Payouts across partners"): the operators' search of
every provider's payouts (QIWI wallet payouts, Bereke and ecommpay card payouts) by partner id,
payout id, card order id, masked card, status, dates, amounts and currency, page by page; a
payout's timeline with the card network's answer and every callback attempt; what needs
attention (a card payout awaiting its network, a callback its receiver refuses, the outbox's
backlog); and the callback delivered again once the receiver is fixed, exactly once."""
import os
import sys
import time
import unittest
import urllib.parse
from datetime import datetime, timedelta, timezone
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BONUS, CARD_DECLINED, CARD_OK, CARD_OK_MC,  # noqa: E402
                     CARD_SLOW_OK, CLIENTS, ECOMMPAY_PROJECT, ServerTestCase, money, unique)
from test_ecommpay_registration import FAST_RETRIES, Receiver  # noqa: E402
from test_statements import StatementsTest  # noqa: E402

QIWI = "qiwi:best-partner"
BEREKE = "bereke:sandbox-partner"
ECOMMPAY = f"ecommpay:{ECOMMPAY_PROJECT}"
# The slow test card stays awaiting its network long enough to need attention.
SLOW_NETWORK = dict(FAST_RETRIES, **{"settle_ms = 2000 ": "settle_ms = 120000 "})


def utc_day(days=0):
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%d")


class PayoutsAcrossPartnersTest(ServerTestCase):
    server_options = {"config_replace": SLOW_NETWORK}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = {}

    def get(self, path, **query):
        q = "?" + urllib.parse.urlencode(query) if query else ""
        return self.api.request("GET", path + q, auth=ADMIN_TOKEN)

    def search(self, **query):
        r = self.get("/admin/v1/payouts", **query)
        self.assertEqual(r.status, 200, r.raw)
        return r.json

    def partner_ids(self, **query):
        return [p["partnerId"] for p in self.search(**query)["payouts"]]

    def bereke_payout(self, pan, amount=1234, status="2"):
        order = unique("bk")
        j = self.api.perform(order, pan=pan, amount=amount).json
        self.assertEqual(j["orderStatus"], status, j)
        return order, j["orderId"]

    def qiwi_payout(self, value="10.00"):
        txn = unique("qw")
        self.assertEqual(self.api.payout(txn, BONUS, next(iter(CLIENTS)), value).status, 200)
        return txn

    # -- search ------------------------------------------------------------------------------------

    def test_search_by_each_criterion_across_providers(self):
        visa, visa_order = self.bereke_payout(CARD_OK, amount=1234)
        master, _ = self.bereke_payout(CARD_OK_MC, amount=5000)
        declined, _ = self.bereke_payout(CARD_DECLINED, amount=700, status="6")
        ecommpay = StatementsTest.ecommpay_payout(self)  # the same Visa card, through ecommpay
        wallet = self.qiwi_payout("10.00")

        # The masked card, as operators type it, finds both providers' payouts to that card only.
        for typed in ("411111******1111", "411111XXXXXX1111", "411111 1111", "4111111111"):
            found = self.partner_ids(card=typed)
            self.assertIn(visa, found, typed)
            self.assertIn(ecommpay, found, typed)
            self.assertNotIn(master, found, typed)
            self.assertNotIn(wallet, found, typed)
        hits = {p["partnerId"]: p for p in self.search(card="411111******1111")["payouts"]}
        self.assertEqual((hits[visa]["tenant"], hits[visa]["card"]), (BEREKE, "411111XXXXXX1111"))
        self.assertEqual((hits[ecommpay]["tenant"], hits[ecommpay]["card"]), (ECOMMPAY, "411111XXXXXX1111"))
        self.assertEqual(self.partner_ids(card="555555******4444", tenant=BEREKE)[0], master)

        # The partner's id, the payout's own id and the card order's id (the network's reference).
        [by_partner] = self.search(id=visa)["payouts"]
        self.assertEqual((by_partner["partnerId"], by_partner["type"], by_partner["status"]),
                         (visa, "card", "SUCCESS"))
        self.assertEqual(self.partner_ids(id=str(by_partner["id"])), [visa])
        self.assertEqual(self.partner_ids(id=visa_order), [visa])
        self.assertEqual(self.partner_ids(id=visa_order, tenant=BEREKE), [visa])
        self.assertEqual(self.partner_ids(id=visa_order, tenant=ECOMMPAY), [])  # another's order
        self.assertEqual(self.partner_ids(id=wallet), [wallet])
        self.assertEqual(self.partner_ids(id=unique("nobody")), [])

        # Status, tenant, currency, amounts, dates.
        self.assertIn(declined, self.partner_ids(status="DECLINED", tenant=BEREKE))
        self.assertNotIn(visa, self.partner_ids(status="DECLINED", tenant=BEREKE))
        self.assertEqual(self.search(id=declined)["payouts"][0]["declineCode"], "CARD_DECLINED")
        qiwi = self.search(tenant=QIWI)["payouts"]
        self.assertIn(wallet, [p["partnerId"] for p in qiwi])
        self.assertEqual({(p["tenant"], p["type"]) for p in qiwi}, {(QIWI, "wallet")})
        self.assertIn(ecommpay, self.partner_ids(currency="EUR"))
        self.assertNotIn(visa, self.partner_ids(currency="EUR"))
        exact = self.search(currency="KZT", min="12.34", max="12.34")["payouts"]
        self.assertIn(visa, [p["partnerId"] for p in exact])
        self.assertEqual({money(p["amount"]) for p in exact}, {Decimal("12.34")})
        self.assertNotIn(master, [p["partnerId"] for p in exact])
        self.assertIn(visa, self.partner_ids(**{"from": utc_day(), "to": utc_day()}))
        self.assertEqual(self.partner_ids(**{"from": utc_day(1)}), [])
        self.assertEqual(self.partner_ids(to=utc_day(-1)), [])

    def test_pages_walk_every_payout_once_newest_first(self):
        mine = {self.qiwi_payout("1.00") for _ in range(5)}
        seen, cursor, pages = [], None, 0
        while True:
            query = {"tenant": QIWI, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = self.search(**query)
            self.assertLessEqual(len(page["payouts"]), 2)
            seen += page["payouts"]
            pages += 1
            cursor = page.get("nextCursor")
            if not cursor:
                break
        ids = [p["id"] for p in seen]
        self.assertEqual(len(ids), len(set(ids)), "a payout on two pages")
        self.assertTrue(mine <= {p["partnerId"] for p in seen})
        self.assertGreaterEqual(pages, 3)
        keys = [(p["createdMs"], p["id"]) for p in seen]
        self.assertEqual(keys, sorted(keys, reverse=True))

    def test_an_id_of_two_partners_walks_its_pages(self):
        # A number: also read as a store id (of no payout), merged with the partner ids' page.
        shared = str(10**12 + int.from_bytes(os.urandom(4), "big"))
        self.assertEqual(self.api.payout(shared, BONUS, next(iter(CLIENTS)), "1.00").status, 200)
        self.assertEqual(self.api.perform(shared, pan=CARD_OK, amount=100).json["orderStatus"], "2")
        first = self.search(id=shared, limit=1)
        self.assertEqual(len(first["payouts"]), 1)
        self.assertIn("nextCursor", first)
        second = self.search(id=shared, limit=1, cursor=first["nextCursor"])
        self.assertEqual(len(second["payouts"]), 1)
        self.assertEqual({first["payouts"][0]["tenant"], second["payouts"][0]["tenant"]},
                         {QIWI, BEREKE})

    def test_bad_parameters_are_refused_precisely(self):
        for query in ({"card": "4111111111111111"}, {"card": "4111"}, {"card": "41111a******1111"},
                      {"status": "done"}, {"status": "success"}, {"from": "2024-13-01"},
                      {"to": "yesterday"}, {"limit": "0"}, {"limit": "201"}, {"min": "1.00"},
                      {"min": "1.001", "currency": "RUB"}, {"min": "5", "max": "1", "currency": "RUB"},
                      {"currency": "rub"}, {"cursor": "x"}, {"cursor": "5"}, {"tenant": "nobody"},
                      {"id": "a b"}, {"id": "x" * 65}):
            r = self.get("/admin/v1/payouts", **query)
            self.assertError(r, 400, "validation.error", "payoutd-admin", query)
            self.assertIn("card: the first 6 and last 4 digits", r.json["description"], query)
        self.assertError(self.api.request("POST", "/admin/v1/payouts", body={}, auth=ADMIN_TOKEN),
                         405, "method.not.allowed", "payoutd-admin")
        self.assertError(self.get("/admin/v1/payouts/abc"), 400, "validation.error", "payoutd-admin")
        self.assertError(self.get("/admin/v1/payouts/999999999"), 404, "payout.not.found", "payoutd-admin")
        self.assertError(self.get("/admin/v1/attention", age_s="0"), 400, "validation.error", "payoutd-admin")
        self.assertError(self.get("/admin/v1/attention", limit="500"), 400, "validation.error", "payoutd-admin")
        r = self.api.request("GET", "/admin/v1/payouts", auth="wrong-token")
        self.assertError(r, 401, "auth.token.invalid", "payoutd-admin")

    # -- timeline ----------------------------------------------------------------------------------

    def test_a_card_payouts_timeline_has_the_networks_answer_and_its_callbacks(self):
        order, _ = self.bereke_payout(CARD_OK, amount=2500)
        [p] = self.search(id=order)["payouts"]
        r = self.get(f"/admin/v1/payouts/{p['id']}")
        self.assertEqual(r.status, 200, r.raw)
        t = r.json
        self.assertNotIn(CARD_OK.encode(), r.raw)
        self.assertEqual((t["payout"]["partnerId"], t["payout"]["card"]), (order, "411111XXXXXX1111"))
        events = [e["event"] for e in t["events"]]
        self.assertEqual(events[0], "created")
        self.assertIn("rail.answer", events)
        self.assertLess(events.index("rail.answer"), events.index("success"))
        answer = next(e for e in t["events"] if e["event"] == "rail.answer")
        self.assertRegex(answer["approval"], r"^\d{12}$")
        self.assertTrue(answer["rail"])
        at = [e["atMs"] for e in t["events"]]
        self.assertEqual(at, sorted(at))

        # An ecommpay payout's messages (its callbacks, the code mailed to the customer), each
        # attempt with its answer.
        paid = StatementsTest.ecommpay_payout(self)
        [e] = self.search(id=paid)["payouts"]
        deadline = time.monotonic() + 20
        while True:
            t = self.get(f"/admin/v1/payouts/{e['id']}").json
            if len(t["messages"]) >= 3 and all(c["state"] == "DELIVERED" for c in t["messages"]):
                break
            self.assertLess(time.monotonic(), deadline, t)
            time.sleep(0.1)
        attempts = {x["message"]: x for x in t["events"] if x["event"] == "message.attempt"}
        self.assertEqual(set(attempts), {c["id"] for c in t["messages"]})
        callbacks = [c for c in t["messages"] if c["target"].startswith("http")]
        mails = [c for c in t["messages"] if c["target"].startswith("mailto:")]
        self.assertGreaterEqual(len(callbacks), 2)  # registered, then the result
        self.assertTrue(all(attempts[c["id"]]["httpStatus"] == 200 for c in callbacks), t["events"])
        self.assertEqual([(m["body"], m["sealed"]) for m in mails], [(None, True)])  # the code, never shown
        self.assertEqual(attempts[mails[0]["id"]]["httpStatus"], 250)  # SMTP accepted it

    # -- attention and redelivery ------------------------------------------------------------------

    def test_a_failing_callback_needs_attention_and_is_redelivered_once_fixed(self):
        receiver = Receiver(script=[500] * 1000)
        self.addCleanup(receiver.server.shutdown)
        payment_id = unique("cb")
        self.assertEqual(self.api.ecommpay_register(payment_id, callback_url=receiver.url).status, 200)
        receiver.wait(2)  # refused twice
        [p] = self.search(id=payment_id)["payouts"]

        deadline = time.monotonic() + 20
        while True:
            a = self.get("/admin/v1/attention").json
            failing = [m for m in a["failingCallbacks"] if m["payoutId"] == p["id"]]
            if failing:
                break
            self.assertLess(time.monotonic(), deadline, a)
            time.sleep(0.05)
        [m] = failing
        self.assertEqual((m["tenant"], m["state"], m["target"]), (ECOMMPAY, "PENDING", receiver.url))
        self.assertGreaterEqual(m["attempts"], 1)
        self.assertEqual(m["lastResult"], "HTTP 500")
        queue = next(q for q in a["outboxBacklog"] if (q["tenant"], q["lane"]) == (ECOMMPAY, "http"))
        self.assertGreaterEqual(queue["pending"], 1)
        self.assertGreaterEqual(queue["failing"], 1)

        # Fixed: delivered again now, not at the next step of the schedule.
        receiver.script.clear()
        r = self.api.request("POST", f"/admin/v1/outbox/{m['id']}/redeliver", auth=ADMIN_TOKEN)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.json["id"], r.json["state"]), (m["id"], "PENDING"))
        deadline = time.monotonic() + 20
        while True:
            t = self.get(f"/admin/v1/payouts/{p['id']}").json
            [c] = [c for c in t["messages"] if c["id"] == m["id"]]
            if c["state"] == "DELIVERED":
                break
            self.assertLess(time.monotonic(), deadline, c)
            time.sleep(0.05)
        self.assertEqual(c["attemptLog"][-1]["httpStatus"], 200)
        a = self.get("/admin/v1/attention").json
        self.assertNotIn(m["id"], [x["id"] for x in a["failingCallbacks"]])

        # Delivered: refused, and nothing is sent again.
        sent = len(receiver.bodies())
        r = self.api.request("POST", f"/admin/v1/outbox/{m['id']}/redeliver", auth=ADMIN_TOKEN)
        self.assertError(r, 409, "message.delivered", "payoutd-admin")
        r = self.api.request("POST", "/admin/v1/outbox/999999999/redeliver", auth=ADMIN_TOKEN)
        self.assertError(r, 404, "message.not.found", "payoutd-admin")
        r = self.api.request("POST", "/admin/v1/outbox/abc/redeliver", auth=ADMIN_TOKEN)
        self.assertError(r, 400, "validation.error", "payoutd-admin")
        r = self.api.request("GET", f"/admin/v1/outbox/{m['id']}/redeliver", auth=ADMIN_TOKEN)
        self.assertError(r, 405, "method.not.allowed", "payoutd-admin")
        time.sleep(0.5)
        self.assertEqual(len(receiver.bodies()), sent)
        # The redelivery is in the operators' audit log.
        path = f"/admin/v1/outbox/{m['id']}/redeliver"
        r = self.get("/admin/v1/audit", action="http.POST", target=path)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual({e["outcome"].split()[0] for e in r.json["entries"]}, {"started", "200", "409"},
                         r.json["entries"])

    def test_a_card_payout_awaiting_its_network_too_long_needs_attention(self):
        slow, _ = self.bereke_payout(CARD_SLOW_OK, amount=4200, status="1")
        time.sleep(1.2)
        a = self.get("/admin/v1/attention", age_s="1").json
        self.assertEqual(a["ageS"], 1)
        awaiting = {p["partnerId"]: p for p in a["awaitingReconciliation"]}
        self.assertIn(slow, awaiting)
        self.assertEqual((awaiting[slow]["status"], awaiting[slow]["card"]), ("PROCESSING", "400000XXXXXX0119"))
        # Younger than the default age (900 s): not yet.
        self.assertNotIn(slow, [p["partnerId"] for p in self.get("/admin/v1/attention").json["awaitingReconciliation"]])
        [p] = self.search(id=slow)["payouts"]
        t = self.get(f"/admin/v1/payouts/{p['id']}").json
        self.assertIn("rail.awaiting", [e["event"] for e in t["events"]])


if __name__ == "__main__":
    unittest.main()
