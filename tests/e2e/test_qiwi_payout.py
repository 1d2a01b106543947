"""QIWI funder payouts (seed 000, docs/qiwi.md "Payout"): outcomes, fields, status reads, and the
money each moves. The documented example and the refused requests are scenario files
(scenarios/qiwi/)."""
import os
import sys
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BLOCKED_ACCOUNT, BLOCKED_CLIENT, BONUS, CASHBACK, CLIENTS, ISO8601_RE,  # noqa: E402
                     PROCESSING_ACCOUNT, PROCESSING_CLIENT, PRODUCT, Raw, ServerTestCase, unique,
                     utc_offset)

SUCCESS_KEYS = {"productId", "transactionId", "fromFunderId", "toClientId", "transactionAmount",
                "status", "createdDateTime"}

# Client wallets reserved for single tests of this file (tests share one server).
C_SUCCESS = "sjrpngawef8770553957"
C_FORMS = "fciscvrywl9511144790"
C_CASHBACK = "dvqpsshreq7474202590"
C_GET = "mqyixkhjsr0446961069"


class PayoutTest(ServerTestCase):

    def assertPayout(self, body, txn, funder, client, value, status):
        keys = SUCCESS_KEYS | ({"declineReason"} if status == "DECLINED" else set())
        self.assertIsInstance(body, dict)
        self.assertEqual(set(body), keys, body)
        self.assertEqual(body["productId"], PRODUCT)
        self.assertEqual(body["transactionId"], txn)
        self.assertEqual(body["fromFunderId"], funder)
        self.assertEqual(body["toClientId"], client)
        self.assertMoney(body["transactionAmount"], value)
        self.assertEqual(body["status"], status)
        self.assertRegex(body["createdDateTime"], ISO8601_RE)
        self.assertTrue(body["createdDateTime"].endswith(utc_offset()), body["createdDateTime"])

    def assertDeclined(self, body, code):
        reason = body["declineReason"]
        self.assertIsInstance(reason, dict)
        self.assertEqual(reason["code"], code)
        self.assertIsInstance(reason["description"], str)
        self.assertTrue(reason["description"].strip())

    def history_item(self, account, txn):
        found = [i for i in self.api.history_all(account) if i["commonTxnInfo"]["domainTxnId"] == txn]
        self.assertEqual(len(found), 1, f"{txn} must appear exactly once in {account}'s history")
        return found[0]

    # ----------------------------------------------------------------------------------------

    def test_success_all_fields(self):
        account = CLIENTS[C_SUCCESS]
        funder0, client0 = self.api.funder(BONUS), self.api.client(C_SUCCESS)
        history0 = self.api.history_all(account)
        txn = unique("pay-ok")
        r = self.api.payout(txn, BONUS, C_SUCCESS, "100.5")  # as a string, one fraction digit
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"))
        self.assertPayout(r.json, txn, BONUS, C_SUCCESS, "100.50", "SUCCESS")
        # the literal text of the answer carries two decimals
        self.assertIn(b'"value":100.50', r.raw.replace(b" ", b""))

        funder1, client1 = self.api.funder(BONUS), self.api.client(C_SUCCESS)
        self.assertEqual(Decimal(funder0["balance"]["value"]) - Decimal(funder1["balance"]["value"]),
                         Decimal("100.50"))
        self.assertEqual(funder1["reserved"]["value"], funder0["reserved"]["value"])
        self.assertEqual(Decimal(client1["balance"]["value"]) - Decimal(client0["balance"]["value"]),
                         Decimal("100.50"))
        self.assertMoney(client1["balance"], str(Decimal(client0["balance"]["value"]) + Decimal("100.50")))
        history1 = self.api.history_all(account)
        self.assertEqual(len(history1), len(history0) + 1)
        item = history1[-1]["commonTxnInfo"]
        self.assertEqual(item["domainTxnId"], txn)
        self.assertMoney(item["txnAmount"], "100.50")
        self.assertEqual(item["txnClientBalanceImpact"], "INCOME")

    def test_value_as_number_and_as_string(self):
        cases = [  # (what is sent, what the answer shows)
            (Raw("100.5"), "100.50"),
            (Raw("100.50"), "100.50"),
            ("100.50", "100.50"),
            ("7.25", "7.25"),
            (Raw("5"), "5.00"),
            ("5", "5.00"),
            (Raw("0.01"), "0.01"),
            ("0.1", "0.10"),
            (Raw("12345.6"), "12345.60"),
        ]
        total = Decimal(0)
        b0, c0 = self.api.funder_balance(BONUS), self.api.client_balance(C_FORMS)
        for sent, shown in cases:
            with self.subTest(sent=f"{type(sent).__name__}:{sent}"):
                txn = unique("pay-form")
                r = self.api.payout(txn, BONUS, C_FORMS, sent)
                self.assertEqual(r.status, 200, r.raw)
                self.assertPayout(r.json, txn, BONUS, C_FORMS, shown, "SUCCESS")
                total += Decimal(shown)
                g = self.api.get_payout(txn)
                self.assertEqual(g.status, 200)
                self.assertMoney(g.json["transactionAmount"], shown)
        self.assertEqual(b0 - self.api.funder_balance(BONUS), total)
        self.assertEqual(self.api.client_balance(C_FORMS) - c0, total)

    def test_get_returns_same_body(self):
        txn = unique("pay-get")
        put = self.api.payout(txn, BONUS, C_GET, Raw("3.30"))
        self.assertEqual(put.status, 200, put.raw)
        self.assertPayout(put.json, txn, BONUS, C_GET, "3.30", "SUCCESS")
        get = self.api.get_payout(txn)
        self.assertEqual(get.status, 200, get.raw)
        self.assertEqual(get.json, put.json)
        self.assertTrue(get.headers.get("content-type", "").startswith("application/json"))

    def test_transaction_id_charset_and_length(self):
        # 1-64 characters of [A-Za-z0-9._-] are accepted (the rejections are in test_qiwi_hostile).
        for txn in ("A", "a.b_c-D9", "x" * 64, unique("Z.z_9-")):
            with self.subTest(txn=txn):
                r = self.api.payout(txn, BONUS, C_GET, "1.00")
                self.assertEqual(r.status, 200, r.raw)
                self.assertPayout(r.json, txn, BONUS, C_GET, "1.00", "SUCCESS")
                self.assertEqual(self.api.get_payout(txn).json["status"], "SUCCESS")

    def test_blocked_client_declined_nothing_moved(self):
        f0, c0 = self.api.funder(BONUS), self.api.client(BLOCKED_CLIENT)
        txn = unique("pay-blocked")
        r = self.api.payout(txn, BONUS, BLOCKED_CLIENT, "10.00")
        self.assertEqual(r.status, 200, r.raw)
        self.assertPayout(r.json, txn, BONUS, BLOCKED_CLIENT, "10.00", "DECLINED")
        self.assertDeclined(r.json, "CLIENT_ACCOUNT_BLOCKED")
        self.assertEqual(self.api.funder(BONUS), f0)
        self.assertEqual(self.api.client(BLOCKED_CLIENT), c0)
        # the id is consumed: GET and a replay show the same DECLINED
        self.assertEqual(self.api.get_payout(txn).json, r.json)
        self.assertEqual(self.api.payout(txn, BONUS, BLOCKED_CLIENT, "10.00").json, r.json)
        self.assertEqual(self.api.funder(BONUS), f0)
        # declined payouts appear in the wallet's history with their status
        item = self.history_item(BLOCKED_ACCOUNT, txn)["commonTxnInfo"]
        self.assertEqual(item["domainTxnStatus"], {"domainTxnStatusId": 70, "name": "DECLINED"})
        self.assertEqual(item["txnErrorInfo"]["errorCode"], "CLIENT_ACCOUNT_BLOCKED")
        self.assertTrue(item["txnErrorInfo"]["description"].strip())

    def test_funder_insufficient_funds(self):
        # cashback-funder has exactly 1 000.00 on a fresh sandbox; only this test uses it here.
        account = CLIENTS[C_CASHBACK]
        self.assertEqual(self.api.funder_balance(CASHBACK), Decimal("1000.00"))
        before = self.api.snapshot()

        over = unique("cb-over")
        r = self.api.payout(over, CASHBACK, C_CASHBACK, "1000.01")
        self.assertEqual(r.status, 200, r.raw)
        self.assertPayout(r.json, over, CASHBACK, C_CASHBACK, "1000.01", "DECLINED")
        self.assertDeclined(r.json, "FUNDER_INSUFFICIENT_FUNDS")
        after = self.api.snapshot()
        # nothing moved; only the declined entry was added to the wallet's history
        for key in before:
            if key != f"history {account}":
                self.assertEqual(after[key], before[key], key)
        self.assertEqual(after[f"history {account}"][:-1], before[f"history {account}"])
        item = self.history_item(account, over)["commonTxnInfo"]
        self.assertEqual(item["domainTxnStatus"], {"domainTxnStatusId": 70, "name": "DECLINED"})
        self.assertEqual(item["txnErrorInfo"]["errorCode"], "FUNDER_INSUFFICIENT_FUNDS")

        exact = unique("cb-exact")  # the whole balance is affordable
        r = self.api.payout(exact, CASHBACK, C_CASHBACK, Raw("1000.00"))
        self.assertEqual(r.status, 200, r.raw)
        self.assertPayout(r.json, exact, CASHBACK, C_CASHBACK, "1000.00", "SUCCESS")
        funder = self.api.funder(CASHBACK)
        self.assertMoney(funder["balance"], "0.00")
        self.assertMoney(funder["reserved"], "0.00")

        cent = unique("cb-cent")
        r = self.api.payout(cent, CASHBACK, C_CASHBACK, "0.01")
        self.assertEqual(r.status, 200, r.raw)
        self.assertPayout(r.json, cent, CASHBACK, C_CASHBACK, "0.01", "DECLINED")
        self.assertDeclined(r.json, "FUNDER_INSUFFICIENT_FUNDS")
        self.assertMoney(self.api.funder(CASHBACK)["balance"], "0.00")
        self.assertEqual(self.api.client_balance(C_CASHBACK) - Decimal(before[f"client {C_CASHBACK}"][0]),
                         Decimal("1000.00"))

    def test_processing_client_then_success(self):
        f0, c0 = self.api.funder(BONUS), self.api.client(PROCESSING_CLIENT)
        txn = unique("pay-proc")
        r = self.api.payout(txn, BONUS, PROCESSING_CLIENT, "25.40")
        self.assertEqual(r.status, 200, r.raw)
        self.assertPayout(r.json, txn, BONUS, PROCESSING_CLIENT, "25.40", "PROCESSING")

        # Read the funder, then the status: if the payout is still PROCESSING after the funder
        # read, the funds were reserved at the moment of that read.
        f_mid, c_mid = self.api.funder(BONUS), self.api.client(PROCESSING_CLIENT)
        still = self.api.get_payout(txn).json
        self.assertEqual(still["status"], "PROCESSING",
                         "sandbox-processing-client settled right away (sandbox.md: about 2 s later)")
        self.assertEqual(Decimal(f_mid["reserved"]["value"]) - Decimal(f0["reserved"]["value"]),
                         Decimal("25.40"), "the processing payout's funds are reserved")
        self.assertEqual(c_mid["balance"], c0["balance"], "the credit is not final while PROCESSING")
        self.assertEqual(still, r.json)
        # a replay while processing answers the current state and moves nothing
        replay = self.api.payout(txn, BONUS, PROCESSING_CLIENT, "25.40")
        self.assertEqual(replay.status, 200)
        self.assertIn(replay.json["status"], ("PROCESSING", "SUCCESS"))

        final = self.wait_final(txn)
        self.assertPayout(final, txn, BONUS, PROCESSING_CLIENT, "25.40", "SUCCESS")
        self.assertEqual(final["createdDateTime"], r.json["createdDateTime"])
        f1, c1 = self.api.funder(BONUS), self.api.client(PROCESSING_CLIENT)
        self.assertEqual(Decimal(f0["balance"]["value"]) - Decimal(f1["balance"]["value"]), Decimal("25.40"))
        self.assertEqual(f1["reserved"]["value"], f0["reserved"]["value"])
        self.assertEqual(Decimal(c1["balance"]["value"]) - Decimal(c0["balance"]["value"]), Decimal("25.40"))
        self.assertEqual(self.api.payout(txn, BONUS, PROCESSING_CLIENT, "25.40").json, final)
        item = self.history_item(PROCESSING_ACCOUNT, txn)["commonTxnInfo"]
        self.assertEqual(item["domainTxnStatus"], {"domainTxnStatusId": 60, "name": "SUCCESS"})


if __name__ == "__main__":
    unittest.main()
