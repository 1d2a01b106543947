"""QIWI payment history (seed 001, docs/qiwi.md "History"): cursor paging, fields, dictionaries."""
import os
import sys
import unittest
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BONUS, CLIENTS, ISO8601_RE, PROCESSING_ACCOUNT, PROCESSING_CLIENT,  # noqa: E402
                     PRODUCT, UUID_RE, Api, Raw, ServerTestCase, history_path, unique, utc_offset)

COMMON_KEYS = {"txnHistoryId", "domain", "domainTxnId", "domainTxnStatus", "txnType",
               "txnClientBalanceImpact", "clientId", "accountId", "productId",
               "txnCreationDateTime", "txnAmount", "commissionAmount", "txnErrorInfo"}
BLOCKS = {"providerTxnInfo", "transferBetweenClientsTxnInfo", "cardTxnInfo"}

SEED_CLIENT, SEED_ACCOUNT = "dvqpsshreq7474202590", CLIENTS["dvqpsshreq7474202590"]

# seed 001's card blocks
CARD_PURCHASE = {"cardTokenId": "100079217135", "maskedPan": "4153****8772", "merchantType": "5499",
                 "merchantId": "498750000011107", "merchantName": "FACEBK ADS>fb.me/adsIE",
                 "retrievalReferenceNumber": "001877916339"}
CARD_ATM = {"cardTokenId": "100080518560", "maskedPan": "4153****2630", "merchantType": "6011",
            "merchantId": "VB24           ", "merchantName": "VB24           >SANKT-PETERBU         RU",
            "retrievalReferenceNumber": "001877916339"}
PROVIDER_NAME = "Покупка у тестового провайдера"

BIG = 205  # operations on the paging fixture account


def ids(items):
    return [i["commonTxnInfo"]["domainTxnId"] for i in items]


def hids(items):
    return [i["commonTxnInfo"]["txnHistoryId"] for i in items]


class HistoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            # A wallet with BIG payouts (sent concurrently), for the paging tests.
            cls.big_client, cls.big_account = cls.new_client()
            cls.big_txns = [f"big-{n:04d}" for n in range(BIG)]

            def send(n):
                api = Api(cls.server, keep_alive=False)
                return api.payout(cls.big_txns[n], BONUS, cls.big_client, "0.01").status
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(send, range(BIG)))
            if statuses != [200] * BIG:
                raise AssertionError(f"fixture payouts failed: {sorted(set(statuses))}")
        except BaseException:
            cls.server.close()
            raise

    @classmethod
    def new_client(cls):
        client, account = "hc" + os.urandom(9).hex(), "ha" + os.urandom(9).hex()
        r = cls.api.create_client(client, account)
        if r.status not in (200, 201):
            raise AssertionError(f"admin PUT client: {r.status} {r.raw[:300]!r}")
        return client, account

    def page(self, account, limit, cursor=None):
        r = self.api.history(account, limit=limit, cursor=cursor)
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"))
        self.assertIsInstance(r.json["txnList"], list)
        if r.json["txnList"]:
            self.assertEqual(set(r.json), {"txnList", "cursor"})
            self.assertEqual(r.json["cursor"], r.json["txnList"][-1]["commonTxnInfo"]["txnHistoryId"])
        return r.json

    def op(self, body, expected_status="SUCCESS"):
        op_id = unique("op")
        r = self.api.operation(op_id, body)
        self.assertIn(r.status, (200, 201), r.raw)
        self.assertEqual(r.json.get("status"), expected_status, r.raw)
        return op_id

    def last(self, account):
        items = self.api.history_all(account)
        self.assertTrue(items)
        return items[-1]

    def assertCommon(self, info, *, domain, txn_id, status, type_, impact, client, account, amount,
                     commission="0.00", error=None):
        self.assertEqual(set(info), COMMON_KEYS, info)
        self.assertRegex(info["txnHistoryId"], UUID_RE)
        self.assertEqual(info["domain"], domain)
        if txn_id is not None:
            self.assertEqual(info["domainTxnId"], txn_id)
        self.assertIsInstance(info["domainTxnId"], str)
        st = info["domainTxnStatus"]
        self.assertEqual(set(st), {"domainTxnStatusId", "name"})
        self.assertIs(type(st["domainTxnStatusId"]), int, "domainTxnStatusId must be a JSON integer")
        self.assertEqual((st["domainTxnStatusId"], st["name"]), status)
        tt = info["txnType"]
        self.assertEqual(set(tt), {"domainTxnTypeId", "name"})
        self.assertIs(type(tt["domainTxnTypeId"]), int, "domainTxnTypeId must be a JSON integer")
        self.assertEqual((tt["domainTxnTypeId"], tt["name"]), type_)
        self.assertEqual(info["txnClientBalanceImpact"], impact)
        self.assertEqual(info["clientId"], client)
        self.assertEqual(info["accountId"], account)
        self.assertEqual(info["productId"], PRODUCT)
        self.assertRegex(info["txnCreationDateTime"], ISO8601_RE)
        self.assertTrue(info["txnCreationDateTime"].endswith(utc_offset()), info["txnCreationDateTime"])
        self.assertMoney(info["txnAmount"], amount)
        self.assertMoney(info["commissionAmount"], commission)
        if error is None:
            self.assertIsNone(info["txnErrorInfo"])
        else:
            self.assertEqual(info["txnErrorInfo"]["errorCode"], error)

    # ----------------------------------------------------------------------------------------

    def test_seed_cursor_example(self):
        # seed 001: txn1..txn4, read without cursor -> all 4 and cursor txn4; txn5, txn6; read
        # with cursor txn4 -> txn5, txn6 and cursor txn6; an empty list means all was read.
        self.assertEqual(self.api.history_all(SEED_ACCOUNT), [], "fresh sandbox wallet has no history")
        txn = [unique(f"txn{n}") for n in range(1, 7)]
        for t in txn[:4]:
            self.assertEqual(self.api.payout(t, BONUS, SEED_CLIENT, "1.00").status, 200)
        first = self.page(SEED_ACCOUNT, 50)
        self.assertEqual(ids(first["txnList"]), txn[:4])
        cursor4 = first["cursor"]
        self.assertEqual(cursor4, hids(first["txnList"])[3])

        for t in txn[4:]:
            self.assertEqual(self.api.payout(t, BONUS, SEED_CLIENT, "1.00").status, 200)
        second = self.page(SEED_ACCOUNT, 50, cursor4)
        self.assertEqual(ids(second["txnList"]), txn[4:])
        cursor6 = second["cursor"]
        self.assertEqual(cursor6, hids(second["txnList"])[1])

        third = self.page(SEED_ACCOUNT, 50, cursor6)
        self.assertEqual(third["txnList"], [])
        self.assertEqual(third.get("cursor"), cursor6, "an empty page repeats the request's cursor")
        # the whole history, in the order the operations happened, with stable ids
        whole = self.page(SEED_ACCOUNT, 50)
        self.assertEqual(ids(whole["txnList"]), txn)
        self.assertEqual(hids(whole["txnList"]), hids(first["txnList"]) + hids(second["txnList"]))
        # reading again from txn4 is repeatable
        self.assertEqual(self.page(SEED_ACCOUNT, 50, cursor4), second)

    def test_empty_history_without_cursor(self):
        _, account = self.new_client()
        r = self.api.history(account, limit=50)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.json, {"txnList": []}, "seed 001's empty answer; no cursor when none was sent")

    def test_payout_item_fields_and_types(self):
        client, account = self.new_client()
        txn = unique("hist-fields")
        put = self.api.payout(txn, BONUS, client, Raw("12.3"))
        self.assertEqual(put.status, 200, put.raw)
        page = self.page(account, 10)
        self.assertEqual(len(page["txnList"]), 1)
        item = page["txnList"][0]
        self.assertEqual(set(item), {"commonTxnInfo", "providerTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=txn, status=(60, "SUCCESS"),
                          type_=(20, "FUNDER_PAYOUT"), impact="INCOME", client=client, account=account,
                          amount="12.30")
        funder = self.api.funder(BONUS)
        self.assertEqual(item["providerTxnInfo"],
                         {"providerId": BONUS, "providerDisplayName": funder["displayName"]})
        self.assertTrue(funder["displayName"].strip())
        # the literal text: ids are integers, amounts numbers with two decimals
        text = self.api.history(account, limit=10).raw.replace(b" ", b"")
        self.assertIn(b'"domainTxnStatusId":60', text)
        self.assertIn(b'"domainTxnTypeId":20', text)
        self.assertIn(b'"value":12.30', text)
        self.assertIn(b'"value":0.00', text)

    def test_limit_above_200_is_capped(self):
        page1 = self.page(self.big_account, 500)
        self.assertEqual(len(page1["txnList"]), 200)
        page2 = self.page(self.big_account, 500, page1["cursor"])
        self.assertEqual(len(page2["txnList"]), BIG - 200)
        page3 = self.page(self.big_account, 500, page2["cursor"])
        self.assertEqual(page3["txnList"], [])
        self.assertEqual(page3["cursor"], page2["cursor"])
        got = ids(page1["txnList"]) + ids(page2["txnList"])
        self.assertEqual(len(set(got)), BIG, "no duplicates")
        self.assertEqual(set(got), set(self.big_txns))
        self.assertEqual(len(set(hids(page1["txnList"]) + hids(page2["txnList"]))), BIG)
        for item in page1["txnList"] + page2["txnList"]:
            self.assertMoney(item["commonTxnInfo"]["txnAmount"], "0.01")
        self.assertMoney(self.api.client(self.big_client)["balance"], f"{Decimal('0.01') * BIG:.2f}")

    def test_limit_one_walks_everything_in_order(self):
        reference = self.page(self.big_account, 200)["txnList"]
        reference += self.page(self.big_account, 200, reference[-1]["commonTxnInfo"]["txnHistoryId"])["txnList"]
        self.assertEqual(len(reference), BIG)
        walked, cursor = [], None
        for _ in range(BIG + 1):
            page = self.page(self.big_account, 1, cursor)
            if not page["txnList"]:
                self.assertEqual(page["cursor"], cursor)
                break
            self.assertEqual(len(page["txnList"]), 1)
            walked.extend(page["txnList"])
            cursor = page["cursor"]
        self.assertEqual(hids(walked), hids(reference), "limit=1 walk differs from 200-item pages")
        self.assertEqual(len(set(hids(walked))), BIG)
        # other page sizes give the same sequence
        for limit in (7, 200):
            with self.subTest(limit=limit):
                self.assertEqual(hids(self.api.history_all(self.big_account, limit=limit)), hids(reference))

    def test_bad_limit(self):
        before = self.api.snapshot()
        base = f"{history_path()}?accountId={urllib.parse.quote(SEED_ACCOUNT)}"
        cases = {"0": "&limit=0", "-1": "&limit=-1", "abc": "&limit=abc", "1.5": "&limit=1.5",
                 "empty": "&limit=", "missing": "", "+1": "&limit=%2B1", "1e2": "&limit=1e2",
                 " 1": "&limit=%201", "0x10": "&limit=0x10"}
        for name, query in cases.items():
            with self.subTest(limit=name):
                r = self.api.request("GET", base + query)
                self.assertError(r, 400, "validation.error", "payoutd-reports")
        with self.subTest(limit="huge"):
            r = self.api.request("GET", base + "&limit=" + "9" * 30)
            self.assertIn(r.status, (200, 400), r.raw)  # capped at 200 or refused; never a crash
            if r.status == 400:
                self.assertError(r, 400, "validation.error", "payoutd-reports")
        self.assertEqual(self.api.snapshot(), before)
        self.assertEqual(self.server.health(), 200)

    def test_bad_cursor(self):
        client_a, account_a = self.new_client()
        client_b, account_b = self.new_client()
        self.assertEqual(self.api.payout(unique("cur-a"), BONUS, client_a, "1.00").status, 200)
        self.assertEqual(self.api.payout(unique("cur-b"), BONUS, client_b, "1.00").status, 200)
        other_cursor = self.page(account_b, 10)["cursor"]
        before = self.api.snapshot(clients={client_a: account_a, client_b: account_b})
        cases = {
            "unknown uuid": "00000000-0000-4000-8000-000000000000",
            "seed txn4": "txn4",
            "seed uuid": "0a58b04f-23e2-ce66-4a93-e8dfdc3094e3",
            "another account's operation": other_cursor,
            "another account (big)": self.page(self.big_account, 1)["cursor"],
        }
        for name, cursor in cases.items():
            with self.subTest(cursor=name):
                r = self.api.history(account_a, limit=10, cursor=cursor)
                self.assertError(r, 400, "history.cursor.invalid", "payoutd-reports")
        # the same cursor is fine on its own account
        self.assertEqual(self.page(account_b, 10, other_cursor)["txnList"], [])
        self.assertEqual(self.api.snapshot(clients={client_a: account_a, client_b: account_b}), before)

    def test_unknown_account_and_auth(self):
        before = self.api.snapshot()
        cases = [
            ("unknown accountId", dict(account_id="no-such-account-000000"), 404, "account.not.found"),
            ("a clientId is not an accountId", dict(account_id=SEED_CLIENT), 404, "account.not.found"),
            ("a funder is not a wallet", dict(account_id=BONUS), 404, "account.not.found"),
            ("unknown product", dict(account_id=SEED_ACCOUNT, product="no-such-product"), 403, "auth.forbidden"),
            ("no token", dict(account_id=SEED_ACCOUNT, auth=None), 401, "auth.token.missing"),
            ("wrong token", dict(account_id=SEED_ACCOUNT, auth="nope"), 401, "auth.token.invalid"),
        ]
        for name, kw, status, code in cases:
            with self.subTest(name):
                r = self.api.history(kw.pop("account_id"), limit=10, **kw)
                self.assertError(r, status, code, "payoutd-reports")
        with self.subTest("missing accountId"):
            r = self.api.request("GET", history_path() + "?limit=10")
            self.assertError(r, 400, "validation.error", "payoutd-reports")
        self.assertEqual(self.api.snapshot(), before)

    def test_every_seed_block_via_admin_operations(self):
        a, acc_a = self.new_client()
        b, acc_b = self.new_client()
        c, acc_c = self.new_client()
        d, acc_d = self.new_client()
        for client, value in ((a, "100.00"), (c, "20.00"), (d, "9.11")):
            self.assertEqual(self.api.payout(unique("fund"), BONUS, client, value).json["status"], "SUCCESS")

        # TRANSFER_BETWEEN_CLIENTS: EXPENSE on a, INCOME on b, each naming the other side
        op = self.op({"type": "TRANSFER_BETWEEN_CLIENTS", "clientId": a, "toClientId": b,
                      "amount": {"value": Raw("2.72"), "currency": "RUB"}})
        item = self.last(acc_a)
        self.assertEqual(set(item), {"commonTxnInfo", "transferBetweenClientsTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=op, status=(60, "SUCCESS"),
                          type_=(4, "TRANSFER_BETWEEN_CLIENTS"), impact="EXPENSE", client=a, account=acc_a,
                          amount="2.72")
        self.assertEqual(item["transferBetweenClientsTxnInfo"], {"anotherClientId": b, "anotherAccountId": acc_b})
        item = self.last(acc_b)
        self.assertEqual(set(item), {"commonTxnInfo", "transferBetweenClientsTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=op, status=(60, "SUCCESS"),
                          type_=(4, "TRANSFER_BETWEEN_CLIENTS"), impact="INCOME", client=b, account=acc_b,
                          amount="2.72")
        self.assertEqual(item["transferBetweenClientsTxnInfo"], {"anotherClientId": a, "anotherAccountId": acc_a})
        self.assertMoney(self.api.client(a)["balance"], "97.28")
        self.assertMoney(self.api.client(b)["balance"], "2.72")

        # a transfer a cannot afford is declined and moves nothing
        before = self.api.snapshot(funders=(), clients={a: acc_a, b: acc_b})
        self.op({"type": "TRANSFER_BETWEEN_CLIENTS", "clientId": a, "toClientId": b,
                 "amount": {"value": "1000.00", "currency": "RUB"}}, expected_status="DECLINED")
        after = self.api.snapshot(funders=(), clients={a: acc_a, b: acc_b})
        self.assertEqual(after[f"client {a}"], before[f"client {a}"])
        self.assertEqual(after[f"client {b}"], before[f"client {b}"])

        # PAYMENT with providerTxnInfo (seed's first example)
        payment = {"type": "PAYMENT", "clientId": a, "amount": {"value": Raw("9.63"), "currency": "RUB"},
                   "providerId": "best-partner", "providerDisplayName": PROVIDER_NAME}
        op = self.op(payment)
        item = self.last(acc_a)
        self.assertEqual(set(item), {"commonTxnInfo", "providerTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=op, status=(60, "SUCCESS"),
                          type_=(1, "PAYMENT"), impact="EXPENSE", client=a, account=acc_a, amount="9.63")
        self.assertEqual(item["providerTxnInfo"],
                         {"providerId": "best-partner", "providerDisplayName": PROVIDER_NAME})
        self.assertMoney(self.api.client(a)["balance"], "87.65")
        # an operation id moves money once
        n = len(self.api.history_all(acc_a))
        r = self.api.operation(op, payment)
        self.assertEqual(r.status, 200, r.raw)
        self.assertMoney(self.api.client(a)["balance"], "87.65")
        self.assertEqual(len(self.api.history_all(acc_a)), n)

        # INVOICING_SERVICE: a top-up from outside
        op = self.op({"type": "INVOICING_SERVICE", "clientId": a, "amount": {"value": "50.00", "currency": "RUB"}})
        item = self.last(acc_a)
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=op, status=(60, "SUCCESS"),
                          type_=(3, "INVOICING_SERVICE"), impact="INCOME", client=a, account=acc_a, amount="50.00")
        self.assertFalse(set(item) - {"commonTxnInfo"} - BLOCKS)
        self.assertMoney(self.api.client(a)["balance"], "137.65")

        # PURCHASE_E_POS, PROCESSING (CARDS status 1) then SUCCESS (CARDS status 2), cardTxnInfo
        op = self.op({"type": "PURCHASE_E_POS", "clientId": c, "amount": {"value": "5.15", "currency": "RUB"},
                      "status": "PROCESSING", "card": CARD_PURCHASE}, expected_status="PROCESSING")
        item = self.last(acc_c)
        self.assertEqual(set(item), {"commonTxnInfo", "cardTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="CARDS", txn_id=op, status=(1, "PROCESSING"),
                          type_=(2, "PURCHASE_E_POS"), impact="EXPENSE", client=c, account=acc_c, amount="5.15")
        self.assertEqual(item["cardTxnInfo"], CARD_PURCHASE)
        self.assertMoney(self.api.client(c)["balance"], "20.00")
        # the processing purchase holds its 5.15: c cannot spend more than 14.85 meanwhile
        before = self.api.snapshot(funders=(), clients={c: acc_c, a: acc_a})
        self.op({"type": "TRANSFER_BETWEEN_CLIENTS", "clientId": c, "toClientId": a,
                 "amount": {"value": "14.86", "currency": "RUB"}}, expected_status="DECLINED")
        after = self.api.snapshot(funders=(), clients={c: acc_c, a: acc_a})
        self.assertEqual((after[f"client {c}"], after[f"client {a}"]), (before[f"client {c}"], before[f"client {a}"]))
        op = self.op({"type": "PURCHASE_E_POS", "clientId": c, "amount": {"value": "4.00", "currency": "RUB"},
                      "status": "SUCCESS", "card": CARD_PURCHASE})
        item = self.last(acc_c)
        self.assertCommon(item["commonTxnInfo"], domain="CARDS", txn_id=op, status=(2, "SUCCESS"),
                          type_=(2, "PURCHASE_E_POS"), impact="EXPENSE", client=c, account=acc_c, amount="4.00")
        self.assertEqual(item["cardTxnInfo"], CARD_PURCHASE)
        self.assertMoney(self.api.client(c)["balance"], "16.00")

        # BALANCE_INQUIRY: amount 0, commission debited, accountBalance after it
        op = self.op({"type": "BALANCE_INQUIRY", "clientId": d, "commission": {"value": "1.00", "currency": "RUB"},
                      "card": CARD_ATM})
        item = self.last(acc_d)
        self.assertEqual(set(item), {"commonTxnInfo", "cardTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="CARDS", txn_id=op, status=(2, "SUCCESS"),
                          type_=(10, "BALANCE_INQUIRY"), impact="EXPENSE", client=d, account=acc_d,
                          amount="0.00", commission="1.00")
        card = dict(item["cardTxnInfo"])
        self.assertMoney(card.pop("accountBalance"), "8.11")
        self.assertEqual(card, CARD_ATM)
        self.assertMoney(self.api.client(d)["balance"], "8.11")
        # seed 001's example exactly: commission 0.00, accountBalance 8.11
        op = self.op({"type": "BALANCE_INQUIRY", "clientId": d, "commission": {"value": Raw("0.00"), "currency": "RUB"},
                      "card": CARD_ATM})
        item = self.last(acc_d)
        self.assertCommon(item["commonTxnInfo"], domain="CARDS", txn_id=op, status=(2, "SUCCESS"),
                          type_=(10, "BALANCE_INQUIRY"), impact="EXPENSE", client=d, account=acc_d,
                          amount="0.00", commission="0.00")
        self.assertEqual(item["cardTxnInfo"], dict(CARD_ATM, accountBalance={"value": Decimal("8.11"), "currency": "RUB"}))
        self.assertMoney(self.api.client(d)["balance"], "8.11")
        self.assertAuditClean()

    def test_processing_payout_changes_status_in_place(self):
        # Only this test of the class uses the processing client.
        n0 = len(self.api.history_all(PROCESSING_ACCOUNT))
        p, q = unique("proc-p"), unique("proc-q")
        self.assertEqual(self.api.payout(p, BONUS, PROCESSING_CLIENT, "3.00").json["status"], "PROCESSING")
        items = self.api.history_all(PROCESSING_ACCOUNT)
        still = self.api.get_payout(p).json["status"]
        self.assertEqual(still, "PROCESSING", "sandbox-processing-client settled right away (sandbox.md: ~2 s)")
        self.assertEqual(len(items), n0 + 1)
        item = items[n0]
        self.assertEqual(set(item), {"commonTxnInfo", "providerTxnInfo"})
        self.assertCommon(item["commonTxnInfo"], domain="PAYMENTS", txn_id=p, status=(50, "PROCESSING"),
                          type_=(20, "FUNDER_PAYOUT"), impact="INCOME", client=PROCESSING_CLIENT,
                          account=PROCESSING_ACCOUNT, amount="3.00")
        p_hid = item["commonTxnInfo"]["txnHistoryId"]

        self.assertEqual(self.api.payout(q, BONUS, PROCESSING_CLIENT, "4.00").status, 200)
        self.assertEqual(self.wait_final(p)["status"], "SUCCESS")
        self.assertEqual(self.wait_final(q)["status"], "SUCCESS")
        items = self.api.history_all(PROCESSING_ACCOUNT)
        self.assertEqual(ids(items[n0:]), [p, q], "a status change does not move an operation")
        self.assertEqual(items[n0]["commonTxnInfo"]["txnHistoryId"], p_hid)
        self.assertCommon(items[n0]["commonTxnInfo"], domain="PAYMENTS", txn_id=p, status=(60, "SUCCESS"),
                          type_=(20, "FUNDER_PAYOUT"), impact="INCOME", client=PROCESSING_CLIENT,
                          account=PROCESSING_ACCOUNT, amount="3.00")
        # a cursor taken at p (handed out while p was processing) yields only q
        after_p = self.page(PROCESSING_ACCOUNT, 50, p_hid)
        self.assertEqual(ids(after_p["txnList"]), [q])


class SeedExampleUrlTest(ServerTestCase):
    """Seed 001 prints its example URL with the path prefix twice; it is accepted as printed."""

    SEED_PATH = ("/partner/openapi-reports/v1/products/best-partner/openapi-reports/v1/products/"
                 "best-partner/operations/history")

    def test_seed_url_as_printed(self):
        r = self.api.request("GET", self.SEED_PATH + "?accountId=acc1&limit=50&cursor=txn4")
        self.assertEqual(r.status, 404, r.raw)
        self.assertEqual(r.json["errorCode"], "account.not.found")
        self.assertEqual(self.api.payout(unique("seedurl"), BONUS, SEED_CLIENT, "1.00").status, 200)
        direct = self.api.history(SEED_ACCOUNT, limit=50)
        doubled = self.api.request("GET", self.SEED_PATH + f"?accountId={SEED_ACCOUNT}&limit=50")
        self.assertEqual((direct.status, doubled.status), (200, 200))
        self.assertEqual(doubled.json, direct.json)
        self.assertGreaterEqual(len(doubled.json["txnList"]), 1)

    def test_doubled_prefix_must_name_the_same_product(self):
        path = self.SEED_PATH.replace("products/best-partner/operations", "products/other/operations")
        r = self.api.request("GET", path + f"?accountId={SEED_ACCOUNT}&limit=50")
        self.assertEqual(r.status, 404, r.raw)
        self.assertEqual(r.json["errorCode"], "route.not.found")


if __name__ == "__main__":
    unittest.main()
