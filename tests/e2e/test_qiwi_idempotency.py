"""QIWI idempotency (docs/qiwi.md "Idempotency"): a transactionId moves money at most once."""
import os
import sys
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BLOCKED_CLIENT, BONUS, CASHBACK, CLIENTS, PROCESSING_CLIENT, Api,  # noqa: E402
                     Raw, ServerTestCase, payout_body, payout_path, unique)

C1, C2, C3, C4, C5 = list(CLIENTS)


class IdempotencyTest(ServerTestCase):

    def count_in_history(self, client, txn):
        return sum(1 for i in self.api.history_all(CLIENTS.get(client) or self.api.client(client)["accountId"])
                   if i["commonTxnInfo"]["domainTxnId"] == txn)

    def test_replay_returns_same_outcome_and_moves_once(self):
        b0, c0 = self.api.funder_balance(BONUS), self.api.client_balance(C1)
        txn = unique("idem-replay")
        first = self.api.payout(txn, BONUS, C1, Raw("42.00"))
        self.assertEqual(first.status, 200, first.raw)
        self.assertEqual(first.json["status"], "SUCCESS")
        for n in range(3):
            with self.subTest(replay=n):
                again = self.api.payout(txn, BONUS, C1, Raw("42.00"))
                self.assertEqual(again.status, 200, again.raw)
                self.assertEqual(again.json, first.json)
        self.assertEqual(self.api.get_payout(txn).json, first.json)
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal("42.00"))
        self.assertEqual(self.api.client_balance(C1) - c0, Decimal("42.00"))
        self.assertEqual(self.count_in_history(C1, txn), 1)

    def test_amount_spellings_are_the_same_request(self):
        b0, c0 = self.api.funder_balance(BONUS), self.api.client_balance(C2)
        txn = unique("idem-spell")
        first = self.api.payout(txn, BONUS, C2, "100.5")
        self.assertEqual(first.status, 200, first.raw)
        self.assertEqual(first.json["status"], "SUCCESS")
        for spelling in (Raw("100.50"), Raw("100.5"), "100.50", "100.5"):
            with self.subTest(spelling=f"{type(spelling).__name__}:{spelling}"):
                again = self.api.payout(txn, BONUS, C2, spelling)
                self.assertEqual(again.status, 200, again.raw)
                self.assertEqual(again.json, first.json)
        # unknown members are ignored, so they do not make it another request
        body = dict(payout_body(BONUS, C2, Raw("100.50")), comment="ignored")
        again = self.api.request("PUT", payout_path(txn), body=body)
        self.assertEqual(again.status, 200, again.raw)
        self.assertEqual(again.json, first.json)
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal("100.50"))
        self.assertEqual(self.api.client_balance(C2) - c0, Decimal("100.50"))
        self.assertEqual(self.count_in_history(C2, txn), 1)

    def test_conflicting_replay_is_409_and_changes_nothing(self):
        txn = unique("idem-conflict")
        first = self.api.payout(txn, BONUS, C3, "10.00")
        self.assertEqual(first.status, 200, first.raw)
        before = self.api.snapshot()
        conflicts = {
            "other amount": (BONUS, C3, "10.01"),
            "other amount (number)": (BONUS, C3, Raw("1.00")),
            "other client": (BONUS, C4, "10.00"),
            "other funder": (CASHBACK, C3, "10.00"),
            "blocked client": (BONUS, BLOCKED_CLIENT, "10.00"),
        }
        for name, (funder, client, value) in conflicts.items():
            with self.subTest(name):
                r = self.api.payout(txn, funder, client, value)
                self.assertError(r, 409, "transaction.id.conflict", "payoutd-payments")
        self.assertEqual(self.api.snapshot(), before)
        self.assertEqual(self.api.get_payout(txn).json, first.json)
        self.assertEqual(self.api.payout(txn, BONUS, C3, "10.00").json, first.json)

    def test_declined_payout_consumes_its_id(self):
        # cashback-funder (1 000.00) cannot pay 2 000.00; after a credit it could, but the id
        # stays DECLINED. Only this test of the class debits cashback-funder.
        txn = unique("idem-declined")
        first = self.api.payout(txn, CASHBACK, C4, "2000.00")
        self.assertEqual(first.status, 200, first.raw)
        self.assertEqual(first.json["status"], "DECLINED")
        self.assertEqual(first.json["declineReason"]["code"], "FUNDER_INSUFFICIENT_FUNDS")
        credit = unique("credit")
        f0 = self.api.funder_balance(CASHBACK)
        for _ in range(2):  # a credit is idempotent by its creditId
            r = self.api.credit_funder(CASHBACK, credit, "5000.00")
            self.assertIn(r.status, (200, 201), r.raw)
        self.assertEqual(self.api.funder_balance(CASHBACK) - f0, Decimal("5000.00"))
        before = self.api.snapshot()
        again = self.api.payout(txn, CASHBACK, C4, "2000.00")
        self.assertEqual(again.status, 200, again.raw)
        self.assertEqual(again.json, first.json)
        self.assertEqual(self.api.snapshot(), before)
        r = self.api.payout(txn, CASHBACK, C4, "1.00")
        self.assertError(r, 409, "transaction.id.conflict", "payoutd-payments")
        self.assertEqual(self.count_in_history(C4, txn), 1)

    def test_50_concurrent_copies_execute_once(self):
        txn = unique("idem-race")
        b0, c0 = self.api.funder_balance(BONUS), self.api.client_balance(C5)
        answers = self.race(50, lambda n: (txn, BONUS, C5, Raw("7.77") if n % 2 else "7.77"))
        statuses = {a.status for a in answers}
        self.assertEqual(statuses, {200}, [a.raw[:200] for a in answers if a.status != 200][:3])
        bodies = [a.json for a in answers]
        self.assertTrue(all(b == bodies[0] for b in bodies), "every copy gets the same answer")
        self.assertEqual(bodies[0]["status"], "SUCCESS")
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal("7.77"))
        self.assertEqual(self.api.client_balance(C5) - c0, Decimal("7.77"))
        self.assertEqual(self.count_in_history(C5, txn), 1)
        self.assertAuditClean()

    def test_concurrent_conflicting_copies_one_wins(self):
        txn = unique("idem-race-conflict")
        b0 = self.api.funder_balance(BONUS)
        answers = self.race(30, lambda n: (txn, BONUS, C1, "1.00" if n % 2 else "2.00"))
        ok = [a for a in answers if a.status == 200]
        self.assertTrue(ok, "one of the two requests must win")
        winner = ok[0].json
        self.assertTrue(all(a.json == winner for a in ok))
        value = str(winner["transactionAmount"]["value"])
        self.assertEqual(len(ok), 15, f"exactly the copies of the winning request ({value}) succeed")
        for a in answers:
            if a.status != 200:
                self.assertError(a, 409, "transaction.id.conflict", "payoutd-payments")
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal(value))
        self.assertEqual(self.count_in_history(C1, txn), 1)
        self.assertAuditClean()

    def test_concurrent_copies_of_a_processing_payout(self):
        txn = unique("idem-race-proc")
        b0, c0 = self.api.funder_balance(BONUS), self.api.client_balance(PROCESSING_CLIENT)
        answers = self.race(20, lambda n: (txn, BONUS, PROCESSING_CLIENT, "3.33"))
        self.assertEqual({a.status for a in answers}, {200})
        self.assertTrue(all(a.json == answers[0].json for a in answers), "every copy gets the same answer")
        self.assertIn(answers[0].json["status"], ("PROCESSING", "SUCCESS"))
        self.assertEqual(self.wait_final(txn)["status"], "SUCCESS")
        self.assertEqual(b0 - self.api.funder_balance(BONUS), Decimal("3.33"))
        self.assertEqual(self.api.client_balance(PROCESSING_CLIENT) - c0, Decimal("3.33"))
        self.assertMoney(self.api.funder(BONUS)["reserved"], "0.00")
        self.assertEqual(self.count_in_history(PROCESSING_CLIENT, txn), 1)
        self.assertAuditClean()

    def race(self, copies, request_of):
        """Sends `copies` requests at once, each from its own thread and connection."""
        barrier = threading.Barrier(copies)

        def one(n):
            txn, funder, client, value = request_of(n)
            api = Api(self.server, keep_alive=False)
            barrier.wait(30)
            return api.payout(txn, funder, client, value)
        with ThreadPoolExecutor(copies) as pool:
            return list(pool.map(one, range(copies)))


if __name__ == "__main__":
    unittest.main()
