"""QIWI payment history (seed 001, docs/qiwi.md "History"): paging through hundreds of operations,
an item's fields and their JSON types, a processing payout's status changing in place. The seed's
examples and the refused requests are scenario files (scenarios/qiwi/)."""
import os
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BONUS, ISO8601_RE, PROCESSING_ACCOUNT, PROCESSING_CLIENT, PRODUCT, UUID_RE,  # noqa: E402
                     Api, Raw, ServerTestCase, unique, utc_offset)

COMMON_KEYS = {"txnHistoryId", "domain", "domainTxnId", "domainTxnStatus", "txnType",
               "txnClientBalanceImpact", "clientId", "accountId", "productId",
               "txnCreationDateTime", "txnAmount", "commissionAmount", "txnErrorInfo"}

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

    def assertCommon(self, info, *, domain, txn_id, status, type_, impact, client, account, amount):
        """A successful or processing item without commission (the sandbox's funder payouts)."""
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
        self.assertMoney(info["commissionAmount"], "0.00")
        self.assertIsNone(info["txnErrorInfo"])

    # ----------------------------------------------------------------------------------------

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


if __name__ == "__main__":
    unittest.main()
