"""Overload: a full engine queue answers 503 service.unavailable, changes nothing, and a retry
with the same transactionId is safe (docs/qiwi.md, "Errors")."""
import os
import sys
import threading
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BONUS, CLIENTS, Api, Server, config_text, unique  # noqa: E402

CLIENT = next(iter(CLIENTS))


class OverloadTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        # A queue of one job: concurrent payouts overflow it at once.
        text = config_text()
        assert text.count("queue_jobs_max = 65536") == 1, "the sandbox config changed"
        path = os.path.join(cls.server.tmp, "overload.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("queue_jobs_max = 65536", "queue_jobs_max = 1"))
        cls.server.config = path
        try:
            cls.server.start()
        except BaseException:
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop(check=True)
        finally:
            cls.server.close()

    def balance(self, api):
        return Decimal(str(api.funder(BONUS)["balance"]["value"]))

    def test_full_queue_answers_503_and_changes_nothing(self):
        api = Api(self.server)
        before = self.balance(api)
        ids = [unique("ovl") for _ in range(160)]
        answers = {}
        lock = threading.Lock()

        def send(chunk):
            local = Api(self.server)
            try:
                for txn in chunk:
                    r = local.payout(txn, BONUS, CLIENT, "1.00")
                    with lock:
                        answers[txn] = r
            finally:
                local.close()

        threads = [threading.Thread(target=send, args=(ids[i::32],)) for i in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        ok = [t for t, r in answers.items() if r.status == 200]
        busy = [t for t, r in answers.items() if r.status == 503]
        self.assertEqual(len(ok) + len(busy), len(ids),
                         {r.status for r in answers.values()} - {200, 503})
        self.assertGreater(len(busy), 0, "a one-job queue under 32 concurrent clients never filled")
        for txn in busy:
            body = answers[txn].json
            self.assertEqual(body["errorCode"], "service.unavailable")
            self.assertEqual(body["serviceName"], "payoutd-payments")
            self.assertEqual(api.get_payout(txn).status, 404, f"{txn} was refused but exists")
        for txn in ok:
            self.assertEqual(answers[txn].json["status"], "SUCCESS")
        self.assertEqual(before - self.balance(api), Decimal(len(ok)))

        # A retry of each refused id, one at a time, goes through exactly once.
        for txn in busy:
            r = api.payout(txn, BONUS, CLIENT, "1.00")
            self.assertEqual((r.status, r.json["status"]), (200, "SUCCESS"), r.raw)
        self.assertEqual(before - self.balance(api), Decimal(len(ids)))
        self.assertEqual(self.server.run_audit()[0], 0)
        api.close()


if __name__ == "__main__":
    unittest.main()
