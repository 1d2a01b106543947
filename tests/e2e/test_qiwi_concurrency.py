"""Concurrent payouts against one funder: the funder never goes below zero, money is conserved."""
import os
import sys
import threading
import unittest
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BONUS, CASHBACK, Api, ServerTestCase  # noqa: E402


class ConcurrencyTest(ServerTestCase):

    def make_clients(self, prefix, n):
        """n new clients (clientId, accountId), created through the admin API."""
        clients = [(f"{prefix}{i:017d}c", f"{prefix}{i:017d}a") for i in range(n)]
        for client, account in clients:
            r = self.api.create_client(client, account)
            self.assertIn(r.status, (200, 201), r.raw)
            again = self.api.create_client(client, account)  # idempotent for the same body
            self.assertEqual(again.status, 200, again.raw)
            got = self.api.client(client)
            self.assertEqual((got["clientId"], got["accountId"], got["currency"]), (client, account, "RUB"))
            self.assertMoney(got["balance"], "0.00")
        return clients

    def run_all(self, requests, threads):
        """Sends (txn, funder, client, value) requests from `threads` threads, each with its own
        connection, released together; returns the responses in request order."""
        barrier = threading.Barrier(min(threads, len(requests)))
        local = threading.local()
        api = Api(self.server)  # one keep-alive connection per thread

        def one(req):
            if not hasattr(local, "started"):
                local.started = True
                barrier.wait(30)
            return api.payout(*req)
        try:
            with ThreadPoolExecutor(threads) as pool:
                return list(pool.map(one, requests))
        finally:
            api.close()

    def test_cashback_funder_can_afford_only_part(self):
        # 1 000.00 / 30.00 = 33 payouts; 27 must be declined, the funder ends at 10.00.
        self.assertMoney(self.api.funder(CASHBACK)["balance"], "1000.00")
        clients = self.make_clients("cc", 60)
        requests = [(f"cb-race-{i:03d}", CASHBACK, client, "30.00") for i, (client, _) in enumerate(clients)]
        answers = self.run_all(requests, 60)

        self.assertEqual([a.status for a in answers], [200] * 60,
                         [a.raw[:200] for a in answers if a.status != 200][:3])
        outcome = Counter(a.json["status"] for a in answers)
        self.assertEqual(outcome, Counter({"SUCCESS": 33, "DECLINED": 27}))
        for a in answers:
            if a.json["status"] == "DECLINED":
                self.assertEqual(a.json["declineReason"]["code"], "FUNDER_INSUFFICIENT_FUNDS")

        funder = self.api.funder(CASHBACK)
        self.assertMoney(funder["balance"], "10.00")
        self.assertMoney(funder["reserved"], "0.00")
        total = Decimal(0)
        for (txn, _, client, _), a in zip(requests, answers):
            balance = self.api.client_balance(client)
            self.assertEqual(balance, Decimal("30.00") if a.json["status"] == "SUCCESS" else Decimal(0), client)
            self.assertEqual(self.api.get_payout(txn).json, a.json)
            total += balance
        self.assertEqual(total, Decimal("990.00"))

        # replays change nothing: same answers, same balances
        again = self.run_all(requests, 16)
        self.assertEqual([a.json for a in again], [a.json for a in answers])
        self.assertMoney(self.api.funder(CASHBACK)["balance"], "10.00")
        self.assertAuditClean()

    def test_hot_funder_many_clients(self):
        clients = self.make_clients("hf", 10)
        amounts = ["0.01", "1.00", "2.50", "99.99", "0.10", "10.00", "3.33"]
        requests = [(f"hot-{i:04d}", BONUS, clients[i % 10][0], amounts[i % len(amounts)]) for i in range(300)]
        b0 = self.api.funder_balance(BONUS)
        answers = self.run_all(requests, 16)
        self.assertEqual({a.status for a in answers}, {200})
        self.assertEqual({a.json["status"] for a in answers}, {"SUCCESS"})

        expected = Counter()
        for _, _, client, value in requests:
            expected[client] += Decimal(value)
        for client, account in clients:
            self.assertEqual(self.api.client_balance(client), expected[client], client)
            history = self.api.history_all(account)
            mine = sorted(txn for txn, _, c, _ in requests if c == client)
            self.assertEqual(sorted(i["commonTxnInfo"]["domainTxnId"] for i in history), mine)
        self.assertEqual(b0 - self.api.funder_balance(BONUS), sum(expected.values()))
        self.assertMoney(self.api.funder(BONUS)["reserved"], "0.00")
        self.assertAuditClean()


if __name__ == "__main__":
    unittest.main()
