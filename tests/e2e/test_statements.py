"""Daily statements and the card payouts report (docs/admin.md, "Statements and reconciliation reports"): a day of a QIWI funder
(a credit, wallet payouts, a processing payout settled, a declined one), of a Bereke transit
account (approved, declined and slow card payouts) and of an ecommpay merchant balance (a payout
through the Payment Page), read through the admin API as JSON and CSV and checked against the
balances; the report of the day's card payouts by the network's answer; the cabinet's download
for the partner, never another tenant's; `payoutd audit` clean, and failing once a transfer's
amount is altered in the database."""
import csv
import io
import os
import sqlite3
import sys
import time
import unittest
import urllib.parse
from datetime import datetime, timedelta, timezone
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ADMIN_TOKEN, BONUS, CARD_DECLINED, CARD_OK, CARD_SLOW_DECLINED,  # noqa: E402
                     CLIENTS, ECOMMPAY_PROJECT, PROCESSING_CLIENT, BLOCKED_CLIENT,
                     IsolatedServerTestCase, money, shared_cluster, unique)
from test_cabinet import BEREKE, QIWI, Browser  # noqa: E402
from test_ecommpay_page import CODE_RE, form  # noqa: E402

OFFSET = timezone(timedelta(hours=3))  # [statements] utc_offset, the sandbox's default
QIWI_TENANT = "qiwi:best-partner"
BEREKE_TENANT = "bereke:sandbox-partner"
ECOMMPAY_TENANT = f"ecommpay:{ECOMMPAY_PROJECT}"
CSV_HEADER = ["tenant", "account", "date", "time", "type", "partner_id", "payout_id", "transfer_id",
              "counter_account", "amount", "currency", "balance"]


def today():
    return datetime.now(OFFSET).strftime("%Y-%m-%d")


def shifted(date, days):
    return (datetime.strptime(date, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def statement_path(tenant, funder, date, **query):
    path = f"/admin/v1/tenants/{tenant}/funders/{funder}/statements/{date}"
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


class StatementsTest(IsolatedServerTestCase):

    def admin_get(self, path, auth=ADMIN_TOKEN):
        return self.api.request("GET", path, auth=auth)

    def statement(self, tenant, funder, date, **query):
        r = self.admin_get(statement_path(tenant, funder, date, **query))
        self.assertEqual(r.status, 200, r.raw)
        return r

    def balance(self, tenant, funder):
        r = self.admin_get(f"/admin/v1/tenants/{tenant}/funders/{funder}")
        self.assertEqual(r.status, 200, r.raw)
        return money(r.json["balance"])

    def assertReconciles(self, s, balance=None):
        """opening + every line = closing, each line's balance the running one."""
        running = money(s["opening"])
        for line in s["lines"]:
            running += money(line["amount"])
            self.assertEqual(money(line["balance"]), running, line)
        self.assertEqual(running, money(s["closing"]))
        self.assertEqual(money(s["credits"]) + money(s["debits"]), money(s["closing"]) - money(s["opening"]))
        if balance is not None:
            self.assertEqual(money(s["closing"]), balance)

    def parse_csv(self, r):
        self.assertTrue(r.headers["content-type"].startswith("text/csv"), r.headers)
        self.assertIn("attachment", r.headers["content-disposition"])
        text = r.raw.decode("utf-8")
        self.assertTrue(text.endswith("\r\n"))
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        self.assertTrue(all(len(row) == len(rows[0]) for row in rows), rows)
        return rows

    def wait_settled(self, txn_id, deadline_s=15.0):
        end = time.monotonic() + deadline_s
        while self.api.get_payout(txn_id).json["status"] == "PROCESSING":
            self.assertLess(time.monotonic(), end, f"{txn_id} still processing")
            time.sleep(0.1)

    # -- QIWI --------------------------------------------------------------------------------------

    def qiwi_day(self):
        """A credit, two wallet payouts (one with a formula-looking id), a processing payout
        settled, a declined one: their ids."""
        credit = unique("credit-")
        r = self.api.request("POST", f"/admin/v1/tenants/{QIWI_TENANT}/funders/{BONUS}/credits/{credit}",
                             body={"amount": {"value": "500.00", "currency": "RUB"}}, auth=ADMIN_TOKEN)
        self.assertEqual(r.status, 200, r.raw)
        plain, formula, slow, blocked = unique("stmt-"), unique("-1-1-"), unique("slow-"), unique("blocked-")
        client = next(iter(CLIENTS))
        self.assertEqual(self.api.payout(plain, BONUS, client, "100.50").json["status"], "SUCCESS")
        self.assertEqual(self.api.payout(formula, BONUS, client, "7.00").json["status"], "SUCCESS")
        self.assertEqual(self.api.payout(slow, BONUS, PROCESSING_CLIENT, "20.00").json["status"], "PROCESSING")
        self.assertEqual(self.api.payout(blocked, BONUS, BLOCKED_CLIENT, "3.00").json["status"], "DECLINED")
        self.wait_settled(slow)
        return credit, plain, formula, slow

    def test_a_qiwi_funders_day_reconciles_to_its_balance(self):
        date = today()
        credit, plain, formula, slow = self.qiwi_day()
        s = self.statement(QIWI_TENANT, BONUS, date).json
        self.assertEqual((s["tenant"], s["fundingAccount"], s["date"], s["utcOffset"]),
                         (QIWI_TENANT, BONUS, date, "+03:00"))
        self.assertEqual(s["from"], f"{date}T00:00:00+03:00")
        # The sandbox was provisioned today: the day opens at 0 with the initial balance's credit.
        self.assertEqual(money(s["opening"]), Decimal("0"))
        got = [(l["type"], l["partnerId"], money(l["amount"])) for l in s["lines"]]
        self.assertEqual(got, [("credit", f"initial-balance:{BONUS}", Decimal("1000000000.00")),
                               ("credit", credit, Decimal("500.00")),
                               ("payout", plain, Decimal("-100.50")),
                               ("payout", formula, Decimal("-7.00")),
                               ("payout", slow, Decimal("-20.00"))])  # posted when settled
        self.assertTrue(all(l["payoutId"] > 0 and l["transferId"] > 0 for l in s["lines"]), s["lines"])
        self.assertEqual(s["lines"][2]["counterAccount"], CLIENTS[next(iter(CLIENTS))])
        self.assertTrue(s["complete"])
        self.assertNotIn("nextCursor", s)
        self.assertReconciles(s, self.balance(QIWI_TENANT, BONUS))
        # The day before opened and closed at 0; the day after opens at today's closing, with nothing.
        before = self.statement(QIWI_TENANT, BONUS, shifted(date, -1)).json
        self.assertEqual((money(before["opening"]), money(before["closing"]), before["lines"]), (0, 0, []))
        after = self.statement(QIWI_TENANT, BONUS, shifted(date, 1)).json
        self.assertEqual(money(after["opening"]), money(s["closing"]))
        self.assertEqual((money(after["closing"]), after["lines"]), (money(s["closing"]), []))

        # The CSV: the same lines between an opening and a closing row; the formula id neutralised.
        rows = self.parse_csv(self.statement(QIWI_TENANT, BONUS, date, format="csv"))
        self.assertEqual(rows[0], CSV_HEADER)
        self.assertEqual([r[4] for r in rows[1:]],
                         ["opening", "credit", "credit", "payout", "payout", "payout", "closing"])
        self.assertEqual(rows[1][11], "0.00")
        self.assertEqual(rows[-1][11], str(money(s["closing"])))
        self.assertEqual([r[5] for r in rows[2:-1]], [l["partnerId"] if not l["partnerId"].startswith("-")
                                                      else "'" + l["partnerId"] for l in s["lines"]])
        self.assertIn(f"\"'{formula}\"".encode(), self.statement(QIWI_TENANT, BONUS, date, format="csv").raw)
        self.assertEqual([r[9] for r in rows[2:-1]], [f"{money(l['amount']):.2f}" for l in s["lines"]])

        # Pages of two lines: the same lines, each page naming the next.
        lines, cursor = [], None
        for _ in range(5):
            query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = self.statement(QIWI_TENANT, BONUS, date, **query).json
            self.assertEqual(money(page["opening"]), money(s["opening"]))
            lines += page["lines"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        self.assertEqual(lines, s["lines"])
        self.assertAuditClean()

    def test_refusals(self):
        date = today()
        cases = [
            (statement_path(QIWI_TENANT, BONUS, "2026-02-30"), 400, "validation.error"),
            (statement_path(QIWI_TENANT, BONUS, "05.12.2026"), 400, "validation.error"),
            (statement_path(QIWI_TENANT, BONUS, date, format="xlsx"), 400, "validation.error"),
            (statement_path(QIWI_TENANT, BONUS, date, limit=0), 400, "validation.error"),
            (statement_path(QIWI_TENANT, BONUS, date, cursor="nonsense"), 400, "validation.error"),
            (statement_path(QIWI_TENANT, BONUS, date, cursor="1.1"), 400, "validation.error"),
            (statement_path(QIWI_TENANT, "no-such-funder", date), 404, "funder.not.found"),
            (statement_path("qiwi:nobody", BONUS, date), 404, "tenant.not.found"),
            ("/admin/v1/reports/card-payouts", 400, "validation.error"),
            ("/admin/v1/reports/card-payouts?date=2026-13-01", 400, "validation.error"),
        ]
        for path, status, code in cases:
            self.assertError(self.admin_get(path), status, code, "payoutd-admin", path)
        r = self.api.request("POST", statement_path(QIWI_TENANT, BONUS, date), auth=ADMIN_TOKEN)
        self.assertError(r, 405, "method.not.allowed", "payoutd-admin")
        r = self.admin_get(statement_path(QIWI_TENANT, BONUS, date), auth="wrong-token")
        self.assertError(r, 401, "auth.token.invalid", "payoutd-admin")

    # -- Cards -------------------------------------------------------------------------------------

    def ecommpay_payout(self):
        """A payout of 70.00 EUR through the Payment Page (card, emailed code); its payment id."""
        payment_id = unique("ep-")
        self.assertEqual(self.api.ecommpay_register(payment_id).status, 200)
        deadline = time.monotonic() + 10
        while True:
            mine = [c for c in self.api.sandbox_callbacks() if c["general"]["payment_id"] == payment_id]
            if mine or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        uuid = mine[0]["uuid"]
        r = form(self.api, "/payment/card", {"uuid": uuid, "lang": "en", "pan": CARD_OK, "cardholder": "A B"})
        self.assertEqual(r.status, 200, r.raw)
        code = None
        while code is None and time.monotonic() < deadline + 10:
            for name in sorted(os.listdir(os.path.join(self.server.data_dir, "mail")), reverse=True):
                with open(os.path.join(self.server.data_dir, "mail", name), encoding="utf-8") as f:
                    text = f.read()
                m = CODE_RE.search(text)
                if m and f"Message-ID: <{uuid}." in text:
                    code = m.group(1)
                    break
            time.sleep(0.05)
        self.assertEqual(form(self.api, "/payment/code", {"uuid": uuid, "lang": "en", "code": code}).status, 303)
        return payment_id

    def test_card_payouts_by_rail_answer_and_the_card_accounts_statements(self):
        date = today()
        approved, declined, slow = unique("ok-"), unique("no-"), unique("slow-")
        self.assertEqual(self.api.perform(approved, pan=CARD_OK, amount=150000).json["orderStatus"], "2")
        self.assertEqual(self.api.perform(declined, pan=CARD_DECLINED, amount=2000).json["orderStatus"], "6")
        self.assertEqual(self.api.perform(slow, pan=CARD_SLOW_DECLINED, amount=3000).json["orderStatus"], "1")
        # While the network has not decided, the slow payout awaits reconciliation.
        r = self.admin_get(f"/admin/v1/reports/card-payouts?date={date}")
        self.assertEqual(r.status, 200, r.raw)
        awaiting = {p["partnerId"]: p for p in r.json["groups"]["awaiting"]["payouts"]}
        self.assertIn(slow, awaiting)
        self.assertNotIn("answered", awaiting[slow])
        self.api.bereke_wait(slow, "6")
        paid_ecommpay = self.ecommpay_payout()

        r = self.admin_get(f"/admin/v1/reports/card-payouts?date={date}")
        self.assertEqual(r.status, 200, r.raw)
        groups = r.json["groups"]
        by_group = {g: {p["partnerId"]: p for p in groups[g]["payouts"]} for g in groups}
        self.assertEqual(set(by_group["approved"]), {approved, paid_ecommpay})
        self.assertEqual(set(by_group["declined"]), {declined, slow})
        self.assertEqual(by_group["awaiting"], {})
        ok = by_group["approved"][approved]
        self.assertEqual((ok["tenant"], ok["card"]), (BEREKE_TENANT, "411111XXXXXX1111"))
        self.assertTrue(ok["rail"])
        self.assertEqual(money(ok["amount"]), Decimal("1500.00"))
        self.assertRegex(ok["approvalCode"], r"^\d{12}$")
        credit = self.api.rail_credit(ok["railReference"])
        self.assertEqual((credit["reference"], credit["approval"]), (ok["railReference"], ok["approvalCode"]))
        self.assertIn("answered", ok)
        refused = by_group["declined"][declined]
        self.assertEqual(refused["railCode"], self.api.rail_credit(refused["railReference"])["code"])
        self.assertEqual(by_group["approved"][paid_ecommpay]["tenant"], ECOMMPAY_TENANT)
        totals = {(t["amount"]["currency"], t["count"], money(t["amount"])) for t in groups["approved"]["totals"]}
        self.assertEqual(totals, {("KZT", 1, Decimal("1500.00")), ("EUR", 1, Decimal("70.00"))})
        totals = {(t["amount"]["currency"], t["count"], money(t["amount"])) for t in groups["declined"]["totals"]}
        self.assertEqual(totals, {("KZT", 2, Decimal("50.00"))})
        only = self.admin_get(f"/admin/v1/reports/card-payouts?date={date}&rail=nonesuch").json
        self.assertEqual([g["payouts"] for g in only["groups"].values()], [[], [], []])
        only = self.admin_get(f"/admin/v1/reports/card-payouts?date={date}&rail={ok['rail']}").json
        self.assertIn(approved, [p["partnerId"] for p in only["groups"]["approved"]["payouts"]])
        rows = self.parse_csv(self.admin_get(f"/admin/v1/reports/card-payouts?date={date}&format=csv"))
        self.assertEqual(rows[0][:6], ["answer", "tenant", "payout_id", "partner_id", "card", "amount"])
        self.assertEqual(sorted(r[3] for r in rows[1:] if r[1] != "total"),
                         sorted([approved, paid_ecommpay, declined, slow]))
        self.assertEqual(sorted((r[0], r[5], r[6]) for r in rows if r[1] == "total"),
                         [("approved", "1500.00", "KZT"), ("approved", "70.00", "EUR"),
                          ("declined", "50.00", "KZT")])

        # The transit account's day: only the approved payout moved money (declines voided theirs).
        s = self.statement(BEREKE_TENANT, "transit", date).json
        moved = [(l["type"], l["partnerId"], money(l["amount"])) for l in s["lines"] if l["type"] != "credit"]
        self.assertEqual(moved, [("card-payout", approved, Decimal("-1500.00"))])
        self.assertEqual(s["lines"][-1]["counterAccount"], "card-rail:KZT")
        self.assertReconciles(s, self.balance(BEREKE_TENANT, "transit"))
        self.assertEqual(money(s["closing"]) * 100, self.api.bereke_balance())
        s = self.statement(ECOMMPAY_TENANT, "merchant", date).json
        self.assertEqual([(l["type"], l["partnerId"]) for l in s["lines"]][-1], ("card-payout", paid_ecommpay))
        self.assertReconciles(s, self.balance(ECOMMPAY_TENANT, "merchant"))
        self.assertAuditClean()

    # -- The cabinet -------------------------------------------------------------------------------

    def test_the_partner_downloads_its_own_statements_only(self):
        date = today()
        self.assertEqual(self.api.perform(unique("cab-"), pan=CARD_OK, amount=4200).json["orderStatus"], "2")
        browser = Browser(self.server)
        status, _, _ = browser.get("/cabinet/statements")
        self.assertEqual(status, 303)  # no session: to the sign-in
        browser.login(*BEREKE)
        status, _, page = browser.get("/cabinet/statements")
        self.assertEqual(status, 200, page)
        self.assertIn('href="/cabinet/statements"', page)
        self.assertIn('id="statement"', page)
        self.assertIn(f'value="{date}"', page)
        self.assertIn("-42.00 KZT", page)
        status, headers, text = browser.get(f"/cabinet/statement.csv?account=transit&date={date}")
        self.assertEqual(status, 200, text)
        self.assertIn("attachment", headers["content-disposition"])
        admin_csv = self.statement(BEREKE_TENANT, "transit", date, format="csv").raw.decode()
        self.assertEqual(text, admin_csv)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual((rows[0], rows[1][4], rows[-1][4]), (CSV_HEADER, "opening", "closing"))
        # Another tenant's funding account is not this session's: not found, whatever its code.
        status, _, page = browser.get(f"/cabinet/statement.csv?account={BONUS}&date={date}")
        self.assertEqual(status, 404, page)
        status, _, _ = browser.get(f"/cabinet/statement.csv?account=transit&date=2026-02-30")
        self.assertEqual(status, 400)
        # The QIWI partner sees its funders, not Bereke's transit account.
        qiwi = Browser(self.server)
        qiwi.login(*QIWI)
        status, _, page = qiwi.get(f"/cabinet/statement.csv?account=transit&date={date}")
        self.assertEqual(status, 404, page)
        status, _, text = qiwi.get(f"/cabinet/statement.csv?account={BONUS}&date={date}")
        self.assertEqual(status, 200, text)
        self.assertIn(f"{QIWI_TENANT},{BONUS},{date}", text)
        status, _, log = browser.get("/cabinet/audit")
        self.assertIn("statement.export", log)

    # -- Audit -------------------------------------------------------------------------------------

    def test_audit_finds_an_altered_transfer(self):
        self.qiwi_day()
        self.assertAuditClean()
        self.assertEqual(self.server.stop(check=False), 0)
        # The latest wallet payout's transfer moves 1.00 more than the counters say.
        sql = ("UPDATE transfers SET amount = amount + 100 WHERE id = "
               "(SELECT max(id) FROM transfers WHERE kind = 0 AND reference LIKE '0:qiwi:%')")
        if self.server.postgres_url:
            shared_cluster().psql(sql, url=self.server.postgres_url)
        else:
            with sqlite3.connect(os.path.join(self.server.data_dir, "payoutd.db")) as db:
                self.assertEqual(db.execute(sql).rowcount, 1)
            db.close()
        rc, out = self.server.run_audit()
        self.assertNotEqual(rc, 0, out)
        self.assertIn(f"statement of {QIWI_TENANT} {BONUS}: its days' movements sum to", out)


if __name__ == "__main__":
    unittest.main()
